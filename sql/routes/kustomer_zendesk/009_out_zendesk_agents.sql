-- out_zendesk_agents: Kustomer users → Zendesk agents (matched by email,
-- overridable in seeds/agent_map.csv).

CREATE OR REPLACE TABLE out_zendesk_agents AS
SELECT u.user_id AS source_id,
       coalesce(nullif(lower(trim(m.zendesk_email)), ''), u.email) AS email,
       u.name,
       'agent' AS role,
       NOT u.deleted AS active,
       u.created_at
FROM stg_users u
LEFT JOIN agent_map m ON lower(trim(m.kustomer_email)) = u.email
WHERE u.user_id NOT IN (SELECT source_id FROM int_excluded_users);
