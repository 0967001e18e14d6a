-- out_kustomer_kb_categories: Help Center collections → knowledge-base
-- categories, nested as in Intercom (a collection's parent_id is its
-- parent collection; none: under the knowledge base's root). `depth`
-- orders the load, parents first: the guide creates each category once,
-- keeping the source id → Kustomer id map (ferry_id_map).
-- Names in the collection's default locale; the translated names of a
-- collection have no documented category write (source_fields.csv).

CREATE OR REPLACE TABLE out_kustomer_kb_categories AS
WITH RECURSIVE c AS (
    SELECT id AS source_id, nullif(json_extract_string(json, '$.parent_id'), '') AS parent_source_id, json
    FROM raw_intercom_collections
), tree AS (
    SELECT source_id, NULL::VARCHAR AS parent_source_id, 1 AS depth FROM c
    WHERE parent_source_id IS NULL OR parent_source_id NOT IN (SELECT source_id FROM c)
    UNION ALL
    SELECT c.source_id, c.parent_source_id, tree.depth + 1
    FROM c JOIN tree ON c.parent_source_id = tree.source_id
    WHERE tree.depth < 20
)
SELECT t.source_id, t.parent_source_id, t.depth,
       left(trim(json_extract_string(c.json, '$.name')), 255) AS title,
       coalesce(json_extract_string(c.json, '$.description'), '') AS description,
       kus_kb_lang(coalesce(json_extract_string(c.json, '$.default_locale'), 'en')) AS lang,
       TRY_CAST(json_extract_string(c.json, '$.order') AS INTEGER) AS position
FROM tree t JOIN c USING (source_id)
WHERE nullif(trim(json_extract_string(c.json, '$.name')), '') IS NOT NULL;
