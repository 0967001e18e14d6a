-- stg_attachments (Intercom staging): one row per Intercom record of attachments of conversation parts.

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
