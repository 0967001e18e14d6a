-- out_zendesk_organization_fields: Kustomer company custom attributes →
-- Zendesk organization fields (created before the organizations).

CREATE OR REPLACE TABLE out_zendesk_organization_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_companies, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k);
