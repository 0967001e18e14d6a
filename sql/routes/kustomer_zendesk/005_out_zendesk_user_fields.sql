-- out_zendesk_user_fields: Kustomer customer custom attributes → Zendesk
-- user fields (created before the users).

CREATE OR REPLACE TABLE out_zendesk_user_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_customers, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k)
-- Kustomer's own externalId (the user's external_id is the Kustomer id,
-- ferry's key for resuming and delta passes).
UNION ALL SELECT 'kustomer_external_id', 'text', 'Kustomer externalId'
          WHERE EXISTS (SELECT 1 FROM stg_customers WHERE nullif(trim(kustomer_external_id), '') IS NOT NULL);
