-- int_klass_fields: Klasses → Zendesk custom objects starts here: every
-- klass property with the object part that holds it (objects are split
-- past the field limit), and for a reference to another KObject (Kustomer's
-- `Id` suffix) the klass it points at, as the data shows it: a klass's
-- metadata types the property `id` without naming the target.

CREATE OR REPLACE TABLE int_klass_fields AS
SELECT k.klass_id, k.name AS klass_name, f.key AS kustomer_key, f.pos,
       json_extract_string(k.properties, '$."' || f.key || '".type') AS kustomer_type,
       coalesce(json_extract_string(k.properties, '$."' || f.key || '".displayName'), f.key) AS title,
       -- Five fields of every part are ferry's: the lookups to the record's
       -- user and organization, and its description, external id and tags
       -- (out_zendesk_custom_object_fields).
       (f.pos - 1) // (CAST(setting('max_custom_object_fields') AS BIGINT) - 5) + 1 AS part_no,
       t.target_klass_id
FROM stg_klasses k
CROSS JOIN unnest(json_keys(coalesce(k.properties, '{}'::JSON))) WITH ORDINALITY AS f(key, pos)
LEFT JOIN int_kobject_reference_targets t ON t.klass_id = k.klass_id AND t.attribute = f.key;
