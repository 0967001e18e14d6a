-- 003 cases: each conversation that loads (the source layer's
-- intermediate/002_conversation_disposition.sql) as a Case; its messages as
-- EmailMessages (TextBody/HtmlBody at most max_email_chars: longer bodies
-- go on in continuation messages, "(part 2 of 3)"), its notes as private
-- CaseComments (CommentBody at most max_comment_bytes BYTES: split the
-- same way). EmailMessage is writable only at insert: everything is
-- decided here, before the load.

CREATE OR REPLACE TABLE out_sf_cases AS
WITH conv AS (
    SELECT * FROM int_conversations_to_load
), tags AS (
    SELECT conv.conversation_id, string_agg(DISTINCT g.name, '; ' ORDER BY g.name) AS tag_names
    FROM conv, unnest(conv.tag_ids) AS t(tag_id)
    JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted
    GROUP BY ALL
)
SELECT c.conversation_id AS source_id,
       c.customer_source_id,
       CASE WHEN ct.source_id IS NOT NULL THEN ct.source_id END AS contact_source_id,
       ct.account_source_id,
       CASE WHEN ld.source_id IS NOT NULL THEN ld.email END AS supplied_email,
       CASE WHEN ld.source_id IS NOT NULL THEN left(concat_ws(' ', ld.first_name, ld.last_name), 80) END AS supplied_name,
       c.assignee_user_id AS owner_source_id,
       -- No matched user: the Case waits in its team's Queue.
       c.assigned_team_ids[len(c.assigned_team_ids)] AS owner_queue_source_id,
       left(coalesce(nullif(trim(c.subject), ''), '(no subject)'), 255) AS subject,
       c.status AS kustomer_status,
       sm.case_status AS status,
       coalesce(pm.case_priority, 'Medium') AS priority,
       om.case_origin AS origin,
       CASE WHEN setting('tags_as') = 'text' THEN tg.tag_names END AS tag_names,
       c.channel, c.created_at, c.updated_at,
       CASE WHEN c.status = 'done' THEN coalesce(c.done_at, c.updated_at) END AS closed_at
FROM conv c
LEFT JOIN out_sf_contacts ct ON ct.source_id = c.customer_source_id
LEFT JOIN out_sf_leads ld ON ld.source_id = c.customer_source_id
LEFT JOIN tags tg USING (conversation_id)
LEFT JOIN status_map sm ON sm.kustomer_status = c.status
LEFT JOIN priority_map pm ON pm.kustomer_priority = CAST(c.priority AS VARCHAR)
LEFT JOIN origin_map om ON om.kustomer_channel = c.channel;

-- Messages and notes of loaded conversations, in thread order; each one
-- split into the parts its field can hold.
CREATE OR REPLACE TABLE sf_thread AS
WITH src AS (
    SELECT 'message' AS kind, m.message_id AS item_id, m.conversation_id, m.sent_at AS created_at,
           m.body, m.direction, m.channel, m.created_by AS author_user_id, m.attachment_ids
    FROM stg_messages m
    UNION ALL
    SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, NULL, 'note', n.created_by, []::VARCHAR[]
    FROM stg_notes n
)
SELECT s.*, row_number() OVER (PARTITION BY s.conversation_id ORDER BY s.created_at, s.kind, s.item_id) AS position,
       s.body ILIKE '%<html%' OR s.body ILIKE '%<p>%' OR s.body ILIKE '%<br%' OR s.body ILIKE '%<div%' AS is_html,
       u.name AS author_name, u.email AS author_email
FROM src s
JOIN conversation_disposition d ON d.conversation_id = s.conversation_id AND d.disposition = 'load'
LEFT JOIN stg_users u ON u.user_id = s.author_user_id;

-- Part size in characters: an email body's limit is in characters; a
-- comment's in bytes, and a character is at most 4 bytes, so a part of
-- max_comment_bytes/4 characters always fits (room is left for the
-- "[ferry …]" marker line). A body that fits is one part.
CREATE OR REPLACE TABLE out_sf_messages AS
WITH sized AS (
    SELECT t.*, coalesce(t.body, '') AS text,
           CASE WHEN t.kind = 'message' THEN CAST(setting('max_email_chars') AS INTEGER) - 200
                ELSE (CAST(setting('max_comment_bytes') AS INTEGER) - 200) // 4 END AS part_chars,
           CASE WHEN t.kind = 'message' THEN length(coalesce(t.body, '')) <= CAST(setting('max_email_chars') AS INTEGER) - 200
                ELSE strlen(coalesce(t.body, '')) <= CAST(setting('max_comment_bytes') AS INTEGER) - 200 END AS fits
    FROM sf_thread t
), parts AS (
    SELECT s.*, CASE WHEN fits THEN 1 ELSE greatest(1, CAST(ceil(length(text) / part_chars) AS INTEGER)) END AS n_parts
    FROM sized s
)
SELECT CASE WHEN p.n_parts = 1 THEN p.item_id ELSE p.item_id || ':' || g.i END AS source_id,
       p.item_id, p.kind, p.conversation_id, p.position, g.i AS part, p.n_parts,
       CASE WHEN p.n_parts = 1 THEN p.text ELSE substr(p.text, (g.i - 1) * p.part_chars + 1, p.part_chars) END AS body,
       p.is_html, p.direction, p.channel, p.created_at, p.author_user_id, p.author_name, p.author_email,
       CASE WHEN g.i = 1 THEN p.attachment_ids ELSE []::VARCHAR[] END AS attachment_ids
FROM parts p, LATERAL (SELECT unnest(range(1, p.n_parts + 1)) AS i) g;

-- Tags on Cases as TopicAssignments (tags_as = topics).
CREATE OR REPLACE TABLE out_sf_topic_assignments AS
SELECT DISTINCT c.source_id || ':' || tp.source_id AS source_id, c.source_id AS case_source_id, tp.source_id AS topic_source_id
FROM out_sf_cases c
JOIN stg_conversations sc ON sc.conversation_id = c.source_id,
     unnest(sc.tag_ids) AS t(tag_id)
JOIN out_sf_topics tp ON tp.source_id = t.tag_id;

-- A file of an email message is published to the Case and linked to the
-- EmailMessage too (ContentDocumentLink): one link per attachment.
CREATE OR REPLACE TABLE out_sf_file_links AS
SELECT attachment_id AS source_id, message_row
FROM (SELECT source_id AS message_row, unnest(attachment_ids) AS attachment_id FROM out_sf_messages WHERE kind = 'message')
QUALIFY row_number() OVER (PARTITION BY attachment_id ORDER BY message_row) = 1;
