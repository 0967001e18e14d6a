-- out_kustomer_notes: `note` parts, and notes on contacts.

CREATE OR REPLACE TABLE out_kustomer_notes AS
SELECT p.part_id AS source_id, p.conversation_id AS conversation_source_id, p.position,
       CASE WHEN p.author_type = 'admin' THEN p.author_id END AS author_admin_id, p.author_name,
       ic_inline_placeholders(p.body, coalesce(f.inline_names, [])) AS body, p.created_at, coalesce(f.attachment_ids, []) AS attachment_ids
FROM stg_parts p
JOIN out_kustomer_conversations c ON c.source_id = p.conversation_id
LEFT JOIN int_part_files f ON f.part_id = p.part_id
WHERE p.part_type = 'note' AND coalesce(p.body, '') <> '';
