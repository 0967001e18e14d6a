-- 004 companies, customers, conversations, and the thread of each: the
-- first message (`source`) and `comment` parts are messages, `note` parts
-- notes; state changes (open, close, snooze, assignment…) are no records
-- in Kustomer: the conversation's status, assignee and custom
-- attributes carry their outcome.

CREATE OR REPLACE TABLE out_kus_companies AS
SELECT c.company_id AS source_id, coalesce(nullif(trim(c.name), ''), 'Company ' || c.company_id) AS name,
       CASE WHEN c.website IS NOT NULL THEN [{domain: regexp_extract(c.website, '^(?:https?://)?(?:www\.)?([^/:?#]+)', 1)}] END AS domains,
       coalesce(v.custom, '{}'::JSON) AS custom, c.created_at
FROM stg_companies c LEFT JOIN custom_values v ON v.resource = 'company' AND v.record_id = c.company_id;

CREATE OR REPLACE TABLE out_kus_customers AS
SELECT c.contact_id AS source_id, c.name, c.email, c.phone, c.role, c.external_id,
       c.company_ids[1] AS company_source_id,
       (SELECT list(DISTINCT t.name ORDER BY t.name) FROM stg_tags t WHERE list_contains(c.tag_ids, t.tag_id)) AS tag_names,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomRoleStr: c.role, intercomExternalIdStr: c.external_id})) AS custom,
       c.created_at, c.signed_up_at, c.last_seen_at
FROM stg_contacts c LEFT JOIN custom_values v ON v.resource = 'customer' AND v.record_id = c.contact_id
WHERE c.contact_id NOT IN (SELECT contact_id FROM contact_merge);

CREATE OR REPLACE TABLE excluded_conversations AS
SELECT conversation_id AS source_id, 'its contact ' || coalesce(contact_id, '(none)') || ' was not extracted' AS reason
FROM stg_conversations
WHERE contact_id IS NULL OR contact_id NOT IN (SELECT contact_id FROM stg_contacts);

CREATE OR REPLACE TABLE out_kus_conversations AS
SELECT c.conversation_id AS source_id, k.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(c.title), ''), nullif(html_text(s.body), ''), 'Intercom conversation ' || c.conversation_id), 256) AS name,
       coalesce(m.kustomer_status, 'open') AS status, c.state,
       CASE WHEN c.priority = 'priority' THEN 4 ELSE 3 END AS priority,
       CASE WHEN c.delivered_as = 'admin_initiated' THEN 'out' ELSE 'in' END AS direction,
       list_distinct(coalesce(c.tag_names, []))[1:20] AS tag_names,
       c.admin_assignee_id, c.team_assignee_id,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomStateStr: c.state, snoozedUntilAt: kus_time(c.snoozed_until)})) AS custom,
       c.channel, c.snoozed_until, c.created_at, c.parts_total, c.parts_read
FROM stg_conversations c
JOIN contact_canonical k ON k.contact_id = c.contact_id
LEFT JOIN state_map m ON m.intercom_state = c.state
LEFT JOIN stg_parts s ON s.part_id = c.conversation_id || ':source'
LEFT JOIN custom_values v ON v.resource = 'conversation' AND v.record_id = c.conversation_id
WHERE c.conversation_id NOT IN (SELECT source_id FROM excluded_conversations);

CREATE OR REPLACE TABLE part_files AS
SELECT part_id, list(attachment_id ORDER BY attachment_id) AS attachment_ids
FROM stg_attachments GROUP BY part_id;

CREATE OR REPLACE TABLE out_kus_messages AS
SELECT p.part_id AS source_id, p.conversation_id AS conversation_source_id, c.customer_source_id, p.position,
       coalesce(ch.kustomer_channel, 'chat') AS channel,
       CASE WHEN p.author_type IN ('admin', 'bot', 'team') THEN 'out' ELSE 'in' END AS direction,
       CASE WHEN p.author_type = 'admin' THEN p.author_id END AS author_admin_id,
       p.author_name, p.author_email, p.body, left(html_text(p.body), 10240) AS preview,
       CASE WHEN p.part_type = 'source' THEN left(nullif(p.subject, ''), 256) END AS subject,
       p.created_at, coalesce(f.attachment_ids, []) AS attachment_ids
FROM stg_parts p
JOIN out_kus_conversations c ON c.source_id = p.conversation_id
LEFT JOIN channel_map ch ON ch.intercom_source = c.channel
LEFT JOIN part_files f ON f.part_id = p.part_id
WHERE p.part_type IN ('source', 'comment') AND coalesce(p.body, '') <> '';

CREATE OR REPLACE TABLE out_kus_notes AS
SELECT p.part_id AS source_id, p.conversation_id AS conversation_source_id, p.position,
       CASE WHEN p.author_type = 'admin' THEN p.author_id END AS author_admin_id, p.author_name,
       p.body, p.created_at, coalesce(f.attachment_ids, []) AS attachment_ids
FROM stg_parts p
JOIN out_kus_conversations c ON c.source_id = p.conversation_id
LEFT JOIN part_files f ON f.part_id = p.part_id
WHERE p.part_type = 'note' AND coalesce(p.body, '') <> '';
