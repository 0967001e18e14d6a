-- out_salesforce_topic_assignments: tags on Cases.

-- Tags on Cases as TopicAssignments (tags_as = topics).
CREATE OR REPLACE TABLE out_salesforce_topic_assignments AS
SELECT DISTINCT c.source_id || ':' || tp.source_id AS source_id, c.source_id AS case_source_id, tp.source_id AS topic_source_id
FROM out_salesforce_cases c
JOIN stg_conversations sc ON sc.conversation_id = c.source_id,
     unnest(sc.tag_ids) AS t(tag_id)
JOIN out_salesforce_topics tp ON tp.source_id = t.tag_id;
