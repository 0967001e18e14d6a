-- `ferry load --sample N`: a pilot of N representative conversations (the
-- oldest, the newest, the longest, one with attachments, one per state),
-- topped up to N, with exactly the records they need.
CREATE OR REPLACE TABLE load_sample AS
WITH t AS (
    SELECT t.*, coalesce(c.n, 0) AS n_messages, coalesce(c.att, false) AS has_att
    FROM out_enchant_tickets t
    LEFT JOIN (SELECT conversation_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
               FROM out_enchant_messages GROUP BY ALL) c ON c.conversation_id = t.source_id
), picks AS (
    SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY created_at DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t ORDER BY n_messages DESC, source_id LIMIT 1)
    UNION SELECT source_id FROM (SELECT source_id FROM t WHERE has_att ORDER BY source_id LIMIT 1)
    UNION SELECT arg_min(source_id, source_id) FROM t GROUP BY state
), fill AS (
    SELECT source_id FROM t WHERE source_id NOT IN (SELECT source_id FROM picks)
    ORDER BY hash(source_id) LIMIT greatest(getvariable('ferry_sample_n') - (SELECT count(*) FROM picks), 0)
), convs AS (SELECT source_id FROM picks UNION SELECT source_id FROM fill)
SELECT 'tickets' AS phase, source_id FROM convs
UNION ALL SELECT 'ticket_state', source_id FROM convs
UNION ALL SELECT 'customers', customer_source_id FROM out_enchant_tickets WHERE source_id IN (SELECT source_id FROM convs) AND customer_source_id IS NOT NULL
UNION ALL SELECT 'agents', source_id FROM out_enchant_agents
UNION ALL SELECT 'agents', 'ferry:fallback'
UNION ALL SELECT 'messages', source_id FROM out_enchant_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'attachments', unnest(attachment_ids) FROM out_enchant_messages WHERE conversation_id IN (SELECT source_id FROM convs)
UNION ALL SELECT 'kobject_notes', source_id FROM out_enchant_kobject_notes WHERE ticket_source_id IN (SELECT source_id FROM convs);
