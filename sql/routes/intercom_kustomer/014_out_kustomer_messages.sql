-- out_kustomer_messages: the first message (`source`) and `comment`
-- parts of each conversation.

CREATE OR REPLACE TABLE out_kustomer_messages AS
SELECT p.part_id AS source_id, p.conversation_id AS conversation_source_id, c.customer_source_id, p.position,
       coalesce(ch.kustomer_channel, 'chat') AS channel,
       CASE WHEN p.author_type IN ('admin', 'bot', 'team') THEN 'out' ELSE 'in' END AS direction,
       CASE WHEN p.author_type = 'admin' THEN p.author_id END AS author_admin_id,
       p.author_name, p.author_email, ic_inline_placeholders(p.body, coalesce(f.inline_names, [])) AS body,
       left(ic_html_text(ic_inline_placeholders(p.body, coalesce(f.inline_names, []))), 10240) AS preview,
       CASE WHEN p.part_type = 'source' THEN left(nullif(p.subject, ''), 256) END AS subject,
       p.created_at, coalesce(f.attachment_ids, []) AS attachment_ids
FROM stg_parts p
JOIN out_kustomer_conversations c ON c.source_id = p.conversation_id
LEFT JOIN channel_map ch ON ch.intercom_source = c.channel
LEFT JOIN int_part_files f ON f.part_id = p.part_id
WHERE p.part_type IN ('source', 'comment') AND coalesce(p.body, '') <> '';
