-- out_zendesk_user_identities: each user's secondary emails and phones.

-- Secondary emails and phones (the primary email is the user's `email`).
CREATE OR REPLACE TABLE out_zendesk_user_identities AS
SELECT user_source_id || ':' || type || ':' || value AS source_id, user_source_id, type, value
FROM int_customer_identities
WHERE NOT is_primary
ORDER BY user_source_id, type, value;
