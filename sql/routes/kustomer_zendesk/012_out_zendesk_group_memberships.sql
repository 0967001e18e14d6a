-- out_zendesk_group_memberships: team members → group memberships.

CREATE OR REPLACE TABLE out_zendesk_group_memberships AS
SELECT g.source_id || ':' || a.source_id AS source_id, g.source_id AS group_source_id, a.source_id AS agent_source_id
FROM stg_teams t
JOIN out_zendesk_groups g ON g.source_id = t.team_id,
     unnest(t.member_ids) AS mm(user_id)
JOIN out_zendesk_agents a ON a.source_id = mm.user_id;
