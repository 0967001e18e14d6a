-- Ticket types → klasses, found by name first (an admin may have made
-- them), else created with the ticket type's attributes as `jsonSchema`
-- (the create schema's free-form field for the klass's record shape).
SELECT source_id, name AS external_id, NULL::VARCHAR AS hold,
       to_json({name: name, displayName: display_name, status: 'enabled', jsonSchema: json_schema})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_klasses WHERE ferry_pending('klasses', source_id)
ORDER BY source_id
