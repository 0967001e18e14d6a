-- 005 tickets → KObjects: each ticket type is a klass (`intercom-<name>`),
-- created if the org lacks it, its `jsonSchema` made from the ticket
-- type's attributes; each ticket a KObject of its customer with its
-- attributes in `data` (as Intercom names them, so the schema applies).

-- A ticket type's live attributes, as JSON Schema properties: Intercom's
-- data types (string, list, integer, decimal, boolean, datetime — a Unix
-- time —, files) to JSON types; a list's option labels as its `enum`.
CREATE OR REPLACE TABLE klass_fields AS
SELECT t.ticket_type_id, json_extract_string(a, '$.name') AS name,
       json_extract_string(a, '$.data_type') AS data_type,
       coalesce(TRY_CAST(json_extract(a, '$.order') AS INTEGER), 0) AS ord,
       coalesce(TRY_CAST(json_extract(a, '$.required_to_create') AS BOOLEAN), false) AS required,
       json_merge_patch(
           json_object('type', CASE json_extract_string(a, '$.data_type')
                                   WHEN 'integer' THEN 'integer' WHEN 'datetime' THEN 'integer'
                                   WHEN 'decimal' THEN 'number' WHEN 'boolean' THEN 'boolean'
                                   WHEN 'files' THEN 'array' ELSE 'string' END,
                       'title', json_extract_string(a, '$.name'),
                       'description', coalesce(nullif(json_extract_string(a, '$.description'), ''),
                                               'Intercom ' || json_extract_string(a, '$.data_type') || ' attribute')),
           CASE WHEN json_extract_string(a, '$.data_type') = 'list'
                THEN json_object('enum', json_extract(a, '$.input_options.list_options[*].label'))
                ELSE '{}'::JSON END) AS property
FROM stg_ticket_types t, unnest(CAST(json_extract(t.attributes, '$[*]') AS JSON[])) AS u(a)
WHERE json_type(t.attributes) = 'ARRAY'
  AND NOT coalesce(TRY_CAST(json_extract(a, '$.archived') AS BOOLEAN), false);

CREATE OR REPLACE TABLE out_kus_klasses AS
SELECT t.ticket_type_id AS source_id,
       'intercom-' || array_to_string(list_filter(regexp_split_to_array(lower(t.name), '[^a-z0-9]+'), lambda x: x <> ''), '-') AS name,
       t.name AS display_name, t.description,
       to_json({type: 'object',
                properties: coalesce((SELECT to_json(map_from_entries(list({'key': f.name, 'value': f.property} ORDER BY f.ord, f.name)))
                                      FROM klass_fields f WHERE f.ticket_type_id = t.ticket_type_id), '{}'::JSON),
                required: coalesce((SELECT list(f.name ORDER BY f.ord, f.name) FROM klass_fields f
                                    WHERE f.ticket_type_id = t.ticket_type_id AND f.required), [])}) AS json_schema
FROM stg_ticket_types t;

CREATE OR REPLACE TABLE out_kus_kobjects AS
SELECT t.ticket_id AS source_id, k.name AS klass_name, t.ticket_type_id, cc.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(t.title), ''), 'Intercom ticket ' || t.ticket_id), 256) AS title,
       t.description, t.attributes, t.state, t.created_at
FROM stg_tickets t
JOIN out_kus_klasses k ON k.source_id = t.ticket_type_id
JOIN contact_canonical cc ON cc.contact_id = t.contact_id;
