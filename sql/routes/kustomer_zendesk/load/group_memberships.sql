-- Team members → group memberships, after both ends exist.
SELECT m.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN g.dest_id IS NULL THEN 'group ' || m.group_source_id || ' is not loaded'
            WHEN a.dest_id IS NULL THEN 'agent ' || m.agent_source_id || ' is not loaded' END AS hold,
       to_json({user_id: TRY_CAST(a.dest_id AS UBIGINT), group_id: TRY_CAST(g.dest_id AS UBIGINT)})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_zendesk_group_memberships m
LEFT JOIN ferry_loaded('groups') g ON g.source_id = m.group_source_id
LEFT JOIN ferry_loaded('agents') a ON a.source_id = m.agent_source_id
WHERE ferry_pending('group_memberships', m.source_id)
ORDER BY m.source_id
