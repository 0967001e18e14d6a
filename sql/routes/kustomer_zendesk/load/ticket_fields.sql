-- One Zendesk ticket field (ticket fields have no key: tickets reference them by id) per custom attribute key, created before the
-- records that carry values for it.
-- Columns of every load query: source_id, external_id, hold (why the row
-- cannot be sent yet, or NULL), payload (the JSON item), path_arg.
SELECT f.key AS source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       CASE WHEN f.relationship_target_type IS NULL THEN to_json({type: f.type, title: f.kustomer_key})
            ELSE to_json({type: f.type, title: f.kustomer_key, relationship_target_type: f.relationship_target_type})
       END::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_zendesk_ticket_fields f
WHERE ferry_pending('ticket_fields', f.key)
ORDER BY f.key
