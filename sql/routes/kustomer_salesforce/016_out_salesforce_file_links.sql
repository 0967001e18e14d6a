-- out_salesforce_file_links: each attachment's ContentDocumentLinks.

-- A file of an email message is published to the Case and linked to the
-- EmailMessage too (ContentDocumentLink): one link per attachment.
CREATE OR REPLACE TABLE out_salesforce_file_links AS
SELECT attachment_id AS source_id, message_row
FROM (SELECT source_id AS message_row, unnest(attachment_ids) AS attachment_id FROM out_salesforce_messages WHERE kind = 'message')
QUALIFY row_number() OVER (PARTITION BY attachment_id ORDER BY message_row) = 1;
