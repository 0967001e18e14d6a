-- out_salesforce_users: Kustomer users → existing Salesforce Users,
-- matched by email at load (never created).

CREATE OR REPLACE TABLE out_salesforce_users AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM int_excluded_users);
