-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Kustomer and compares: the sampled
-- conversations' name and custom attributes, their contacts' name, custom
-- attributes, role and external id, and those contacts' companies.
--
-- Expected values come from the raw Intercom JSON (raw_intercom_*) by the
-- rules in verify_field_rules; ferry_id_map says which record each source
-- record became. A source path declared dropped (seeds/field_map.csv) is
-- left out by the engine: the field ledger reports it as a gap instead.

CREATE OR REPLACE TABLE verify_field_rules AS
SELECT * FROM (VALUES
    ('custom attributes', 'an Intercom data attribute becomes the Kustomer attribute named by its name in camelCase plus the suffix of its type (seeds/attribute_types.csv); a conversation attribute is text (Str)'),
    ('custom attribute values', 'text up to 1,024 characters; numbers and booleans as they are; a date (Unix seconds) as its time'),
    ('conversation name', 'the title, else compared by the sample'),
    ('contact', 'role and external_id in custom.intercomRoleStr and custom.intercomExternalIdStr; a contact merged into another is compared through the one it became')
) AS t(field, rule);

CREATE OR REPLACE MACRO vf_value(suffix, v) AS CASE
    WHEN suffix = 'At' AND TRY_CAST(json_extract_string(v, '$') AS BIGINT) IS NOT NULL
        THEN to_json(strftime(CAST(to_timestamp(TRY_CAST(json_extract_string(v, '$') AS BIGINT)) AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'))
    WHEN suffix = 'Str' THEN to_json(left(json_extract_string(v, '$'), 1024))
    ELSE v END;

CREATE OR REPLACE TABLE verify_expected_fields AS
WITH types AS (
    -- Each custom data attribute's Kustomer name, from the raw data
    -- attributes and the declared type table.
    SELECT CASE json_extract_string(d.json, '$.model') WHEN 'contact' THEN 'contacts' ELSE 'companies' END AS object,
           json_extract_string(d.json, '$.name') AS intercom_name,
           kus_camel(json_extract_string(d.json, '$.name')) || t.kustomer_suffix AS kustomer_name, t.kustomer_suffix AS suffix
    FROM raw_intercom_data_attributes d
    JOIN attribute_types t ON t.intercom_type = json_extract_string(d.json, '$.data_type')
    WHERE coalesce(TRY_CAST(json_extract_string(d.json, '$.custom') AS BOOLEAN), false)
      AND NOT coalesce(TRY_CAST(json_extract_string(d.json, '$.archived') AS BOOLEAN), false)
), convs AS (
    SELECT s.source_id, s.dest_id, r.json
    FROM verify_sample s JOIN raw_intercom_conversations r ON r.id = s.source_id
), contacts AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM convs c
    JOIN ferry_id_map m ON m.dest = 'kustomer' AND m.dest_object = 'customers'
                       AND m.source_id = json_extract_string(c.json, '$.contacts.contacts[0].id')
    JOIN raw_intercom_contacts r ON r.id = m.source_id
), companies AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM contacts p
    JOIN ferry_id_map m ON m.dest = 'kustomer' AND m.dest_object = 'companies'
                       AND m.source_id = json_extract_string(p.json, '$.companies.data[0].id')
    JOIN raw_intercom_companies r ON r.id = m.source_id
)
SELECT 'conversations' AS source_object, 'title' AS source_path, c.source_id, 'conversations' AS dest_object, c.dest_id,
       'name' AS field, 'attributes.name' AS dest_path,
       to_json(left(trim(json_extract_string(c.json, '$.title')), 256)) AS expected
FROM convs c
WHERE nullif(trim(json_extract_string(c.json, '$.title')), '') IS NOT NULL
UNION ALL
SELECT 'conversations', 'custom_attributes.' || x.k, c.source_id, 'conversations', c.dest_id,
       'custom.' || kus_camel(x.k) || 'Str', 'attributes.custom.' || kus_camel(x.k) || 'Str',
       vf_value('Str', json_extract(c.json, '$.custom_attributes."' || x.k || '"'))
FROM convs c, unnest(json_keys(coalesce(json_extract(c.json, '$.custom_attributes'), '{}'::JSON))) AS x(k)
WHERE json_type(json_extract(c.json, '$.custom_attributes."' || x.k || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'contacts', 'custom_attributes.' || t.intercom_name, p.source_id, 'customers', p.dest_id,
       'custom.' || t.kustomer_name, 'attributes.custom.' || t.kustomer_name,
       vf_value(t.suffix, json_extract(p.json, '$.custom_attributes."' || t.intercom_name || '"'))
FROM contacts p JOIN types t ON t.object = 'contacts'
WHERE json_type(json_extract(p.json, '$.custom_attributes."' || t.intercom_name || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'contacts', 'name', p.source_id, 'customers', p.dest_id, 'name', 'attributes.name', json_extract(p.json, '$.name')
FROM contacts p WHERE nullif(trim(json_extract_string(p.json, '$.name')), '') IS NOT NULL
UNION ALL
SELECT 'contacts', 'role', p.source_id, 'customers', p.dest_id, 'custom.intercomRoleStr', 'attributes.custom.intercomRoleStr',
       json_extract(p.json, '$.role')
FROM contacts p
UNION ALL
SELECT 'contacts', 'external_id', p.source_id, 'customers', p.dest_id, 'custom.intercomExternalIdStr',
       'attributes.custom.intercomExternalIdStr', json_extract(p.json, '$.external_id')
FROM contacts p
UNION ALL
SELECT 'companies', 'custom_attributes.' || t.intercom_name, o.source_id, 'companies', o.dest_id,
       'custom.' || t.kustomer_name, 'attributes.custom.' || t.kustomer_name,
       vf_value(t.suffix, json_extract(o.json, '$.custom_attributes."' || t.intercom_name || '"'))
FROM companies o JOIN types t ON t.object = 'companies'
WHERE json_type(json_extract(o.json, '$.custom_attributes."' || t.intercom_name || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'companies', 'name', o.source_id, 'companies', o.dest_id, 'name', 'attributes.name', json_extract(o.json, '$.name')
FROM companies o;

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
