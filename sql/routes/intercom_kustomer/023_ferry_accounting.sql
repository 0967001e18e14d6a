-- ferry_accounting (Intercom → Kustomer): every source record ends in
-- exactly one bucket — output, merged (carried inside another record that
-- is output), archived or excluded — with a reason.
-- checks/unaccounted_records.sql fails on any record in none, or in two.

CREATE OR REPLACE TABLE ferry_accounting AS
SELECT 'admins' AS object, source_id, 'output' AS bucket, 'out_kustomer_users' AS target, 'matched to a Kustomer user by email' AS reason FROM out_kustomer_users
UNION ALL SELECT 'admins', admin_id, 'excluded', 'stg_admins', 'no email to match a Kustomer user by' FROM stg_admins WHERE email IS NULL
UNION ALL SELECT 'teams', source_id, 'output', 'out_kustomer_teams', 'found by name in Kustomer, or created (destination.teams)' FROM out_kustomer_teams
UNION ALL SELECT 'teams', team_id, 'excluded', 'stg_teams', 'no name to find or create a Kustomer team by' FROM stg_teams WHERE team_id NOT IN (SELECT source_id FROM out_kustomer_teams)
UNION ALL SELECT 'tags', tag_id, 'merged', 'out_kustomer_conversations.tag_names', 'applied by name to its conversations and customers' FROM stg_tags
-- Kustomer documents saved searches ("customer searches": GET
-- /v1/customers/searches, folders, pins) but no call that creates one
-- (kustomer-docs-2026.md §4b): a segment is a definition to rebuild by
-- hand, kept in the archive; `ferry probe` says so (unknown).
UNION ALL SELECT 'segments', id, 'archived', 'raw_intercom_segments', 'a filter to rebuild by hand as a Kustomer saved search: Kustomer documents reading saved searches (GET /v1/customers/searches) but no call that creates one (its members are in segment_members): kept for `ferry archive`' FROM raw_intercom_segments
UNION ALL SELECT 'segment_members', id, 'archived', 'raw_intercom_segment_members', 'membership of a segment, to rebuild its saved search by hand: kept for `ferry archive`' FROM raw_intercom_segment_members
UNION ALL SELECT 'data_attributes', source_id, 'output', 'out_kustomer_metadata', NULL FROM out_kustomer_metadata WHERE source_id NOT LIKE 'ferry:%'
UNION ALL SELECT 'data_attributes', source_id, 'excluded', 'int_excluded_attributes', reason FROM int_excluded_attributes
UNION ALL SELECT 'ticket_types', source_id, 'output', 'out_kustomer_klasses', 'a klass' FROM out_kustomer_klasses
UNION ALL SELECT 'collections', source_id, 'output', 'out_kustomer_kb_categories', 'a category of the knowledge base' FROM out_kustomer_kb_categories
UNION ALL SELECT 'collections', id, 'excluded', 'raw_intercom_collections', 'no name to give its category' FROM raw_intercom_collections WHERE id NOT IN (SELECT source_id FROM out_kustomer_kb_categories)
UNION ALL SELECT 'articles', source_id, 'output', 'out_kustomer_kb_articles', 'an article of the knowledge base, a version per language' FROM out_kustomer_kb_articles
UNION ALL SELECT 'article_images', id, 'merged', 'out_kustomer_kb_versions.images', 'the image itself in its article version''s body (a data: URI; Kustomer documents no knowledge-base image upload)' FROM raw_intercom_article_images
UNION ALL SELECT 'companies', source_id, 'output', 'out_kustomer_companies', NULL FROM out_kustomer_companies
UNION ALL SELECT 'contacts', source_id, 'output', 'out_kustomer_customers', NULL FROM out_kustomer_customers
UNION ALL SELECT 'contacts', contact_id, 'merged', 'out_kustomer_customers', reason FROM int_contact_merge
UNION ALL SELECT 'contact_notes', note_id, 'archived', 'stg_contact_notes', 'Kustomer notes belong to a conversation: a contact''s profile note is kept for `ferry archive`' FROM stg_contact_notes
UNION ALL SELECT 'conversations', source_id, 'output', 'out_kustomer_conversations', NULL FROM out_kustomer_conversations
UNION ALL SELECT 'conversations', source_id, 'excluded', 'int_excluded_conversations', reason FROM int_excluded_conversations
UNION ALL SELECT 'attachments', a.attachment_id,
       CASE WHEN a.part_id IN (SELECT source_id FROM out_kustomer_messages UNION ALL SELECT source_id FROM out_kustomer_notes) THEN 'output' ELSE 'excluded' END,
       'out_kustomer_messages.attachment_ids',
       CASE WHEN a.part_id NOT IN (SELECT source_id FROM out_kustomer_messages UNION ALL SELECT source_id FROM out_kustomer_notes) THEN 'its part ' || a.part_id || ' is not loaded' END
       FROM stg_attachments a
UNION ALL SELECT 'tickets', source_id, 'output', 'out_kustomer_kobjects', 'a KObject of its klass' FROM out_kustomer_kobjects
UNION ALL SELECT 'tickets', ticket_id, 'excluded', 'stg_tickets', 'its contact or ticket type was not extracted' FROM stg_tickets WHERE ticket_id NOT IN (SELECT source_id FROM out_kustomer_kobjects)
UNION ALL SELECT 'event_summaries', id, 'archived', 'raw_intercom_event_summaries', 'Kustomer''s tracking event create (POST /v1/tracking/event) has no time field and no count: a summary (name, count, first and last time) would land as one event of today — kept for `ferry archive`' FROM raw_intercom_event_summaries;
