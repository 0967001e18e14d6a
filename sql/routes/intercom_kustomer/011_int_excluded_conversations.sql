-- int_excluded_conversations: conversations that do not load, with why.

CREATE OR REPLACE TABLE int_excluded_conversations AS
SELECT conversation_id AS source_id, 'its contact ' || coalesce(contact_id, '(none)') || ' was not extracted' AS reason
FROM stg_conversations
WHERE contact_id IS NULL OR contact_id NOT IN (SELECT contact_id FROM stg_contacts);
