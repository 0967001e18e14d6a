-- Tags as TopicAssignments on their Case, Contact or Lead (needs Topics
-- enabled for the object), once that record is loaded.
SELECT a.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({EntityId: e.dest_id, TopicId: t.dest_id})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_topic_assignments a
JOIN ferry_loaded('topics') t ON t.source_id = a.topic_source_id
JOIN (SELECT 'case' AS kind, source_id, dest_id FROM ferry_loaded('cases')
      UNION ALL SELECT 'contact', source_id, dest_id FROM ferry_loaded('contacts')
      UNION ALL SELECT 'lead', source_id, dest_id FROM ferry_loaded('leads')) e
  ON e.kind = a.entity_kind AND e.source_id = a.entity_source_id
WHERE ferry_pending('topic_assignments', a.source_id)
ORDER BY a.entity_kind, a.entity_source_id, a.source_id
