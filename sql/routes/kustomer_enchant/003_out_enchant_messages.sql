-- out_enchant_messages: messages and notes of the conversations that load
-- (the source layer's int_conversation_disposition), in source order.
-- Each message's author and time go in its own header; the ticket's
-- channel, times and Kustomer id in a header note.

-- Messages and notes of loaded conversations, one row each, in order.
-- Customer messages become inbound replies; agent messages and notes
-- become notes (an agent reply as an outbound reply would email the
-- customer: load/messages.sql only does that with a sandbox inbox).
-- Inline images: Enchant's API gives an attachment no URL a body could
-- show (enchant-api.md §7: upload, then reference by id), so each image
-- travels as a file of its message (int_attached_images of the source
-- layer, with its placeholder rule).
CREATE OR REPLACE TABLE out_enchant_messages AS
WITH src AS (
    SELECT 'message' AS kind, m.message_id AS source_id, m.conversation_id, m.sent_at AS created_at,
           kustomer_attached_body(m.body, i.hosted, i.gone) AS body,
           m.direction, m.channel, m.subject, m.email_from, m.email_to, m.created_by AS author_user_id,
           m.attachment_ids || coalesce(i.image_ids, []) AS attachment_ids, coalesce(i.image_ids, []) AS inline_image_ids
    FROM stg_messages m
    LEFT JOIN int_attached_images i USING (message_id)
    UNION ALL
    SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, NULL, 'note', NULL, NULL, NULL, n.created_by, []::VARCHAR[], []::VARCHAR[]
    FROM stg_notes n
)
SELECT s.kind, s.source_id, s.conversation_id, s.created_at, s.body,
       s.body ILIKE '%<html%' OR s.body ILIKE '%<p>%' OR s.body ILIKE '%<br%' OR s.body ILIKE '%<div%' AS is_html,
       CASE WHEN s.kind = 'message' AND s.direction = 'in' THEN 'customer' ELSE 'agent' END AS author_kind,
       s.direction, s.channel, s.subject, s.email_from, s.email_to, s.author_user_id, s.attachment_ids, s.inline_image_ids,
       row_number() OVER (PARTITION BY s.conversation_id ORDER BY s.created_at, s.kind, s.source_id) AS position,
       u.name AS author_name, u.email AS author_email
FROM src s
JOIN int_conversation_disposition d ON d.conversation_id = s.conversation_id AND d.disposition = 'load'
LEFT JOIN stg_users u ON u.user_id = s.author_user_id;
