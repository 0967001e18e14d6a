-- kustomer_inline_image_accounting: the ferry_accounting rows of inline
-- images, the same on every Kustomer route. An image follows its
-- conversation when that is archived or excluded; else it is output when
-- the route carries it (`carried`: the image ids its output tables list,
-- `target`: where, `output_reason`: how), or excluded: without bytes (download_attachments =
-- false) the message shows a placeholder naming the file; with bytes, for
-- the route's `left_reason` (NULL: the route leaves none, and an image it
-- did not carry stays unaccounted, failing checks/unaccounted_records).
CREATE OR REPLACE MACRO kustomer_inline_image_accounting(carried, target, output_reason, left_reason) AS TABLE
SELECT 'inline_images' AS object, i.image_id AS source_id,
       CASE WHEN d.disposition <> 'load' THEN d.disposition
            WHEN c.image_id IS NOT NULL THEN 'output' ELSE 'excluded' END AS bucket,
       CASE WHEN d.disposition = 'archived' THEN 'int_archive_conversations'
            WHEN d.disposition <> 'load' THEN 'int_excluded_conversations'
            WHEN c.image_id IS NOT NULL THEN target ELSE 'stg_inline_images' END AS target,
       CASE WHEN d.disposition <> 'load' THEN 'conversation ' || d.reason
            WHEN c.image_id IS NOT NULL THEN output_reason
            WHEN i.sha256 IS NULL THEN 'the bytes were not downloaded (download_attachments = false): the message shows a placeholder naming the file'
            ELSE replace(left_reason, '{message}', i.message_id) END AS reason
FROM stg_inline_images i
JOIN stg_messages m USING (message_id)
JOIN int_conversation_disposition d USING (conversation_id)
-- (a join, not a list lookup per image: thousands of images on a big export)
LEFT JOIN (SELECT DISTINCT unnest(carried) AS image_id) c ON c.image_id = i.image_id
WHERE d.disposition <> 'load' OR c.image_id IS NOT NULL OR i.sha256 IS NULL OR left_reason IS NOT NULL;
