-- 001 staging: one typed row per source record, parsed from the verbatim
-- JSON of the raw views. Nothing is dropped here; rules come later.
--
-- Every record is parsed ONCE, into a struct (json_transform), and the
-- columns are read from that struct. Calling json_extract once per column
-- parses the document once per column, and DuckDB keeps a parse arena per
-- call site and thread: at 15 columns that is ~600 MB for conversations
-- whatever the memory_limit, which is how staging used to run out of
-- memory. Fields read with TRY_CAST are transformed as "JSON" so the cast
-- sees the same value json_extract gave it; json_transform is lenient (a
-- value of the wrong shape becomes NULL, never an error).

-- setting, clean_text and safe_html: shared/001_macros.sql. What a
-- destination needs (e.g. Zendesk's zd_* macros) belongs to its route.

CREATE OR REPLACE TABLE stg_users AS
SELECT id AS user_id,
       s.attributes.name AS name,
       lower(trim(s.attributes.email)) AS email,
       s.attributes.userType AS user_type,
       s.attributes.deletedAt IS NOT NULL AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "email": "VARCHAR", "userType": "VARCHAR", "deletedAt": "VARCHAR"}}') AS s
      FROM raw_kustomer_users);

CREATE OR REPLACE TABLE stg_teams AS
SELECT id AS team_id,
       s.attributes.name AS name,
       coalesce(s.attributes.members, []) AS member_ids,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "members": ["VARCHAR"], "deleted": "JSON"}}') AS s
      FROM raw_kustomer_teams);

CREATE OR REPLACE TABLE stg_tags AS
SELECT id AS tag_id,
       s.attributes.name AS name,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted
FROM (SELECT id, json_transform(json, '{"attributes": {"name": "VARCHAR", "deleted": "JSON"}}') AS s
      FROM raw_kustomer_tags);

CREATE OR REPLACE TABLE stg_companies AS
SELECT id AS company_id,
       s.attributes.name AS name,
       s.attributes.externalId AS kustomer_external_id,
       list_transform(coalesce(s.attributes.domains, []), lambda d: lower(trim(d))) AS domains,
       s.attributes.custom AS custom,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "externalId": "VARCHAR", "domains": ["VARCHAR"], "custom": "JSON"}}') AS s
      FROM raw_kustomer_companies);

CREATE OR REPLACE TABLE stg_customers AS
SELECT id AS customer_id,
       coalesce(nullif(trim(clean_text(s.attributes.name)), ''),
                nullif(trim(clean_text(s.attributes.displayName)), '')) AS name,
       list_filter(list_transform(coalesce(s.attributes.emails, []), lambda e: lower(trim(e.email))),
                   lambda e: e IS NOT NULL AND e <> '') AS emails,
       list_filter(list_transform(coalesce(s.attributes.phones, []), lambda p: p.phone),
                   lambda p: p IS NOT NULL AND trim(p) <> '') AS phones,
       s.relationships.company.data.id AS company_id,
       s.attributes.externalId AS kustomer_external_id,
       s.attributes.locale AS locale,
       coalesce(s.attributes.tags, []) AS tag_ids,
       s.attributes.custom AS custom,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "displayName": "VARCHAR", "emails": [{"email": "VARCHAR"}],
                       "phones": [{"phone": "VARCHAR"}], "externalId": "VARCHAR", "locale": "VARCHAR",
                       "tags": ["VARCHAR"], "custom": "JSON", "deleted": "JSON"},
        "relationships": {"company": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_customers);

CREATE OR REPLACE TABLE stg_conversations AS
SELECT id AS conversation_id,
       s.relationships.customer.data.id AS customer_id,
       clean_text(s.attributes.name) AS subject,
       s.attributes.status AS status,
       TRY_CAST(s.attributes.priority AS INTEGER) AS priority,
       s.attributes.channels[1] AS channel,
       coalesce(s.attributes.tags, []) AS tag_ids,
       coalesce(s.attributes.assignedUsers, []) AS assigned_user_ids,
       coalesce(s.attributes.assignedTeams, []) AS assigned_team_ids,
       s.attributes.custom AS custom,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       coalesce(TRY_CAST(s.attributes.spam AS BOOLEAN), false) AS spam,
       coalesce(TRY_CAST(s.attributes.lastDone.createdAt AS TIMESTAMPTZ),
                TRY_CAST(s.attributes.firstDone.createdAt AS TIMESTAMPTZ)) AS done_at,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "status": "VARCHAR", "priority": "JSON", "channels": ["VARCHAR"],
                       "tags": ["VARCHAR"], "assignedUsers": ["VARCHAR"], "assignedTeams": ["VARCHAR"],
                       "custom": "JSON", "deleted": "JSON", "spam": "JSON",
                       "lastDone": {"createdAt": "VARCHAR"}, "firstDone": {"createdAt": "VARCHAR"}},
        "relationships": {"customer": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_conversations);

-- The full content of a message, where ferry read it from the record's
-- links.related (raw_kustomer_message_contents). Kustomer documents no
-- schema for it: these are the field names ferry knows (Postmark's
-- HtmlBody/TextBody for email, body for chat); `ferry probe` checks the
-- real org's shape. Keep in step with CONTENT_FIELDS in
-- src/connectors/kustomer/probe.rs.
CREATE OR REPLACE MACRO kustomer_content_html(j) AS coalesce(
    json_extract_string(j, '$.attributes.HtmlBody'), json_extract_string(j, '$.attributes.htmlBody'),
    json_extract_string(j, '$.attributes.html'));
