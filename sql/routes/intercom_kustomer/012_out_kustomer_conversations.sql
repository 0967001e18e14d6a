-- out_kustomer_conversations: state changes (open, close, snooze,
-- assignment…) are no records in Kustomer: the conversation's status,
-- assignee and custom attributes carry their outcome. Intercom's
-- subject, Fin's part, links to tickets and conversations (as Intercom
-- names them: `ticket 5000001`) and the customer's rating are ferry's
-- custom attributes (out_kustomer_metadata).

CREATE OR REPLACE TABLE out_kustomer_conversations AS
SELECT c.conversation_id AS source_id, k.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(c.title), ''), nullif(ic_html_text(s.body), ''), 'Intercom conversation ' || c.conversation_id), 256) AS name,
       coalesce(m.kustomer_status, 'open') AS status, c.state,
       CASE WHEN c.priority = 'priority' THEN 4 ELSE 3 END AS priority,
       CASE WHEN c.delivered_as = 'admin_initiated' THEN 'out' ELSE 'in' END AS direction,
       list_distinct(coalesce(c.tag_names, []))[1:20] AS tag_names,
       c.admin_assignee_id, c.team_assignee_id,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomStateStr: c.state, snoozedUntilAt: kus_time(c.snoozed_until),
                                 intercomSubjectStr: left(c.subject, 1024),
                                 intercomAiAgentParticipatedBool: c.ai_agent_participated,
                                 intercomLinkedObjectsStr: left(nullif(array_to_string(c.linked_objects, ', '), ''), 1024),
                                 intercomRatingNum: c.rating, intercomRatingRemarkTxt: c.rating_remark,
                                 intercomRatedAt: kus_time(c.rating_created_at)})) AS custom,
       c.channel, c.snoozed_until, c.created_at, c.parts_total, c.parts_read
FROM stg_conversations c
JOIN int_contact_canonical k ON k.contact_id = c.contact_id
LEFT JOIN state_map m ON m.intercom_state = c.state
LEFT JOIN stg_parts s ON s.part_id = c.conversation_id || ':source'
LEFT JOIN int_custom_values v ON v.resource = 'conversation' AND v.record_id = c.conversation_id
WHERE c.conversation_id NOT IN (SELECT source_id FROM int_excluded_conversations);
