-- stg_companies (Kustomer staging): one row per Kustomer record of companies.

CREATE OR REPLACE TABLE stg_companies AS
SELECT id AS company_id,
       s.attributes.name AS name,
       s.attributes.externalId AS kustomer_external_id,
       list_transform(coalesce(s.attributes.domains, []), lambda d: lower(trim(d))) AS domains,
       list_filter(list_transform(coalesce(s.attributes.phones, []), lambda p: p.phone),
                   lambda p: p IS NOT NULL AND trim(p) <> '') AS phones,
       coalesce(s.attributes.tags, []) AS tag_ids,
       s.attributes.custom AS custom,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "externalId": "VARCHAR", "domains": ["VARCHAR"],
                       "phones": [{"phone": "VARCHAR"}], "tags": ["VARCHAR"], "custom": "JSON"}}') AS s
      FROM raw_kustomer_companies);
