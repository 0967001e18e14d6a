-- int_long_body_attachments: bodies over the limit that become an
-- attached file (long_body_mode = attachment).

-- Bodies moved to an attachment (long_body_mode = attachment).
CREATE OR REPLACE TABLE int_long_body_attachments AS
SELECT s.source_id, s.conversation_id, 'message-' || s.source_id || '.html' AS file_name, s.body AS content, length(s.body) AS chars
FROM int_comment_source s JOIN int_comment_chunks c ON c.source_id = s.source_id AND c.moved_to_attachment;
