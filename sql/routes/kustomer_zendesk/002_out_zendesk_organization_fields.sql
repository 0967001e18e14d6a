-- out_zendesk_organization_fields: Kustomer company custom attributes →
-- Zendesk organization fields (created before the organizations), and
-- the fields for what an organization has no place for.

CREATE OR REPLACE TABLE out_zendesk_organization_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_companies, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k)
-- Kustomer's own externalId, and the company's phones: an organization has
-- no phone (official spec, Organization), so a text field holds them.
UNION ALL SELECT 'kustomer_external_id', 'text', 'Kustomer externalId'
          WHERE EXISTS (SELECT 1 FROM stg_companies WHERE nullif(trim(kustomer_external_id), '') IS NOT NULL)
UNION ALL SELECT 'kustomer_phones', 'text', 'Kustomer phones'
          WHERE EXISTS (SELECT 1 FROM stg_companies WHERE len(phones) > 0);
