-- int_archive_conversations (Kustomer, every route): conversations
-- int_conversation_disposition archives, with the reason.

CREATE OR REPLACE TABLE int_archive_conversations AS
SELECT conversation_id AS source_id, reason FROM int_conversation_disposition WHERE disposition = 'archived';
