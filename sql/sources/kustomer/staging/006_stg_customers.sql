-- stg_customers (Kustomer staging): one row per Kustomer record of customers.

CREATE OR REPLACE TABLE stg_customers AS
SELECT id AS customer_id,
       coalesce(nullif(trim(clean_text(s.attributes.name)), ''),
                nullif(trim(clean_text(s.attributes.displayName)), '')) AS name,
       list_filter(list_transform(coalesce(s.attributes.emails, []), lambda e: lower(trim(e.email))),
                   lambda e: e IS NOT NULL AND e <> '') AS emails,
       list_filter(list_transform(coalesce(s.attributes.phones, []), lambda p: p.phone),
                   lambda p: p IS NOT NULL AND trim(p) <> '') AS phones,
       s.relationships.company.data.id AS company_id,
       s.attributes.externalId AS kustomer_external_id,
       s.attributes.locale AS locale,
       coalesce(s.attributes.tags, []) AS tag_ids,
       s.attributes.custom AS custom,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "displayName": "VARCHAR", "emails": [{"email": "VARCHAR"}],
                       "phones": [{"phone": "VARCHAR"}], "externalId": "VARCHAR", "locale": "VARCHAR",
                       "tags": ["VARCHAR"], "custom": "JSON", "deleted": "JSON"},
        "relationships": {"company": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_customers);
