-- 004 agents and groups: Kustomer users → Zendesk agents (matched by email,
-- overridable in seeds/agent_map.csv), teams → groups (renamable in
-- seeds/team_group_map.csv), team members → group memberships.
-- Machine users (API keys) are not people: they are excluded with a reason.

CREATE OR REPLACE TABLE excluded_users AS
SELECT user_id AS source_id, 'machine user (API key), not an agent' AS reason
FROM stg_users WHERE user_type = 'machine';

CREATE OR REPLACE TABLE out_zendesk_agents AS
SELECT u.user_id AS source_id,
       coalesce(nullif(lower(trim(m.zendesk_email)), ''), u.email) AS email,
       u.name,
       'agent' AS role,
       NOT u.deleted AS active,
       u.created_at
FROM stg_users u
LEFT JOIN agent_map m ON lower(trim(m.kustomer_email)) = u.email
WHERE u.user_id NOT IN (SELECT source_id FROM excluded_users);

CREATE OR REPLACE TABLE excluded_teams AS
SELECT team_id AS source_id, 'team deleted in Kustomer' AS reason FROM stg_teams WHERE deleted;

CREATE OR REPLACE TABLE out_zendesk_groups AS
SELECT t.team_id AS source_id,
       coalesce(nullif(trim(m.zendesk_group), ''), t.name) AS name
FROM stg_teams t
LEFT JOIN team_group_map m ON m.kustomer_team = t.name
WHERE t.team_id NOT IN (SELECT source_id FROM excluded_teams);

CREATE OR REPLACE TABLE out_zendesk_group_memberships AS
SELECT g.source_id || ':' || a.source_id AS source_id, g.source_id AS group_source_id, a.source_id AS agent_source_id
FROM stg_teams t
JOIN out_zendesk_groups g ON g.source_id = t.team_id,
     unnest(t.member_ids) AS mm(user_id)
JOIN out_zendesk_agents a ON a.source_id = mm.user_id;
