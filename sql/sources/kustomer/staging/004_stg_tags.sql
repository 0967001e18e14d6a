-- stg_tags (Kustomer staging): one row per Kustomer record of tags.

CREATE OR REPLACE TABLE stg_tags AS
SELECT id AS tag_id,
       s.attributes.name AS name,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted
FROM (SELECT id, json_transform(json, '{"attributes": {"name": "VARCHAR", "deleted": "JSON"}}') AS s
      FROM raw_kustomer_tags);
