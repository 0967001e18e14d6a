-- Source records in no bucket (output, merged, archived, excluded), or in two.
WITH acc AS (SELECT object, source_id, count(*) AS buckets FROM ferry_accounting GROUP BY ALL)
SELECT s.object, s.source_id, coalesce(a.buckets, 0) AS buckets
FROM ferry_extracted s LEFT JOIN acc a ON a.object = s.object AND a.source_id = s.source_id
WHERE coalesce(a.buckets, 0) <> 1;
