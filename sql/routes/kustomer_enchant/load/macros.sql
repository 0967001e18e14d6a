-- Enchant keeps no original times, channels or source ids. These headers
-- carry them; edit the wording here (it is a SQL template), but keep the
-- `[ferry <id>]` marker: a crashed run finds what it sent by it, and
-- verify checks the order by it.
CREATE OR REPLACE TEMP MACRO enchant_time(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%d %H:%M UTC');
CREATE OR REPLACE TEMP MACRO enchant_ticket_header(t) AS
    'Migrated from Kustomer conversation ' || t.source_id || ' [ferry ' || t.source_id || ']' || chr(10)
    || 'Channel: ' || coalesce(t.channel, 'unknown') || ' · opened ' || enchant_time(t.created_at)
    || coalesce(' · done ' || enchant_time(t.done_at), '')
    || ' · Kustomer status ' || coalesce(t.kustomer_status, '?')
    || coalesce(' · priority ' || t.priority, '')
    || CASE WHEN len(t.tag_names) > 0 THEN chr(10) || 'Kustomer tags: ' || array_to_string(t.tag_names, ', ') ELSE '' END
    || coalesce(chr(10) || nullif(t.details, ''), '');
CREATE OR REPLACE TEMP MACRO enchant_message_header(m) AS
    CASE WHEN m.author_kind = 'customer' THEN 'Customer message'
         WHEN m.kind = 'note' THEN 'Internal note by ' || coalesce(m.author_name, m.author_email, m.author_user_id, 'unknown agent')
         ELSE 'Agent reply by ' || coalesce(m.author_name, m.author_email, m.author_user_id, 'unknown agent') END
    || ' · ' || coalesce(m.channel, 'note') || ' · ' || enchant_time(m.created_at)
    || coalesce(' · from ' || nullif(trim(m.email_from), ''), '')
    || coalesce(' · to ' || nullif(array_to_string(m.email_to, ', '), ''), '')
    || coalesce(' · subject: ' || nullif(trim(m.subject), ''), '')
    || ' [ferry ' || m.source_id || ']';
CREATE OR REPLACE TEMP MACRO enchant_escape(s) AS replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;');
-- The fallback agent's Enchant id, once the agents phase matched it.
CREATE OR REPLACE TEMP MACRO enchant_fallback_id() AS (
    SELECT dest_id FROM ferry_loaded('agents') WHERE source_id = 'ferry:fallback');

-- The files messages carry: attachments and the inline images of their
-- bodies (stg_inline_images), one list to upload and reference.
CREATE OR REPLACE TEMP MACRO enchant_files() AS TABLE
    SELECT attachment_id, file_name, content_type, sha256, size_bytes FROM stg_attachments
    UNION ALL
    SELECT image_id, file_name,
           CASE lower(regexp_extract(file_name, '\.([A-Za-z0-9]+)$', 1))
                WHEN 'png' THEN 'image/png' WHEN 'jpg' THEN 'image/jpeg' WHEN 'jpeg' THEN 'image/jpeg'
                WHEN 'gif' THEN 'image/gif' WHEN 'webp' THEN 'image/webp' WHEN 'svg' THEN 'image/svg+xml'
                ELSE 'application/octet-stream' END,
           sha256, size_bytes
    FROM stg_inline_images;
