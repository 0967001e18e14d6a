-- Attachments → ContentVersions (base64 JSON, multipart for large files) with
-- FirstPublishLocationId = the message's Case, which links the file there.
SELECT a.attachment_id AS source_id, a.attachment_id AS external_id,
       CASE WHEN a.sha256 IS NULL THEN 'attachment bytes were not downloaded'
            WHEN a.size_bytes > 2147483648 THEN 'file is ' || a.size_bytes || ' bytes: over the 2 GB a ContentVersion holds' END AS hold,
       to_json({Title: left(coalesce(a.file_name, 'attachment'), 255),
                PathOnClient: left(regexp_replace(coalesce(a.file_name, 'attachment'), '[/\\]', '_', 'g'), 500),
                FirstPublishLocationId: t.dest_id, sha256: a.sha256})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM salesforce_files() a
JOIN (SELECT DISTINCT conversation_id, unnest(attachment_ids) AS attachment_id FROM out_salesforce_messages) ma USING (attachment_id)
JOIN ferry_loaded('cases') t ON t.source_id = ma.conversation_id
WHERE ferry_pending('files', a.attachment_id)
ORDER BY a.attachment_id
