-- verify, route part: which destination rows the route outputs, and which
-- source records each carries (see sql/verify/funnel.sql).
-- The records with Lookups to other records (load/custom_record_links.sql
-- sets them in a second pass).
CREATE OR REPLACE TEMP TABLE verify_record_links AS
SELECT DISTINCT r.source_id
FROM out_salesforce_custom_records r
JOIN stg_kobjects k ON k.kobject_id = r.source_id
JOIN int_klass_fields f ON f.klass_id = k.klass_id AND f.target_object IS NOT NULL
JOIN int_custom_attributes a ON a.object = 'kobjects' AND a.record_id = r.source_id AND a.attribute = f.kustomer_key;

-- The Cases with Lookups to records (load/case_record_links.sql).
CREATE OR REPLACE TEMP TABLE verify_case_links AS
SELECT DISTINCT c.source_id
FROM out_salesforce_cases c
JOIN int_custom_attributes a ON a.object = 'conversations' AND a.record_id = c.source_id
JOIN out_salesforce_custom_fields f ON f.object = 'Case' AND f.kustomer_key = a.attribute AND f.type = 'Lookup';

CREATE OR REPLACE TEMP TABLE verify_rows AS
          SELECT 'agents' AS phase, source_id FROM out_salesforce_users
UNION ALL SELECT 'queues', source_id FROM out_salesforce_queues
UNION ALL SELECT 'queue_sobjects', source_id FROM out_salesforce_queues
UNION ALL SELECT 'queue_members', source_id FROM out_salesforce_queue_members
UNION ALL SELECT 'topics', source_id FROM out_salesforce_topics
UNION ALL SELECT 'custom_records', source_id FROM out_salesforce_custom_records
UNION ALL SELECT 'custom_record_links', source_id FROM verify_record_links
UNION ALL SELECT 'case_record_links', source_id FROM verify_case_links
UNION ALL SELECT 'topic_assignments', source_id FROM out_salesforce_topic_assignments
UNION ALL SELECT 'file_links', source_id FROM out_salesforce_file_links
UNION ALL SELECT 'accounts', source_id FROM out_salesforce_accounts
UNION ALL SELECT 'contacts', source_id FROM out_salesforce_contacts
UNION ALL SELECT 'leads', source_id FROM out_salesforce_leads
UNION ALL SELECT 'cases', source_id FROM out_salesforce_cases
UNION ALL SELECT 'email_messages', source_id FROM out_salesforce_messages WHERE kind = 'message'
UNION ALL SELECT 'email_relations', source_id FROM out_salesforce_email_relations
UNION ALL SELECT 'case_comments', source_id FROM out_salesforce_messages WHERE kind = 'note'
UNION ALL SELECT DISTINCT 'files', unnest(attachment_ids) FROM out_salesforce_messages;

-- A message split into parts is loaded once every part is.
CREATE OR REPLACE TEMP TABLE verify_lineage AS
          SELECT 'users' AS object, source_id, 'agents' AS phase, source_id AS row_id FROM out_salesforce_users
UNION ALL SELECT 'teams', source_id, 'queues', source_id FROM out_salesforce_queues
UNION ALL SELECT 'teams', source_id, 'queue_sobjects', source_id FROM out_salesforce_queues
UNION ALL SELECT 'tags', source_id, 'topics', source_id FROM out_salesforce_topics
UNION ALL SELECT 'kobjects', source_id, 'custom_records', source_id FROM out_salesforce_custom_records
UNION ALL SELECT 'kobjects', source_id, 'custom_record_links', source_id FROM verify_record_links
UNION ALL SELECT 'conversations', source_id, 'case_record_links', source_id FROM verify_case_links
UNION ALL SELECT 'teams', queue_source_id, 'queue_members', source_id FROM out_salesforce_queue_members
UNION ALL SELECT CASE entity_kind WHEN 'case' THEN 'conversations' ELSE 'customers' END, entity_source_id, 'topic_assignments', source_id
          FROM out_salesforce_topic_assignments
-- (an inline image is a file of its message too: `<message id>:img<n>`)
UNION ALL SELECT CASE WHEN source_id IN (SELECT image_id FROM stg_inline_images) THEN 'inline_images' ELSE 'attachments' END,
                 source_id, 'file_links', source_id FROM out_salesforce_file_links
UNION ALL SELECT 'klasses', source_id, NULL, NULL FROM out_salesforce_custom_objects
UNION ALL SELECT 'companies', source_id, 'accounts', source_id FROM out_salesforce_accounts
UNION ALL SELECT 'customers', source_id, 'contacts', source_id FROM out_salesforce_contacts
UNION ALL SELECT 'customers', source_id, 'leads', source_id FROM out_salesforce_leads
UNION ALL SELECT 'conversations', source_id, 'cases', source_id FROM out_salesforce_cases
UNION ALL SELECT 'messages', item_id, 'email_messages', source_id FROM out_salesforce_messages WHERE kind = 'message'
UNION ALL SELECT 'messages', m.item_id, 'email_relations', r.source_id
          FROM out_salesforce_email_relations r JOIN out_salesforce_messages m ON m.source_id = r.message_row
UNION ALL SELECT 'notes', item_id, 'case_comments', source_id FROM out_salesforce_messages WHERE kind = 'note'
UNION ALL SELECT DISTINCT CASE WHEN x.aid IN (SELECT image_id FROM stg_inline_images) THEN 'inline_images' ELSE 'attachments' END,
                 x.aid, 'files', x.aid
          FROM (SELECT unnest(attachment_ids) AS aid FROM out_salesforce_messages) x
UNION ALL SELECT 'tags', source_id, NULL, NULL FROM ferry_accounting WHERE object = 'tags' AND bucket = 'merged';