CREATE OR REPLACE MACRO kustomer_content_text(j) AS coalesce(
    json_extract_string(j, '$.attributes.TextBody'), json_extract_string(j, '$.attributes.textBody'),
    json_extract_string(j, '$.attributes.text'), json_extract_string(j, '$.attributes.body'));

CREATE OR REPLACE TABLE stg_message_contents AS
SELECT id AS message_id, kustomer_content_html(json) AS html, kustomer_content_text(json) AS text
FROM raw_kustomer_message_contents;

CREATE OR REPLACE TABLE stg_messages AS
WITH m AS (
SELECT id AS message_id,
       s.relationships.conversation.data.id AS conversation_id,
       s.relationships.customer.data.id AS customer_id,
       s.attributes.direction AS direction,
       s.attributes.channel AS channel,
       s.attributes.preview AS preview,
       -- An email's preview is a plain-text snippet; any preview at the
       -- 10,240-character cap may be cut: the full content is needed.
       (s.attributes.channel = 'email' OR length(coalesce(s.attributes.preview, '')) >= 10240) AS needs_content,
       s.relationships.createdBy.data.id AS created_by,
       coalesce(TRY_CAST(s.attributes.sentAt AS TIMESTAMPTZ), created_at) AS sent_at,
       coalesce(list_transform(s.relationships.attachments.data, lambda a: a.id), []::VARCHAR[]) AS attachment_ids,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"direction": "VARCHAR", "channel": "VARCHAR", "preview": "VARCHAR", "sentAt": "VARCHAR"},
        "relationships": {"conversation": {"data": {"id": "VARCHAR"}}, "customer": {"data": {"id": "VARCHAR"}},
                          "createdBy": {"data": {"id": "VARCHAR"}}, "attachments": {"data": [{"id": "VARCHAR"}]}}}') AS s
      FROM raw_kustomer_messages))
SELECT m.message_id, m.conversation_id, m.customer_id, m.direction, m.channel,
       -- The full content when ferry has it (HTML first), else the preview.
       safe_html(coalesce(c.html, c.text, m.preview, '')) AS body,
       m.preview,
       CASE WHEN coalesce(c.html, c.text) IS NOT NULL THEN 'content'
            WHEN m.needs_content THEN 'preview_only'
            ELSE 'preview' END AS body_source,
       -- False: the comment will carry a preview that may be cut short.
       coalesce(c.html, c.text) IS NOT NULL OR NOT m.needs_content AS body_complete,
       m.created_by, m.sent_at, m.attachment_ids, m.created_at, m.updated_at
FROM m LEFT JOIN stg_message_contents c USING (message_id);

-- Messages whose full text ferry could not read: their comments carry the
-- preview only. Listed by `ferry verify` and in the report.
CREATE OR REPLACE TABLE stg_preview_only_messages AS
SELECT message_id, conversation_id, channel, length(coalesce(preview, '')) AS preview_chars,
       CASE WHEN channel = 'email' THEN 'email: the preview is a plain-text snippet and the content at links.related was not read'
            ELSE 'the preview reaches the 10,240-character cap and the content at links.related was not read' END AS reason
FROM stg_messages WHERE NOT body_complete;

CREATE OR REPLACE TABLE stg_notes AS
SELECT id AS note_id,
       s.relationships.conversation.data.id AS conversation_id,
       safe_html(coalesce(s.attributes.body, '')) AS body,
       s.relationships.createdBy.data.id AS created_by,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"body": "VARCHAR"},
        "relationships": {"conversation": {"data": {"id": "VARCHAR"}}, "createdBy": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_notes);

CREATE OR REPLACE TABLE stg_attachments AS
SELECT id AS attachment_id,
       s.relationships.message.data.id AS message_id,
       s.attributes.name AS file_name,
       s.attributes.contentType AS content_type,
       TRY_CAST(s.attributes.contentLength AS BIGINT) AS content_length,
       sha256, size_bytes
FROM (SELECT id, sha256, size_bytes, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "contentType": "VARCHAR", "contentLength": "JSON"},
        "relationships": {"message": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_attachments);

CREATE OR REPLACE TABLE stg_klasses AS
SELECT id AS klass_id,
       s.attributes.name AS name,
       s.attributes.displayName AS display_name,
       s.attributes.metadata.properties AS properties
FROM (SELECT id, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "displayName": "VARCHAR", "metadata": {"properties": "JSON"}}}') AS s
      FROM raw_kustomer_klasses);

CREATE OR REPLACE TABLE stg_kobjects AS
SELECT id AS kobject_id,
       s.relationships.klass.data.id AS klass_id,
       s.relationships.customer.data.id AS customer_id,
       s.relationships.company.data.id AS company_id,
       s.attributes.title AS title,
       s.attributes.custom AS custom,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"title": "VARCHAR", "custom": "JSON"},
        "relationships": {"klass": {"data": {"id": "VARCHAR"}}, "customer": {"data": {"id": "VARCHAR"}},
                          "company": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_kobjects);
