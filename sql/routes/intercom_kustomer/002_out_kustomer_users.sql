-- out_kustomer_users: Intercom admins → Kustomer users (matched by email
-- at load, or created: destination.unmatched_agents).

CREATE OR REPLACE TABLE out_kustomer_users AS
SELECT admin_id AS source_id, email, name FROM stg_admins WHERE email IS NOT NULL;
