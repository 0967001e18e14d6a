-- stg_preview_only_messages (Kustomer staging): one row per Kustomer record of messages whose full text ferry could not read.

-- Messages whose full text ferry could not read: their comments carry the
-- preview only. Listed by `ferry verify` and in the report.
CREATE OR REPLACE TABLE stg_preview_only_messages AS
SELECT message_id, conversation_id, channel, length(coalesce(preview, '')) AS preview_chars,
       CASE WHEN channel = 'email' THEN 'email: the preview is a plain-text snippet and the content at links.related was not read'
            ELSE 'the preview reaches the 10,240-character cap and the content at links.related was not read' END AS reason
FROM stg_messages WHERE NOT body_complete;
