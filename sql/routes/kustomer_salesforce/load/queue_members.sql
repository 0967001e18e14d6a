-- Team members → GroupMembers of the Queue; a member with no Salesforce
-- User is held (the agents phase names them).
SELECT m.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN u.dest_id IS NULL THEN 'user ' || m.user_source_id || ' is not loaded' END AS hold,
       to_json({GroupId: g.dest_id, UserOrGroupId: u.dest_id})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_queue_members m
JOIN ferry_loaded('queues') g ON g.source_id = m.queue_source_id
LEFT JOIN ferry_loaded('agents') u ON u.source_id = m.user_source_id
WHERE ferry_pending('queue_members', m.source_id)
ORDER BY m.source_id
