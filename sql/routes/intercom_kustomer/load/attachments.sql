-- Files and inline images of messages and notes still to send, uploaded
-- first (POST /v1/attachments, then the presigned POST of the bytes).
SELECT a.attachment_id AS source_id, NULL::VARCHAR AS external_id,
       CASE WHEN a.sha256 IS NULL THEN 'attachment bytes were not downloaded' END AS hold,
       to_json({name: regexp_replace(a.file_name, '[/\\]', '_', 'g'), contentType: a.content_type, sha256: a.sha256})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM stg_attachments a
WHERE a.part_id IN (SELECT source_id FROM out_kustomer_messages WHERE ferry_pending('messages', source_id)
                    UNION ALL SELECT source_id FROM out_kustomer_notes WHERE ferry_pending('notes', source_id))
  AND ferry_pending('attachments', a.attachment_id)
ORDER BY a.attachment_id
