-- int_excluded_conversations (Kustomer, every route): conversations
-- int_conversation_disposition excludes, with the reason.

CREATE OR REPLACE TABLE int_excluded_conversations AS
SELECT conversation_id AS source_id, reason FROM int_conversation_disposition WHERE disposition = 'excluded';
