-- Teams → Queues (Group, Type = Queue). Group takes no custom field: the
-- DeveloperName is the key, so a queue found by it (a rerun, or one an
-- admin made) is adopted instead of created twice.
SELECT source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({Name: name, DeveloperName: developer_name, Type: 'Queue'})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_queues
WHERE ferry_pending('queues', source_id)
ORDER BY source_id
