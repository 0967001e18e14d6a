-- `ferry load --sample N`: a pilot of N conversations (the oldest, the
-- newest, the longest, one with files, one per state), topped up to N,
-- with exactly the records they need.
CREATE OR REPLACE TEMP VIEW pilot_candidates AS
SELECT c.source_id AS conversation_id, c.source_id AS row_id, c.created_at,
       (SELECT count(*) FROM out_kustomer_messages m WHERE m.conversation_source_id = c.source_id) AS n_items,
       (SELECT count(*) FROM stg_attachments a WHERE a.conversation_id = c.source_id) > 0 AS has_files,
       false AS is_split, c.state AS kind
FROM out_kustomer_conversations c;
CREATE OR REPLACE TABLE load_sample AS
WITH convs AS (SELECT conversation_id AS source_id FROM ferry_pilot('pilot_candidates')),
cust AS (SELECT DISTINCT customer_source_id AS id FROM out_kustomer_conversations WHERE source_id IN (SELECT source_id FROM convs))
SELECT 'conversations' AS phase, source_id FROM convs
UNION ALL SELECT 'users', source_id FROM out_kustomer_users
UNION ALL SELECT 'metadata', source_id FROM out_kustomer_metadata
UNION ALL SELECT 'klasses', source_id FROM out_kustomer_klasses
UNION ALL SELECT 'customers', id FROM cust
UNION ALL SELECT 'companies', company_source_id FROM out_kustomer_customers WHERE source_id IN (SELECT id FROM cust) AND company_source_id IS NOT NULL
UNION ALL SELECT 'messages', source_id FROM out_kustomer_messages WHERE conversation_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'notes', source_id FROM out_kustomer_notes WHERE conversation_source_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'attachments', attachment_id FROM stg_attachments WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'kobjects', source_id FROM out_kustomer_kobjects WHERE customer_source_id IN (SELECT id FROM cust);
