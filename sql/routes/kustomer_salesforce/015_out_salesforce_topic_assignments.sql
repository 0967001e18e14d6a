-- out_salesforce_topic_assignments: tags on Cases, Contacts and Leads as
-- TopicAssignments (the route's mapping: tags → Topic/TopicAssignment "on
-- Cases and on Contacts/Leads"; an admin enables Topics for each of those
-- objects, Setup → Topics for Objects). A person's tags are those of every
-- customer merged into it.
CREATE OR REPLACE TABLE out_salesforce_topic_assignments AS
SELECT DISTINCT c.source_id || ':' || tp.source_id AS source_id, 'case' AS entity_kind,
       c.source_id AS entity_source_id, tp.source_id AS topic_source_id
FROM out_salesforce_cases c
JOIN stg_conversations sc ON sc.conversation_id = c.source_id,
     unnest(sc.tag_ids) AS t(tag_id)
JOIN out_salesforce_topics tp ON tp.source_id = t.tag_id
UNION
SELECT DISTINCT 'person:' || p.source_id || ':' || tp.source_id, p.sobject, p.source_id, tp.source_id
FROM int_customer_people p
JOIN int_customer_canonical k ON k.canonical_id = p.source_id
JOIN stg_customers s ON s.customer_id = k.customer_id,
     unnest(s.tag_ids) AS t(tag_id)
JOIN out_salesforce_topics tp ON tp.source_id = t.tag_id;
