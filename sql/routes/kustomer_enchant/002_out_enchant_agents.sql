-- out_enchant_agents: Kustomer users → Enchant users, matched by email.

-- The fallback agent (destination.fallback_agent_email) is matched like
-- any other: it authors what no mapped user can.
CREATE OR REPLACE TABLE out_enchant_agents AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM int_excluded_users);
