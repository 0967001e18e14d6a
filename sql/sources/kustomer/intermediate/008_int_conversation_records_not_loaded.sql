-- int_conversation_records_not_loaded (Kustomer, every route): the
-- messages, notes and attachments of excluded and archived conversations
-- take their conversation's bucket and reason; messages and notes whose
-- conversation was never extracted are excluded as orphans; a message's
-- full content (message_contents) travels inside its message. Each route's
-- accounting adds these rows to what it outputs.

CREATE OR REPLACE TABLE int_conversation_records_not_loaded AS
SELECT 'messages' AS object, m.message_id AS source_id, d.disposition AS bucket, CASE d.disposition WHEN 'archived' THEN 'int_archive_conversations' ELSE 'int_excluded_conversations' END AS target, 'conversation ' || d.reason AS reason
          FROM stg_messages m JOIN int_conversation_disposition d USING (conversation_id) WHERE d.disposition <> 'load'
UNION ALL SELECT 'notes', n.note_id, d.disposition, CASE d.disposition WHEN 'archived' THEN 'int_archive_conversations' ELSE 'int_excluded_conversations' END, 'conversation ' || d.reason
          FROM stg_notes n JOIN int_conversation_disposition d USING (conversation_id) WHERE d.disposition <> 'load'
UNION ALL SELECT 'messages', message_id, 'excluded', 'stg_messages', 'orphan: its conversation ' || coalesce(conversation_id, '(none)') || ' was not extracted'
          FROM stg_messages WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT conversation_id FROM stg_conversations)
UNION ALL SELECT 'notes', note_id, 'excluded', 'stg_notes', 'orphan: its conversation ' || coalesce(conversation_id, '(none)') || ' was not extracted'
          FROM stg_notes WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT conversation_id FROM stg_conversations)
UNION ALL SELECT 'message_contents', message_id, 'merged', 'messages', 'the full body of message ' || message_id FROM stg_message_contents
UNION ALL SELECT 'attachments', a.attachment_id, d.disposition, CASE d.disposition WHEN 'archived' THEN 'int_archive_conversations' ELSE 'int_excluded_conversations' END, 'conversation ' || d.reason
          FROM stg_attachments a JOIN stg_messages m USING (message_id) JOIN int_conversation_disposition d USING (conversation_id)
          WHERE d.disposition <> 'load';
