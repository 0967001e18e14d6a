-- A file of an email message, published to its Case, is linked to the
-- EmailMessage too (ContentDocumentLink; the load finds the
-- ContentDocument of the ContentVersion it created).
SELECT k.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({ContentVersionId: f.dest_id, LinkedEntityId: e.dest_id, ShareType: 'V'})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_file_links k
JOIN ferry_loaded('files') f ON f.source_id = k.source_id
JOIN ferry_loaded('email_messages') e ON e.source_id = k.message_row
WHERE ferry_pending('file_links', k.source_id)
ORDER BY k.source_id
