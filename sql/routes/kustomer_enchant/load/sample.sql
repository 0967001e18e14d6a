-- `ferry load --sample N`: a pilot of N representative conversations (the
-- oldest, the newest, the longest, one with attachments, one per state),
-- topped up to N, with exactly the records they need.
CREATE OR REPLACE TEMP VIEW pilot_candidates AS
SELECT t.source_id AS conversation_id, t.source_id AS row_id, t.created_at,
       coalesce(c.n, 0) AS n_items, coalesce(c.att, false) AS has_files, false AS is_split, t.state AS kind
FROM out_enchant_tickets t
LEFT JOIN (SELECT conversation_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
           FROM out_enchant_messages GROUP BY ALL) c ON c.conversation_id = t.source_id;
CREATE OR REPLACE TABLE load_sample AS
WITH convs AS (SELECT conversation_id AS source_id FROM ferry_pilot('pilot_candidates'))
SELECT 'tickets' AS phase, source_id FROM convs
UNION ALL SELECT 'ticket_state', source_id FROM convs
UNION ALL SELECT 'customers', customer_source_id FROM out_enchant_tickets WHERE source_id IN (SELECT source_id FROM convs) AND customer_source_id IS NOT NULL
UNION ALL SELECT 'agents', source_id FROM out_enchant_agents
UNION ALL SELECT 'agents', 'ferry:fallback'
UNION ALL SELECT 'messages', source_id FROM out_enchant_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'attachments', unnest(attachment_ids) FROM out_enchant_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'kobject_notes', source_id FROM out_enchant_kobject_notes WHERE ticket_source_id IN (SELECT source_id FROM convs);
