-- out_kustomer_klasses: ticket types → klasses.

CREATE OR REPLACE TABLE out_kustomer_klasses AS
SELECT t.ticket_type_id AS source_id,
       'intercom-' || array_to_string(list_filter(regexp_split_to_array(lower(t.name), '[^a-z0-9]+'), lambda x: x <> ''), '-') AS name,
       t.name AS display_name,
       concat_ws(' ', nullif(trim(t.description), ''), '(Intercom category: ' || t.category || ')') AS description,
       to_json({type: 'object',
                properties: coalesce((SELECT to_json(map_from_entries(list({'key': f.name, 'value': f.property} ORDER BY f.ord, f.name)))
                                      FROM int_klass_fields f WHERE f.ticket_type_id = t.ticket_type_id), '{}'::JSON),
                required: coalesce((SELECT list(f.name ORDER BY f.ord, f.name) FROM int_klass_fields f
                                    WHERE f.ticket_type_id = t.ticket_type_id AND f.required), [])}) AS json_schema
FROM stg_ticket_types t;
