-- `ferry load --sample N`: a pilot of N conversations (the oldest, the
-- newest, the longest, one with files, one per state), topped up to N,
-- with exactly the records they need.
CREATE OR REPLACE TABLE load_sample AS
WITH t AS (
    SELECT c.*, (SELECT count(*) FROM out_kus_messages m WHERE m.conversation_source_id = c.source_id) AS n,
           (SELECT count(*) FROM stg_attachments a WHERE a.conversation_id = c.source_id) > 0 AS has_att
    FROM out_kus_conversations c
), picks AS (
    SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY n DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t WHERE has_att ORDER BY source_id LIMIT 1)
    UNION SELECT arg_min(source_id, source_id) FROM t GROUP BY state
), fill AS (
    SELECT source_id FROM t WHERE source_id NOT IN (SELECT source_id FROM picks)
    ORDER BY hash(source_id) LIMIT greatest(getvariable('ferry_sample_n') - (SELECT count(*) FROM picks), 0)
), convs AS (SELECT source_id FROM picks UNION SELECT source_id FROM fill),
cust AS (SELECT DISTINCT customer_source_id AS id FROM out_kus_conversations WHERE source_id IN (SELECT source_id FROM convs))
SELECT 'conversations' AS phase, source_id FROM convs
UNION ALL SELECT 'users', source_id FROM out_kus_users
UNION ALL SELECT 'metadata', source_id FROM out_kus_metadata
UNION ALL SELECT 'klasses', source_id FROM out_kus_klasses
UNION ALL SELECT 'customers', id FROM cust
UNION ALL SELECT 'companies', company_source_id FROM out_kus_customers WHERE source_id IN (SELECT id FROM cust) AND company_source_id IS NOT NULL
UNION ALL SELECT 'messages', source_id FROM out_kus_messages WHERE conversation_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'notes', source_id FROM out_kus_notes WHERE conversation_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'attachments', attachment_id FROM stg_attachments WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'kobjects', source_id FROM out_kus_kobjects WHERE customer_source_id IN (SELECT id FROM cust);
