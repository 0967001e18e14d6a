-- out_salesforce_queue_members: team members → GroupMember rows.

CREATE OR REPLACE TABLE out_salesforce_queue_members AS
SELECT DISTINCT q.source_id || ':' || u.source_id AS source_id, q.source_id AS queue_source_id, u.source_id AS user_source_id
FROM stg_teams t
JOIN out_salesforce_queues q ON q.source_id = t.team_id,
     unnest(t.member_ids) AS m(user_id)
JOIN out_salesforce_users u ON u.source_id = m.user_id;
