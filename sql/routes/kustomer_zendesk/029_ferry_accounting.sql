-- ferry_accounting (Kustomer → Zendesk): every source record ends in
-- exactly one bucket — output, merged (into another record that is
-- output), archived or excluded — with a reason.
-- checks/unaccounted_records.sql fails on any record in none.

CREATE OR REPLACE TABLE ferry_accounting AS
-- companies
SELECT 'companies' AS object, source_id, 'output' AS bucket, 'out_zendesk_organizations' AS target, NULL AS reason FROM out_zendesk_organizations
UNION ALL SELECT 'companies', company_id, 'merged', 'out_zendesk_organizations', reason || ' → ' || into_company_id FROM int_company_merge
-- customers
UNION ALL SELECT 'customers', source_id, 'output', 'out_zendesk_users', NULL FROM out_zendesk_users
UNION ALL SELECT 'customers', customer_id, 'merged', 'out_zendesk_users', reason || ' → ' || into_customer_id FROM int_customer_merge
-- users, teams, tags
UNION ALL SELECT 'users', source_id, 'output', 'out_zendesk_agents', NULL FROM out_zendesk_agents
UNION ALL SELECT 'users', source_id, 'excluded', 'int_excluded_users', reason FROM int_excluded_users
UNION ALL SELECT 'teams', source_id, 'output', 'out_zendesk_groups', NULL FROM out_zendesk_groups
UNION ALL SELECT 'teams', source_id, 'excluded', 'int_excluded_teams', reason FROM int_excluded_teams
UNION ALL SELECT 'tags', tag_id, CASE WHEN deleted THEN 'excluded' ELSE 'output' END, 'out_zendesk_tickets.tags',
                 CASE WHEN deleted THEN 'tag deleted in Kustomer' ELSE 'used as ticket/user tag ' || zd_tag(name) END FROM stg_tags
-- conversations
UNION ALL SELECT DISTINCT 'conversations', conversation_id, 'output', 'out_zendesk_tickets', NULL FROM out_zendesk_tickets
UNION ALL SELECT 'conversations', source_id, 'excluded', 'int_excluded_conversations', reason FROM int_excluded_conversations
UNION ALL SELECT 'conversations', source_id, 'archived', 'int_archive_conversations', reason FROM int_archive_conversations
UNION ALL SELECT 'conversations', source_id, 'excluded', 'int_excluded_empty_conversations', reason FROM int_excluded_empty_conversations
-- messages and notes: output as comments, or follow their conversation
UNION ALL SELECT DISTINCT 'messages', source_record_id, 'output', 'out_zendesk_comments', NULL FROM out_zendesk_comments WHERE source_kind = 'message'
UNION ALL SELECT DISTINCT 'notes', source_record_id, 'output', 'out_zendesk_comments', NULL FROM out_zendesk_comments WHERE source_kind = 'note'
UNION ALL SELECT CASE s.kind WHEN 'message' THEN 'messages' ELSE 'notes' END, s.source_id,
                 d.disposition, CASE d.disposition WHEN 'archived' THEN 'int_archive_conversations' ELSE 'int_excluded_conversations' END, 'conversation ' || d.reason
          FROM int_comment_source s JOIN int_conversation_disposition d USING (conversation_id) WHERE d.disposition <> 'load'
UNION ALL SELECT CASE s.kind WHEN 'message' THEN 'messages' ELSE 'notes' END, s.source_id, 'excluded', 'int_comment_source',
                 'orphan: its conversation ' || coalesce(s.conversation_id, '(none)') || ' was not extracted'
          FROM int_comment_source s WHERE s.conversation_id IS NULL OR s.conversation_id NOT IN (SELECT conversation_id FROM stg_conversations)
-- message contents: the full body read from a message's links.related
-- travels inside that message's comments
UNION ALL SELECT 'message_contents', message_id, 'merged', 'messages', 'the full body of message ' || message_id || ', carried by its comments' FROM stg_message_contents
-- attachments: referenced by an output comment, else follow their message
UNION ALL SELECT DISTINCT 'attachments', a.attachment_id, 'output', 'out_zendesk_comments.attachment_ids', NULL
          FROM stg_attachments a WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)
UNION ALL SELECT 'attachments', a.attachment_id, d.disposition, CASE d.disposition WHEN 'archived' THEN 'int_archive_conversations' ELSE 'int_excluded_conversations' END, 'conversation ' || d.reason
          FROM stg_attachments a JOIN stg_messages m USING (message_id) JOIN int_conversation_disposition d USING (conversation_id)
          WHERE d.disposition <> 'load'
-- klasses and kobjects
UNION ALL SELECT DISTINCT 'klasses', klass_id, 'output', 'out_zendesk_custom_objects', NULL FROM out_zendesk_custom_objects
UNION ALL SELECT 'kobjects', kobject_id, 'output', 'out_zendesk_custom_object_records',
                 CASE WHEN bool_or(trimmed) THEN 'trimmed; full record in int_archive_kobjects' END
          FROM out_zendesk_custom_object_records GROUP BY kobject_id
-- inline images: uploaded with the comment that shows them (its <img>
-- rewritten to Zendesk's copy), else follow their message
UNION ALL SELECT * FROM kustomer_inline_image_accounting(
    (SELECT coalesce(list(DISTINCT x), []) FROM (SELECT unnest(inline_image_ids) AS x FROM out_zendesk_comments)),
    'out_zendesk_comments.inline_image_ids', NULL,
    'the body of message {message} is over the comment limit and travels as an attached .html file, which keeps the image link')
-- rules: no API carries them; listed in the verify report to rebuild by hand
UNION ALL SELECT 'shortcuts', id, 'excluded', 'raw_kustomer_shortcuts', 'rebuild by hand as a Zendesk macro' FROM raw_kustomer_shortcuts
UNION ALL SELECT 'slas', id, 'excluded', 'raw_kustomer_slas', 'rebuild by hand as a Zendesk SLA policy' FROM raw_kustomer_slas
UNION ALL SELECT 'audit_logs', id, 'archived', 'raw_kustomer_audit_logs', 'the org''s audit log, kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_audit_logs
UNION ALL SELECT 'customer_events', id, 'archived', 'raw_kustomer_customer_events', 'a customer''s tracking events (a session), kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_customer_events;
