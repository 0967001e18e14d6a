-- out_zendesk_user_fields: Kustomer customer custom attributes → Zendesk
-- user fields (created before the users).

CREATE OR REPLACE TABLE out_zendesk_user_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_customers, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k);
