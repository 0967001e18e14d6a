-- A raw view: the newest version of every landed record of one object.
-- {parts} is the object's Parquet parts (read_parquet of their glob).
-- Most ids are landed once and stream straight through; only the ids
-- landed more than once go through the window that picks the newest
-- (latest updated_at, then latest extraction). `id` is never NULL in a raw
-- part (see land::raw_schema), so NOT IN cannot meet a NULL.
WITH landed_twice AS (SELECT id FROM {parts} GROUP BY id HAVING count(*) > 1)
SELECT * FROM {parts} WHERE id NOT IN (SELECT id FROM landed_twice)
UNION ALL
(SELECT * FROM {parts} WHERE id IN (SELECT id FROM landed_twice)
 QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC NULLS LAST, extracted_at DESC) = 1)
