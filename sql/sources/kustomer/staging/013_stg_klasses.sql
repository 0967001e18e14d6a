-- stg_klasses (Kustomer staging): one row per Kustomer record of klasses (custom object types).

CREATE OR REPLACE TABLE stg_klasses AS
SELECT id AS klass_id,
       s.attributes.name AS name,
       s.attributes.displayName AS display_name,
       s.attributes.metadata.properties AS properties
FROM (SELECT id, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "displayName": "VARCHAR", "metadata": {"properties": "JSON"}}}') AS s
      FROM raw_kustomer_klasses);
