-- Messages and notes whose conversation was never extracted.
SELECT kind, source_id, conversation_id FROM comment_source
WHERE conversation_id IS NULL OR conversation_id NOT IN (SELECT conversation_id FROM stg_conversations);
