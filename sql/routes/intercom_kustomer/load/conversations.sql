-- Conversations of loaded customers, 100 a bulk request, with their
-- original time, status, priority, tags (by name), assignee and team (a
-- team still held is left off: the conversation does not wait for it).
WITH undeclared AS (
    SELECT count(*) AS n FROM out_kustomer_metadata m
    WHERE m.resource = 'conversation' AND m.source_id NOT IN (SELECT source_id FROM ferry_loaded('metadata'))
)
SELECT c.source_id, c.source_id AS external_id,
       CASE WHEN (SELECT n FROM undeclared) > 0 THEN 'custom attributes of conversations are not declared yet (phase metadata)'
            WHEN cu.dest_id IS NULL THEN 'its customer ' || c.customer_source_id || ' is not loaded' END AS hold,
       to_json({externalId: c.source_id, customer: cu.dest_id, name: c.name, status: c.status,
                priority: c.priority, direction: c.direction, tags: c.tag_names,
                assignedUsers: CASE WHEN u.dest_id IS NOT NULL THEN [u.dest_id] ELSE [] END,
                assignedTeams: CASE WHEN t.dest_id IS NOT NULL THEN [t.dest_id] ELSE [] END,
                custom: c.custom, createdAt: kus_time(c.created_at), importedAt: kus_now()})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_conversations c
LEFT JOIN ferry_loaded('customers') cu ON cu.source_id = c.customer_source_id
LEFT JOIN ferry_loaded('users') u ON u.source_id = c.admin_assignee_id
LEFT JOIN ferry_loaded('teams') t ON t.source_id = c.team_assignee_id
WHERE ferry_pending('conversations', c.source_id)
ORDER BY c.created_at, c.source_id
