-- int_comment_source: messages and notes → Zendesk comments start here:
-- one row each, with their author. Which conversations load, are excluded
-- or archived: the source layer's int_conversation_disposition (by
-- seeds/transform_settings.csv).

-- Which conversations load, are excluded or archived: the source layer's
-- intermediate/002_conversation_disposition.sql (by seeds/transform_settings.csv).
-- Messages and notes of one conversation, one row each, with their author.
CREATE OR REPLACE TABLE int_comment_source AS
SELECT 'message' AS kind, m.message_id AS source_id, m.conversation_id, m.sent_at AS created_at,
       -- An inline image ferry has no bytes for becomes a placeholder.
       kustomer_drop_gone_images(m.body, g.gone) AS body, m.body ILIKE '%<html%' OR m.body ILIKE '%<p>%' OR m.body ILIKE '%<br%' AS is_html,
       true AS public,
       CASE WHEN m.direction = 'in' THEN 'customer' ELSE 'agent' END AS author_kind,
       CASE WHEN m.direction = 'in' THEN cc.canonical_id ELSE m.created_by END AS author_source_id,
       m.attachment_ids
FROM stg_messages m
LEFT JOIN stg_conversations c USING (conversation_id)
LEFT JOIN int_customer_canonical cc ON cc.customer_id = coalesce(c.customer_id, m.customer_id)
LEFT JOIN (SELECT message_id, list({src: src, file_name: file_name}) AS gone
           FROM int_gone_inline_images GROUP BY message_id) g ON g.message_id = m.message_id
UNION ALL
SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, false, false, 'agent', n.created_by, []::VARCHAR[]
FROM stg_notes n;
