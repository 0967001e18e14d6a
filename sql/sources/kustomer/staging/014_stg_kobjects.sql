-- stg_kobjects (Kustomer staging): one row per Kustomer record of KObjects (custom object records).

CREATE OR REPLACE TABLE stg_kobjects AS
SELECT id AS kobject_id,
       s.relationships.klass.data.id AS klass_id,
       s.relationships.customer.data.id AS customer_id,
       s.relationships.company.data.id AS company_id,
       s.attributes.title AS title,
       s.attributes.description AS description,
       s.attributes.externalId AS kustomer_external_id,
       coalesce(s.attributes.tags, []) AS tag_ids,
       s.attributes.custom AS custom,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"title": "VARCHAR", "description": "VARCHAR", "externalId": "VARCHAR",
                       "tags": ["VARCHAR"], "custom": "JSON"},
        "relationships": {"klass": {"data": {"id": "VARCHAR"}}, "customer": {"data": {"id": "VARCHAR"}},
                          "company": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_kobjects);
