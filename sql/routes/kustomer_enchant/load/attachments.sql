-- Files of messages still to send, uploaded first (POST /attachments,
-- base64), then named by id on their message. Files over
-- destination.max_attachment_mb are held with the reason.
SELECT a.attachment_id AS source_id, NULL::VARCHAR AS external_id,
       CASE WHEN a.sha256 IS NULL THEN 'attachment bytes were not downloaded'
            WHEN a.size_bytes > getvariable('enchant_max_bytes')
                 THEN 'file is ' || a.size_bytes || ' bytes, over destination.max_attachment_mb' END AS hold,
       to_json({name: regexp_replace(coalesce(a.file_name, 'attachment'), '[/\\]', '_', 'g'),
                type: coalesce(a.content_type, 'application/octet-stream'), sha256: a.sha256})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM enchant_files() a
WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_enchant_messages
                          WHERE source_id NOT IN (SELECT source_id FROM ferry_loaded('messages')))
  AND ferry_pending('attachments', a.attachment_id)
ORDER BY a.attachment_id
