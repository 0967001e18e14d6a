-- Klasses → custom objects with their fields.
SELECT o.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({key: o.key, title: o.title, title_pluralized: o.title || 's',
                fields: coalesce((SELECT list(CASE WHEN f.relationship_target_type IS NULL
                                                   THEN to_json({key: f.key, type: f.type, title: f.title})
                                                   ELSE to_json({key: f.key, type: f.type, title: f.title,
                                                                 relationship_target_type: f.relationship_target_type}) END
                                              ORDER BY f.position)
                                  FROM out_zendesk_custom_object_fields f WHERE f.object_key = o.key), [])})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_zendesk_custom_objects o
WHERE ferry_pending('custom_objects', o.source_id)
-- An object whose lookups point at other custom objects after those.
ORDER BY (SELECT count(*) FROM out_zendesk_custom_object_fields f
          WHERE f.object_key = o.key AND f.relationship_target_type LIKE 'zen:custom_object:%'), o.source_id
