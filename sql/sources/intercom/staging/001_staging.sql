-- 001 staging (Intercom): one typed row per source record, parsed from the
-- verbatim JSON of the raw views (raw_intercom_*). Nothing is dropped
-- here; rules come later. Intercom times are epoch seconds.

-- setting, clean_text and safe_html: shared/001_macros.sql.
CREATE OR REPLACE MACRO ic_time(v) AS to_timestamp(TRY_CAST(v AS BIGINT));
-- The text of an HTML body: tags dropped, the common entities decoded,
-- blanks folded.
CREATE OR REPLACE MACRO html_text(s) AS trim(regexp_replace(
    replace(replace(replace(replace(replace(regexp_replace(coalesce(s, ''), '<[^>]*>', ' ', 'g'),
        '&nbsp;', ' '), '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&amp;', '&'), '\s+', ' ', 'g'));

CREATE OR REPLACE TABLE stg_admins AS
SELECT id AS admin_id, json_extract_string(json, '$.name') AS name,
       lower(trim(json_extract_string(json, '$.email'))) AS email,
       coalesce(TRY_CAST(json_extract(json, '$.has_inbox_seat') AS BOOLEAN), true) AS has_inbox_seat
FROM raw_intercom_admins;

CREATE OR REPLACE TABLE stg_teams AS
SELECT id AS team_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.admin_ids[*]') AS admin_ids
FROM raw_intercom_teams;

CREATE OR REPLACE TABLE stg_tags AS
SELECT id AS tag_id, json_extract_string(json, '$.name') AS name FROM raw_intercom_tags;

CREATE OR REPLACE TABLE stg_data_attributes AS
SELECT id AS attribute_id, json_extract_string(json, '$.model') AS model,
       json_extract_string(json, '$.name') AS name, json_extract_string(json, '$.label') AS label,
       json_extract_string(json, '$.data_type') AS data_type,
       coalesce(TRY_CAST(json_extract(json, '$.custom') AS BOOLEAN), false) AS custom,
       coalesce(TRY_CAST(json_extract(json, '$.archived') AS BOOLEAN), false) AS archived
FROM raw_intercom_data_attributes;

CREATE OR REPLACE TABLE stg_companies AS
SELECT id AS company_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.website') AS website,
       json_extract_string(json, '$.company_id') AS company_code,
       json_extract(json, '$.custom_attributes') AS custom,
       json_extract_string(json, '$.tags.tags[*].name') AS tag_names,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_companies;

CREATE OR REPLACE TABLE stg_contacts AS
SELECT id AS contact_id, json_extract_string(json, '$.role') AS role,
       lower(trim(json_extract_string(json, '$.email'))) AS email,
       json_extract_string(json, '$.name') AS name, json_extract_string(json, '$.phone') AS phone,
       json_extract_string(json, '$.external_id') AS external_id,
       json_extract_string(json, '$.companies.data[*].id') AS company_ids,
       json_extract_string(json, '$.tags.data[*].id') AS tag_ids,
       json_extract(json, '$.custom_attributes') AS custom,
       ic_time(json_extract(json, '$.created_at')) AS created_at,
       ic_time(json_extract(json, '$.signed_up_at')) AS signed_up_at,
       ic_time(json_extract(json, '$.last_seen_at')) AS last_seen_at, updated_at
FROM raw_intercom_contacts;

CREATE OR REPLACE TABLE stg_contact_notes AS
SELECT id AS note_id, json_extract_string(json, '$.contact.id') AS contact_id,
       safe_html(json_extract_string(json, '$.body')) AS body,
       json_extract_string(json, '$.author.id') AS author_id,
       ic_time(json_extract(json, '$.created_at')) AS created_at
FROM raw_intercom_contact_notes;

CREATE OR REPLACE TABLE stg_conversations AS
SELECT id AS conversation_id,
       json_extract_string(json, '$.contacts.contacts[0].id') AS contact_id,
       json_extract_string(json, '$.title') AS title, json_extract_string(json, '$.state') AS state,
       json_extract_string(json, '$.priority') AS priority,
       json_extract_string(json, '$.admin_assignee_id') AS admin_assignee_id,
       json_extract_string(json, '$.team_assignee_id') AS team_assignee_id,
       json_extract_string(json, '$.tags.tags[*].name') AS tag_names,
       json_extract_string(json, '$.source.type') AS channel,
       json_extract_string(json, '$.source.delivered_as') AS delivered_as,
       json_extract(json, '$.custom_attributes') AS custom,
       ic_time(json_extract(json, '$.snoozed_until')) AS snoozed_until,
       CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) AS parts_total,
       json_array_length(json, '$.conversation_parts.conversation_parts') AS parts_read,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_conversations;

-- Every record of a conversation's thread: its first message (`source`,
-- id `<conversation>:source`, position 0) and each part, in order.
CREATE OR REPLACE TABLE stg_parts AS
SELECT c.id || ':source' AS part_id, c.id AS conversation_id, 0 AS position, 'source' AS part_type,
       safe_html(json_extract_string(c.json, '$.source.body')) AS body,
       json_extract_string(c.json, '$.source.subject') AS subject,
       json_extract_string(c.json, '$.source.author.type') AS author_type,
       json_extract_string(c.json, '$.source.author.id') AS author_id,
       json_extract_string(c.json, '$.source.author.name') AS author_name,
       json_extract_string(c.json, '$.source.author.email') AS author_email,
       ic_time(json_extract(c.json, '$.created_at')) AS created_at
FROM raw_intercom_conversations c
UNION ALL
SELECT json_extract_string(p.value, '$.id'), c.id, CAST(p.key AS INTEGER) + 1,
       json_extract_string(p.value, '$.part_type'),
       safe_html(json_extract_string(p.value, '$.body')), NULL,
       json_extract_string(p.value, '$.author.type'), json_extract_string(p.value, '$.author.id'),
       json_extract_string(p.value, '$.author.name'), json_extract_string(p.value, '$.author.email'),
       ic_time(json_extract(p.value, '$.created_at'))
FROM raw_intercom_conversations c, json_each(c.json, '$.conversation_parts.conversation_parts') p;

-- Files and inline images, downloaded at extraction (`<conversation>:<part
-- or source>:<n>` ids).
CREATE OR REPLACE TABLE stg_attachments AS
SELECT id AS attachment_id, json_extract_string(json, '$.conversation_id') AS conversation_id,
       CASE WHEN split_part(id, ':', 2) = 'source' THEN json_extract_string(json, '$.conversation_id') || ':source'
            ELSE split_part(id, ':', 2) END AS part_id,
       json_extract_string(json, '$.type') AS kind,
       coalesce(json_extract_string(json, '$.name'),
                regexp_extract(json_extract_string(json, '$.src'), '([^/?]+)(\?|$)', 1), 'image') AS file_name,
       coalesce(json_extract_string(json, '$.content_type'), 'application/octet-stream') AS content_type,
       sha256, size_bytes
FROM raw_intercom_attachments;

CREATE OR REPLACE TABLE stg_ticket_types AS
SELECT id AS ticket_type_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.description') AS description,
       coalesce(TRY_CAST(json_extract(json, '$.archived') AS BOOLEAN), false) AS archived,
       json_extract(json, '$.ticket_type_attributes.ticket_type_attributes') AS attributes
FROM raw_intercom_ticket_types;

CREATE OR REPLACE TABLE stg_tickets AS
SELECT id AS ticket_id, json_extract_string(json, '$.ticket_type.id') AS ticket_type_id,
       json_extract_string(json, '$.contacts.contacts[0].id') AS contact_id,
       json_extract_string(json, '$.ticket_attributes._default_title_') AS title,
       json_extract_string(json, '$.ticket_attributes._default_description_') AS description,
       json_extract(json, '$.ticket_attributes') AS attributes,
       json_extract_string(json, '$.ticket_state.internal_label') AS state,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_tickets;
