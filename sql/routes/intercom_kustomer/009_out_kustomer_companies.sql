-- out_kustomer_companies: Intercom companies → Kustomer companies.

CREATE OR REPLACE TABLE out_kustomer_companies AS
SELECT c.company_id AS source_id, coalesce(nullif(trim(c.name), ''), 'Company ' || c.company_id) AS name,
       CASE WHEN c.website IS NOT NULL THEN [{domain: regexp_extract(c.website, '^(?:https?://)?(?:www\.)?([^/:?#]+)', 1)}] END AS domains,
       coalesce(v.custom, '{}'::JSON) AS custom, c.created_at
FROM stg_companies c LEFT JOIN int_custom_values v ON v.resource = 'company' AND v.record_id = c.company_id;
