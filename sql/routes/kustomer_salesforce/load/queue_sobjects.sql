-- Each Queue takes Cases (QueueSobject, SobjectType = Case): without it a
-- Case cannot be owned by the queue.
SELECT q.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({QueueId: g.dest_id, SobjectType: 'Case'})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_queues q
JOIN ferry_loaded('queues') g ON g.source_id = q.source_id
WHERE ferry_pending('queue_sobjects', q.source_id)
ORDER BY q.source_id
