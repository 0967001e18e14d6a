-- int_excluded_empty_conversations: conversations with nothing to import.

-- Conversations with no comments at all cannot be imported (Zendesk needs one).
CREATE OR REPLACE TABLE int_excluded_empty_conversations AS
SELECT d.conversation_id AS source_id, 'no messages or notes' AS reason
FROM int_conversation_disposition d
WHERE d.disposition = 'load' AND d.conversation_id NOT IN (SELECT conversation_id FROM int_ticket_parts);
