-- `ferry load --sample N`: a pilot of N representative conversations (the
-- oldest, the newest, the longest, one with attachments, one per status),
-- topped up to N, with exactly the records they need.
CREATE OR REPLACE TEMP VIEW pilot_candidates AS
SELECT t.source_id AS conversation_id, t.source_id AS row_id, t.created_at,
       coalesce(c.n, 0) AS n_items, coalesce(c.att, false) AS has_files, false AS is_split, t.status AS kind
FROM out_salesforce_cases t
LEFT JOIN (SELECT conversation_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
           FROM out_salesforce_messages GROUP BY ALL) c ON c.conversation_id = t.source_id;
CREATE OR REPLACE TABLE load_sample AS
WITH convs AS (SELECT conversation_id AS source_id FROM ferry_pilot('pilot_candidates')),
pilot_topic_assignments AS (
    -- The tags of the pilot's Cases and of their people.
    SELECT a.* FROM out_salesforce_topic_assignments a
    WHERE (a.entity_kind = 'case' AND a.entity_source_id IN (SELECT source_id FROM convs))
       OR (a.entity_kind IN ('contact', 'lead')
           AND a.entity_source_id IN (SELECT customer_source_id FROM out_salesforce_cases WHERE source_id IN (SELECT source_id FROM convs)))
)
SELECT 'cases' AS phase, source_id FROM convs
UNION ALL SELECT 'contacts', contact_source_id FROM out_salesforce_cases WHERE source_id IN (SELECT source_id FROM convs) AND contact_source_id IS NOT NULL
UNION ALL SELECT 'leads', customer_source_id FROM out_salesforce_cases WHERE source_id IN (SELECT source_id FROM convs) AND contact_source_id IS NULL AND customer_source_id IS NOT NULL
UNION ALL SELECT 'accounts', account_source_id FROM out_salesforce_cases WHERE source_id IN (SELECT source_id FROM convs) AND account_source_id IS NOT NULL
UNION ALL SELECT 'agents', source_id FROM out_salesforce_users
UNION ALL SELECT 'email_messages', source_id FROM out_salesforce_messages WHERE kind = 'message' AND conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'case_comments', source_id FROM out_salesforce_messages WHERE kind = 'note' AND conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'files', unnest(attachment_ids) FROM out_salesforce_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'queues', source_id FROM out_salesforce_queues
UNION ALL SELECT 'queue_sobjects', source_id FROM out_salesforce_queues
UNION ALL SELECT 'queue_members', source_id FROM out_salesforce_queue_members
UNION ALL SELECT 'topics', topic_source_id FROM pilot_topic_assignments
UNION ALL SELECT 'topic_assignments', source_id FROM pilot_topic_assignments
UNION ALL SELECT 'email_relations', r.source_id FROM out_salesforce_email_relations r
          JOIN out_salesforce_messages m ON m.source_id = r.message_row WHERE m.conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'file_links', source_id FROM out_salesforce_file_links WHERE message_row IN (SELECT source_id FROM out_salesforce_messages WHERE conversation_id IN (SELECT source_id FROM convs));
