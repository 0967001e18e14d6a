-- ferry_accounting (Kustomer → Salesforce): every source record ends in
-- exactly one bucket — output, merged (carried inside another record that
-- is output), archived or excluded — with a reason.
-- checks/unaccounted_records.sql fails on any record in none, or in two.

CREATE OR REPLACE TABLE ferry_accounting AS
SELECT 'companies' AS object, source_id, 'output' AS bucket, 'out_salesforce_accounts' AS target, 'an Account' AS reason FROM out_salesforce_accounts
UNION ALL SELECT 'companies', company_id, 'merged', 'out_salesforce_accounts', reason || ' → ' || into_company_id FROM int_company_merge
UNION ALL SELECT 'customers', source_id, 'output', 'out_salesforce_contacts', 'a Contact of its company''s Account' FROM out_salesforce_contacts
UNION ALL SELECT 'customers', source_id, 'output', 'out_salesforce_leads', 'a Lead (no company; Company = ' || company || ')' FROM out_salesforce_leads
UNION ALL SELECT 'customers', customer_id, 'merged', 'out_salesforce_contacts', reason || ' → ' || into_customer_id FROM int_customer_merge
UNION ALL SELECT 'users', source_id, 'output', 'out_salesforce_users', 'matched to a Salesforce User by email (never created)' FROM out_salesforce_users
UNION ALL SELECT 'users', source_id, 'excluded', 'int_excluded_users', reason FROM int_excluded_users
UNION ALL SELECT 'teams', source_id, 'output', 'out_salesforce_queues', 'a Queue for Cases (DeveloperName ' || developer_name || ') with its members' FROM out_salesforce_queues
UNION ALL SELECT 'teams', source_id, 'excluded', 'int_excluded_teams', reason FROM int_excluded_teams
UNION ALL SELECT 'tags', source_id, 'output', 'out_salesforce_topics', 'a Topic assigned to its Cases' FROM out_salesforce_topics
UNION ALL SELECT 'tags', tag_id, CASE WHEN deleted THEN 'excluded' WHEN setting('tags_as') = 'text' THEN 'merged' ELSE 'excluded' END,
                 CASE WHEN deleted OR setting('tags_as') <> 'text' THEN 'stg_tags' ELSE 'out_salesforce_cases.tag_names' END,
                 CASE WHEN deleted THEN 'tag deleted in Kustomer' WHEN setting('tags_as') = 'text' THEN 'written into its Cases'' Kustomer_Tags__c'
                      ELSE 'tag without a name' END
          FROM stg_tags WHERE tag_id NOT IN (SELECT source_id FROM out_salesforce_topics)
UNION ALL SELECT 'conversations', source_id, 'output', 'out_salesforce_cases', NULL FROM out_salesforce_cases
UNION ALL SELECT 'conversations', source_id, 'excluded', 'int_excluded_conversations', reason FROM int_excluded_conversations
UNION ALL SELECT 'conversations', source_id, 'archived', 'int_archive_conversations', reason FROM int_archive_conversations
UNION ALL SELECT DISTINCT CASE kind WHEN 'message' THEN 'messages' ELSE 'notes' END, item_id, 'output', 'out_salesforce_messages',
                 CASE WHEN kind = 'message' THEN 'an EmailMessage' ELSE 'a private CaseComment' END
                 || CASE WHEN n_parts > 1 THEN ' in ' || n_parts || ' parts' ELSE '' END
          FROM out_salesforce_messages
UNION ALL SELECT object, source_id, bucket, target, reason FROM int_conversation_records_not_loaded
UNION ALL SELECT DISTINCT 'attachments', a.attachment_id, 'output', 'out_salesforce_messages.attachment_ids', 'a ContentVersion on its Case'
          FROM stg_attachments a WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_salesforce_messages)
UNION ALL SELECT 'attachments', a.attachment_id, 'excluded', 'stg_attachments', 'orphan: its message ' || coalesce(a.message_id, '(none)') || ' is not loaded'
          FROM stg_attachments a WHERE a.attachment_id NOT IN (SELECT unnest(attachment_ids) FROM out_salesforce_messages)
            AND a.attachment_id NOT IN (SELECT a2.attachment_id FROM stg_attachments a2 JOIN stg_messages m USING (message_id)
                                        JOIN int_conversation_disposition d USING (conversation_id) WHERE d.disposition <> 'load')
UNION ALL SELECT 'klasses', source_id, 'merged', 'out_salesforce_custom_objects', 'custom object ' || object || ', which an admin creates from out_salesforce_custom_fields; its records load into it' FROM out_salesforce_custom_objects
UNION ALL SELECT 'kobjects', source_id, 'output', 'out_salesforce_custom_records', 'a record of ' || object FROM out_salesforce_custom_records
UNION ALL SELECT 'kobjects', kobject_id, 'excluded', 'stg_kobjects', 'orphan: its klass ' || coalesce(klass_id, '(none)') || ' was not extracted'
          FROM stg_kobjects WHERE kobject_id NOT IN (SELECT source_id FROM out_salesforce_custom_records)
-- inline images: files of the message that shows them, else follow their message
UNION ALL SELECT * FROM kustomer_inline_image_accounting(
    (SELECT coalesce(list(DISTINCT x), []) FROM (SELECT unnest(inline_image_ids) AS x FROM int_case_thread)),
    'int_case_thread.inline_image_ids', 'a ContentVersion on its Case, linked to its EmailMessage', NULL)
UNION ALL SELECT 'shortcuts', id, 'excluded', 'raw_kustomer_shortcuts', 'rebuild by hand in Salesforce (macros or quick text)' FROM raw_kustomer_shortcuts
UNION ALL SELECT 'slas', id, 'excluded', 'raw_kustomer_slas', 'rebuild by hand in Salesforce (entitlement processes)' FROM raw_kustomer_slas
UNION ALL SELECT 'audit_logs', id, 'archived', 'raw_kustomer_audit_logs', 'the org''s audit log, kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_audit_logs
UNION ALL SELECT 'customer_events', id, 'archived', 'raw_kustomer_customer_events', 'a customer''s tracking events (a session), kept out of the live inbox for historical reporting: kept for `ferry archive`' FROM raw_kustomer_customer_events;
