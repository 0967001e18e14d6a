-- A Case's tags as TopicAssignments (needs Topics enabled for Case).
SELECT a.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({EntityId: c.dest_id, TopicId: t.dest_id})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_topic_assignments a
JOIN ferry_loaded('cases') c ON c.source_id = a.case_source_id
JOIN ferry_loaded('topics') t ON t.source_id = a.topic_source_id
WHERE ferry_pending('topic_assignments', a.source_id)
ORDER BY a.case_source_id, a.source_id
