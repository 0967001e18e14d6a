-- `ferry load --sample N`: a pilot of N representative conversations (the
-- oldest, the newest, the longest, one with attachments, one per status),
-- topped up to N, with exactly the records they need.
CREATE OR REPLACE TABLE load_sample AS
WITH t AS (
    SELECT t.*, coalesce(c.n, 0) AS n_messages, coalesce(c.att, false) AS has_att
    FROM out_sf_cases t
    LEFT JOIN (SELECT conversation_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
               FROM out_sf_messages GROUP BY ALL) c ON c.conversation_id = t.source_id
), picks AS (
    SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY n_messages DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t WHERE has_att ORDER BY source_id LIMIT 1)
    UNION SELECT arg_min(source_id, source_id) FROM t GROUP BY status
), fill AS (
    SELECT source_id FROM t WHERE source_id NOT IN (SELECT source_id FROM picks)
    ORDER BY hash(source_id) LIMIT greatest(getvariable('ferry_sample_n') - (SELECT count(*) FROM picks), 0)
), convs AS (SELECT source_id FROM picks UNION SELECT source_id FROM fill)
SELECT 'cases' AS phase, source_id FROM convs
UNION ALL SELECT 'contacts', contact_source_id FROM out_sf_cases WHERE source_id IN (SELECT source_id FROM convs) AND contact_source_id IS NOT NULL
UNION ALL SELECT 'leads', customer_source_id FROM out_sf_cases WHERE source_id IN (SELECT source_id FROM convs) AND contact_source_id IS NULL AND customer_source_id IS NOT NULL
UNION ALL SELECT 'accounts', account_source_id FROM out_sf_cases WHERE source_id IN (SELECT source_id FROM convs) AND account_source_id IS NOT NULL
UNION ALL SELECT 'agents', source_id FROM out_sf_users
UNION ALL SELECT 'email_messages', source_id FROM out_sf_messages WHERE kind = 'message' AND conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'case_comments', source_id FROM out_sf_messages WHERE kind = 'note' AND conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'files', unnest(attachment_ids) FROM out_sf_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'queues', source_id FROM out_sf_queues
UNION ALL SELECT 'queue_sobjects', source_id FROM out_sf_queues
UNION ALL SELECT 'queue_members', source_id FROM out_sf_queue_members
UNION ALL SELECT 'topics', topic_source_id FROM out_sf_topic_assignments WHERE case_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'topic_assignments', source_id FROM out_sf_topic_assignments WHERE case_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'file_links', source_id FROM out_sf_file_links WHERE message_row IN (SELECT source_id FROM out_sf_messages WHERE conversation_id IN (SELECT source_id FROM convs));
