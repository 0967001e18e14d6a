-- 007 custom objects: Klasses → Zendesk custom objects (split into several
-- objects past the field limit), KObjects → custom object records (records
-- over the size limit are trimmed and archived whole, with the reason).

CREATE OR REPLACE TABLE klass_fields AS
SELECT k.klass_id, k.name AS klass_name, f.key AS kustomer_key, f.pos,
       json_extract_string(k.properties, '$."' || f.key || '".type') AS kustomer_type,
       coalesce(json_extract_string(k.properties, '$."' || f.key || '".displayName'), f.key) AS title,
       (f.pos - 1) // CAST(setting('max_custom_object_fields') AS BIGINT) + 1 AS part_no
FROM stg_klasses k, unnest(json_keys(coalesce(k.properties, '{}'::JSON))) WITH ORDINALITY AS f(key, pos);

CREATE OR REPLACE MACRO object_key(name, part) AS
    regexp_replace(lower(name), '[^a-z0-9_]', '_', 'g') || CASE WHEN part > 1 THEN '_' || part ELSE '' END;

CREATE OR REPLACE TABLE out_zendesk_custom_objects AS
SELECT k.klass_id || ':' || p.part_no AS source_id, k.klass_id, object_key(k.name, p.part_no) AS key,
       coalesce(k.display_name, k.name) || CASE WHEN p.parts > 1 THEN ' (' || p.part_no || '/' || p.parts || ')' ELSE '' END AS title,
       p.part_no, p.parts AS part_count, p.fields AS field_count
FROM stg_klasses k
JOIN (SELECT klass_id, part_no, count(*) AS fields, max(part_no) OVER (PARTITION BY klass_id) AS parts
      FROM klass_fields GROUP BY klass_id, part_no) p USING (klass_id)
UNION ALL
-- A klass without fields is still an object.
SELECT k.klass_id || ':1', k.klass_id, object_key(k.name, 1), coalesce(k.display_name, k.name), 1, 1, 0
FROM stg_klasses k WHERE k.klass_id NOT IN (SELECT klass_id FROM klass_fields);

CREATE OR REPLACE TABLE out_zendesk_custom_object_fields AS
SELECT object_key(klass_name, part_no) AS object_key, zd_field_key(kustomer_key) AS key, kustomer_key,
       CASE kustomer_type WHEN 'number' THEN 'decimal' WHEN 'date' THEN 'date' WHEN 'boolean' THEN 'checkbox'
                          WHEN 'text' THEN 'textarea' ELSE 'text' END AS type,
       title, pos AS position
FROM klass_fields;

-- Each custom value goes to the object part that holds its field, in field
-- order. Built row by row from each part's key list (a few rows per klass)
-- rather than by unnesting every value and aggregating it back: the
-- aggregate held every record's values in one hash table.
CREATE OR REPLACE TABLE kobject_parts AS
WITH part_keys AS (
    SELECT klass_id, part_no, list({'k': kustomer_key, 't': kustomer_type} ORDER BY pos) AS keys
    FROM klass_fields GROUP BY klass_id, part_no
)
SELECT ko.kobject_id, ko.klass_id, o.part_no, o.part_count, o.key AS object_key,
       -- A key the record does not have extracts to SQL NULL (a JSON null
       -- value is the JSON 'null', which is kept).
       coalesce(to_json(map_from_entries(list_filter(
           -- Date fields take YYYY-MM-DD (zd_date).
           list_transform(pk.keys, lambda k: {'key': zd_field_key(k.k), 'value': CASE WHEN k.t = 'date'
               THEN zd_date(json_extract(ko.custom, '$."' || k.k || '"')) ELSE json_extract(ko.custom, '$."' || k.k || '"') END}),
           lambda e: e.value IS NOT NULL))), '{}'::JSON) AS fields,
       ko.title, ko.customer_id, ko.company_id, ko.created_at
FROM stg_kobjects ko
JOIN out_zendesk_custom_objects o ON o.klass_id = ko.klass_id
LEFT JOIN part_keys pk ON pk.klass_id = ko.klass_id AND pk.part_no = o.part_no;

-- Records over the limit: long text values are cut to 1,000 characters in
-- Zendesk; the full record is archived.
CREATE OR REPLACE TABLE archive_kobjects AS
SELECT kobject_id AS source_id, object_key, fields AS full_fields,
       'record is ' || strlen(fields::VARCHAR) || ' bytes, over Zendesk''s ' || setting('max_record_bytes')
       || ' bytes per custom object record: long text trimmed in Zendesk, full record archived here' AS reason
FROM kobject_parts WHERE strlen(fields::VARCHAR) > CAST(setting('max_record_bytes') AS BIGINT);

CREATE OR REPLACE TABLE out_zendesk_custom_object_records AS
SELECT p.kobject_id || CASE WHEN p.part_count > 1 THEN ':' || p.part_no ELSE '' END AS source_id,
       p.kobject_id, p.object_key,
       p.kobject_id || CASE WHEN p.part_count > 1 THEN ':' || p.part_no ELSE '' END AS external_id,
       coalesce(nullif(trim(p.title), ''), p.kobject_id) AS name,
       CASE WHEN a.source_id IS NULL THEN p.fields ELSE
           to_json(map_from_entries(list_transform(json_keys(p.fields), lambda k: {'key': k, 'value':
               CASE WHEN json_type(json_extract(p.fields, '$."' || k || '"')) = 'VARCHAR'
                         AND length(json_extract_string(p.fields, '$."' || k || '"')) > 1000
                    THEN to_json(left(json_extract_string(p.fields, '$."' || k || '"'), 1000))
                    ELSE json_extract(p.fields, '$."' || k || '"') END}))) END AS fields,
       a.source_id IS NOT NULL AS trimmed,
       cc.canonical_id AS user_source_id,
       co.canonical_id AS organization_source_id,
       p.created_at
FROM kobject_parts p
LEFT JOIN archive_kobjects a ON a.source_id = p.kobject_id AND a.object_key = p.object_key
LEFT JOIN customer_canonical cc ON cc.customer_id = p.customer_id
LEFT JOIN company_canonical co ON co.company_id = p.company_id;
