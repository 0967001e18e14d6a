-- 003 tickets: the conversations that load (the source layer's
-- intermediate/002_conversation_disposition.sql), their messages and notes in
-- source order, and the ticket each becomes. Enchant creates only email
-- tickets, with no state, labels or times: state and labels go in a PATCH
-- after the messages; channel, times and the Kustomer id go in a header
-- note, and each message's author and time in its own header.

-- Messages and notes of loaded conversations, one row each, in order.
-- Customer messages become inbound replies; agent messages and notes
-- become notes (an agent reply as an outbound reply would email the
-- customer: load/messages.sql only does that with a sandbox inbox).
CREATE OR REPLACE TABLE out_enchant_messages AS
WITH src AS (
    SELECT 'message' AS kind, m.message_id AS source_id, m.conversation_id, m.sent_at AS created_at,
           m.body, m.direction, m.channel, m.created_by AS author_user_id, m.attachment_ids
    FROM stg_messages m
    UNION ALL
    SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, NULL, 'note', n.created_by, []::VARCHAR[]
    FROM stg_notes n
)
SELECT s.kind, s.source_id, s.conversation_id, s.created_at, s.body,
       s.body ILIKE '%<html%' OR s.body ILIKE '%<p>%' OR s.body ILIKE '%<br%' OR s.body ILIKE '%<div%' AS is_html,
       CASE WHEN s.kind = 'message' AND s.direction = 'in' THEN 'customer' ELSE 'agent' END AS author_kind,
       s.direction, s.channel, s.author_user_id, s.attachment_ids,
       row_number() OVER (PARTITION BY s.conversation_id ORDER BY s.created_at, s.kind, s.source_id) AS position,
       u.name AS author_name, u.email AS author_email
FROM src s
JOIN conversation_disposition d ON d.conversation_id = s.conversation_id AND d.disposition = 'load'
LEFT JOIN stg_users u ON u.user_id = s.author_user_id;

CREATE OR REPLACE TABLE out_enchant_tickets AS
WITH conv AS (
    SELECT * FROM int_conversations_to_load
), first_message AS (
    SELECT conversation_id, arg_min(body, position) AS body FROM out_enchant_messages GROUP BY ALL
), tags AS (
    SELECT conv.conversation_id,
           list(DISTINCT lm.enchant_label_id ORDER BY lm.enchant_label_id) FILTER (WHERE nullif(trim(lm.enchant_label_id), '') IS NOT NULL) AS label_ids,
           list(DISTINCT g.name ORDER BY g.name) AS tag_names,
           list(DISTINCT g.name ORDER BY g.name) FILTER (WHERE lm.kustomer_tag IS NULL) AS unmapped
    FROM conv, unnest(conv.tag_ids) AS t(tag_id)
    JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted
    LEFT JOIN label_map lm ON lm.kustomer_tag = g.name
    GROUP BY ALL
)
SELECT c.conversation_id AS source_id,
       c.customer_source_id,
       c.assignee_user_id AS assignee_source_id,
       left(coalesce(nullif(trim(c.subject), ''),
                     nullif(trim(left(regexp_replace(fm.body, '<[^>]*>', ' ', 'g'), 120)), ''),
                     '(no subject)'), 250) AS subject,
       c.status AS kustomer_status,
       sm.enchant_state AS state,
       coalesce(tg.label_ids, []::VARCHAR[]) AS label_ids,
       coalesce(tg.tag_names, []::VARCHAR[]) AS tag_names,
       coalesce(tg.unmapped, []::VARCHAR[]) AS unmapped_tags,
       (SELECT nullif(trim(im.enchant_inbox_id), '') FROM inbox_map im
        JOIN stg_teams tm ON tm.name = im.kustomer_team WHERE tm.team_id = c.assigned_team_ids[1]) AS inbox_id,
       c.channel, c.priority, c.created_at, c.updated_at, c.done_at
FROM conv c
LEFT JOIN first_message fm USING (conversation_id)
LEFT JOIN tags tg USING (conversation_id)
LEFT JOIN status_map sm ON sm.kustomer_status = c.status;
