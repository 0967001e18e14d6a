-- ferry_accounting (Kustomer → Enchant): every source record ends in
-- exactly one bucket — output, merged (carried inside another record that
-- is output), archived or excluded — with a reason.
-- checks/unaccounted_records.sql fails on any record in none, or in two.

CREATE OR REPLACE TABLE ferry_accounting AS
-- companies: Enchant has none; a company travels in its customers' summary
SELECT 'companies' AS object, company_id AS source_id,
       CASE WHEN company_id IN (SELECT company_id FROM out_enchant_customers WHERE company_id IS NOT NULL) THEN 'merged' ELSE 'excluded' END AS bucket,
       'out_enchant_customers.summary' AS target,
       CASE WHEN company_id IN (SELECT company_id FROM out_enchant_customers WHERE company_id IS NOT NULL)
            THEN 'written into its customers'' summary (Enchant has no companies)'
            ELSE 'no customer of it is loaded, and Enchant has no companies' END AS reason
FROM stg_companies
-- customers, users
UNION ALL SELECT 'customers', source_id, 'output', 'out_enchant_customers', NULL FROM out_enchant_customers
UNION ALL SELECT 'customers', customer_id, 'merged', 'out_enchant_customers', reason || ' → ' || into_customer_id FROM int_customer_merge
UNION ALL SELECT 'users', source_id, 'output', 'out_enchant_agents', 'matched to an Enchant user by email' FROM out_enchant_agents
UNION ALL SELECT 'users', source_id, 'excluded', 'int_excluded_users', reason FROM int_excluded_users
-- teams: no Enchant object; inbox_map.csv routes their tickets
UNION ALL SELECT 'teams', team_id, 'excluded', 'seeds/inbox_map.csv',
                 'Enchant has no teams: ' || coalesce('tickets go to inbox ' || (SELECT enchant_inbox_id FROM inbox_map WHERE kustomer_team = name), 'no inbox mapped, tickets go to the default inbox')
          FROM stg_teams
-- tags: labels, where label_map.csv names one
UNION ALL SELECT 'tags', tag_id,
                 CASE WHEN deleted THEN 'excluded' WHEN name IN (SELECT kustomer_tag FROM label_map WHERE nullif(trim(enchant_label_id), '') IS NOT NULL) THEN 'output' ELSE 'excluded' END,
                 'seeds/label_map.csv',
                 CASE WHEN deleted THEN 'tag deleted in Kustomer'
                      WHEN name IN (SELECT kustomer_tag FROM label_map WHERE nullif(trim(enchant_label_id), '') IS NOT NULL) THEN 'applied as an Enchant label'
                      ELSE 'no Enchant label mapped (seeds/label_map.csv); the tag name is in each ticket''s header note' END
          FROM stg_tags
-- conversations
UNION ALL SELECT 'conversations', source_id, 'output', 'out_enchant_tickets', NULL FROM out_enchant_tickets
UNION ALL SELECT 'conversations', source_id, 'excluded', 'int_excluded_conversations', reason FROM int_excluded_conversations
UNION ALL SELECT 'conversations', source_id, 'archived', 'int_archive_conversations', reason FROM int_archive_conversations
-- messages and notes: messages of their ticket (agent messages as notes)
UNION ALL SELECT CASE kind WHEN 'message' THEN 'messages' ELSE 'notes' END, source_id, 'output', 'out_enchant_messages',
                 CASE WHEN kind = 'message' AND author_kind = 'agent' THEN 'agent message imported as an internal note (author and time in its header)' END
          FROM out_enchant_messages
UNION ALL SELECT object, source_id, bucket, target, reason FROM int_conversation_records_not_loaded
-- attachments
UNION ALL SELECT DISTINCT 'attachments', a.attachment_id, 'output', 'out_enchant_messages.attachment_ids', NULL
          FROM stg_attachments a WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_enchant_messages)
-- klasses and kobjects: a note on the customer's latest ticket, or the summary
UNION ALL SELECT 'klasses', klass_id, 'merged', 'out_enchant_kobject_notes', 'its records are written out as text (Enchant has no custom objects)' FROM stg_klasses
UNION ALL SELECT 'kobjects', unnest(kobject_ids), 'output', 'out_enchant_kobject_notes', 'as a note on the customer''s latest ticket' FROM out_enchant_kobject_notes
UNION ALL SELECT DISTINCT 'kobjects', kobject_id, 'merged', 'out_enchant_customers.summary',
                 CASE via WHEN 'company' THEN 'written into the summary of each of its company''s customers' ELSE 'written into the customer''s summary' END
          FROM int_kobject_lines WHERE via = 'company' OR customer_source_id NOT IN (SELECT customer_source_id FROM out_enchant_kobject_notes)
UNION ALL SELECT 'kobjects', kobject_id, 'excluded', 'stg_kobjects',
                 CASE WHEN customer_id IS NULL AND company_id IS NOT NULL THEN 'its company ' || company_id || ' has no extracted customer whose summary could hold it'
                      ELSE 'its customer ' || coalesce(customer_id, '(none)') || ' is not extracted' END
          FROM stg_kobjects WHERE kobject_id NOT IN (SELECT kobject_id FROM int_kobject_lines)
-- inline images: files of the message that shows them, else follow their message
UNION ALL SELECT * FROM kustomer_inline_image_accounting(
    (SELECT coalesce(list(DISTINCT x), []) FROM (SELECT unnest(inline_image_ids) AS x FROM out_enchant_messages)),
    'out_enchant_messages.inline_image_ids', NULL, NULL)
-- rules: no API carries them
UNION ALL SELECT 'shortcuts', id, 'excluded', 'raw_kustomer_shortcuts', 'rebuild by hand in Enchant' FROM raw_kustomer_shortcuts
UNION ALL SELECT 'slas', id, 'excluded', 'raw_kustomer_slas', 'rebuild by hand in Enchant' FROM raw_kustomer_slas
UNION ALL SELECT 'audit_logs', id, 'archived', 'raw_kustomer_audit_logs', 'the org''s audit log, kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_audit_logs
UNION ALL SELECT 'customer_events', id, 'archived', 'raw_kustomer_customer_events', 'a customer''s tracking events (a session), kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_customer_events;
