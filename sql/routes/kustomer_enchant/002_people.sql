-- 002 people: Kustomer customers sharing their primary email are one
-- Enchant customer (Enchant matches customers by contact email, so two
-- would collapse anyway); users → Enchant users, matched by email (the API
-- cannot create users).

CREATE OR REPLACE TABLE excluded_users AS
SELECT user_id AS source_id,
       CASE WHEN user_type = 'machine' THEN 'API/machine user' WHEN deleted THEN 'deleted in Kustomer'
            ELSE 'no email' END AS reason
FROM stg_users WHERE user_type = 'machine' OR deleted OR email IS NULL;

-- The fallback agent (destination.fallback_agent_email) is matched like
-- any other: it authors what no mapped user can.
CREATE OR REPLACE TABLE out_enchant_agents AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM excluded_users);
