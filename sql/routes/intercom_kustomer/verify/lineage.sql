-- verify, route part: which destination rows the route outputs, and which
-- source records each carries (see sql/verify/funnel.sql).
CREATE OR REPLACE TEMP TABLE verify_rows AS
          SELECT 'users' AS phase, source_id FROM out_kustomer_users
UNION ALL SELECT 'teams', source_id FROM out_kustomer_teams
UNION ALL SELECT 'metadata', source_id FROM out_kustomer_metadata
UNION ALL SELECT 'klasses', source_id FROM out_kustomer_klasses
UNION ALL SELECT 'companies', source_id FROM out_kustomer_companies
UNION ALL SELECT 'customers', source_id FROM out_kustomer_customers
UNION ALL SELECT 'conversations', source_id FROM out_kustomer_conversations
UNION ALL SELECT 'messages', source_id FROM out_kustomer_messages
UNION ALL SELECT 'notes', source_id FROM out_kustomer_notes
UNION ALL SELECT 'snoozes', source_id FROM out_kustomer_conversations WHERE state = 'snoozed' AND snoozed_until > get_current_timestamp()
UNION ALL SELECT 'attachments', attachment_id FROM stg_attachments
          WHERE part_id IN (SELECT source_id FROM out_kustomer_messages UNION ALL SELECT source_id FROM out_kustomer_notes)
UNION ALL SELECT 'kobjects', source_id FROM out_kustomer_kobjects
UNION ALL SELECT 'kb_categories', source_id FROM out_kustomer_kb_categories
UNION ALL SELECT 'kb_articles', source_id FROM out_kustomer_kb_articles
UNION ALL SELECT 'kb_versions', source_id FROM out_kustomer_kb_versions;

-- A conversation is loaded once it, every message and note of its
-- thread, and its snooze (if it is snoozed) are.
CREATE OR REPLACE TEMP TABLE verify_lineage AS
          SELECT 'admins' AS object, source_id, 'users' AS phase, source_id AS row_id FROM out_kustomer_users
UNION ALL SELECT 'teams', source_id, 'teams', source_id FROM out_kustomer_teams
UNION ALL SELECT 'data_attributes', source_id, 'metadata', source_id FROM out_kustomer_metadata WHERE source_id NOT LIKE 'ferry:%'
UNION ALL SELECT 'ticket_types', source_id, 'klasses', source_id FROM out_kustomer_klasses
UNION ALL SELECT 'companies', source_id, 'companies', source_id FROM out_kustomer_companies
UNION ALL SELECT 'contacts', source_id, 'customers', source_id FROM out_kustomer_customers
UNION ALL SELECT 'conversations', source_id, 'conversations', source_id FROM out_kustomer_conversations
UNION ALL SELECT 'conversations', conversation_source_id, 'messages', source_id FROM out_kustomer_messages
UNION ALL SELECT 'conversations', conversation_source_id, 'notes', source_id FROM out_kustomer_notes
UNION ALL SELECT 'conversations', source_id, 'snoozes', source_id FROM out_kustomer_conversations
          WHERE state = 'snoozed' AND snoozed_until > get_current_timestamp()
UNION ALL SELECT 'attachments', attachment_id, 'attachments', attachment_id FROM stg_attachments
          WHERE part_id IN (SELECT source_id FROM out_kustomer_messages UNION ALL SELECT source_id FROM out_kustomer_notes)
UNION ALL SELECT 'tickets', source_id, 'kobjects', source_id FROM out_kustomer_kobjects
UNION ALL SELECT 'collections', source_id, 'kb_categories', source_id FROM out_kustomer_kb_categories
-- An article is loaded once it and every one of its languages are.
UNION ALL SELECT 'articles', source_id, 'kb_articles', source_id FROM out_kustomer_kb_articles
UNION ALL SELECT 'articles', article_source_id, 'kb_versions', source_id FROM out_kustomer_kb_versions
UNION ALL SELECT 'tags', source_id, NULL, NULL FROM ferry_accounting WHERE object = 'tags' AND bucket <> 'excluded';
