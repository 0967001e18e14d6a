-- out_zendesk_custom_objects: Klasses → Zendesk custom objects.

CREATE OR REPLACE TABLE out_zendesk_custom_objects AS
SELECT k.klass_id || ':' || p.part_no AS source_id, k.klass_id, zd_object_key(k.name, p.part_no) AS key,
       coalesce(k.display_name, k.name) || CASE WHEN p.parts > 1 THEN ' (' || p.part_no || '/' || p.parts || ')' ELSE '' END AS title,
       p.part_no, p.parts AS part_count, p.fields AS field_count
FROM stg_klasses k
JOIN (SELECT klass_id, part_no, count(*) AS fields, max(part_no) OVER (PARTITION BY klass_id) AS parts
      FROM int_klass_fields GROUP BY klass_id, part_no) p USING (klass_id)
UNION ALL
-- A klass without fields is still an object.
SELECT k.klass_id || ':1', k.klass_id, zd_object_key(k.name, 1), coalesce(k.display_name, k.name), 1, 1, 0
FROM stg_klasses k WHERE k.klass_id NOT IN (SELECT klass_id FROM int_klass_fields);
