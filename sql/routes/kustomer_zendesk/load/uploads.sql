-- Attachments of tickets not loaded yet (of the current window when
-- windowed), and of new comments on loaded tickets, whose bytes were downloaded (sha256 known) and that have no
-- fresh token: a token past `upload_token_minutes` is uploaded again.
-- Inline images (stg_inline_images) are uploaded the same way: their
-- comment references them and shows them from Zendesk's URL.
WITH files AS (
    SELECT attachment_id, file_name, content_type, sha256, size_bytes FROM stg_attachments
    UNION ALL
    SELECT image_id, file_name,
           CASE lower(regexp_extract(file_name, '\.([A-Za-z0-9]+)$', 1))
                WHEN 'png' THEN 'image/png' WHEN 'jpg' THEN 'image/jpeg' WHEN 'jpeg' THEN 'image/jpeg'
                WHEN 'gif' THEN 'image/gif' WHEN 'webp' THEN 'image/webp' WHEN 'svg' THEN 'image/svg+xml'
                ELSE 'application/octet-stream' END,
           sha256, size_bytes
    FROM stg_inline_images
)
SELECT a.attachment_id AS source_id, NULL::VARCHAR AS external_id,
       CASE WHEN a.sha256 IS NULL THEN 'attachment bytes were not downloaded'
            WHEN zendesk_over_limit(a.size_bytes)
                 THEN 'file is ' || a.size_bytes || ' bytes, over the account''s attachment size limit of '
                      || getvariable('zendesk_attachment_limit') || ' bytes (Account Settings limits.attachment_size): not uploaded; '
                      || 'its comment names it and the ticket loads without it' END AS hold,
       to_json({file_name: regexp_replace(coalesce(a.file_name, 'attachment'), '[/\\]', '_', 'g'),
                content_type: a.content_type, sha256: a.sha256})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM files a
WHERE a.attachment_id IN (
        SELECT unnest(c.attachment_ids || c.inline_image_ids) FROM out_zendesk_comments c
        WHERE c.ticket_source_id NOT IN (SELECT source_id FROM ferry_loaded('tickets'))
          AND ferry_in_window(c.ticket_source_id)
        -- Files of comments written after their ticket was imported
        -- (load/comments.sql sends those comments after the tickets).
        UNION ALL
        SELECT unnest(c.attachment_ids || c.inline_image_ids) FROM out_zendesk_comments c
        WHERE c.ticket_source_id IN (SELECT source_id FROM ferry_loaded('tickets'))
          AND c.source_id NOT IN (SELECT source_id FROM ferry_loaded('comments'))
          AND NOT EXISTS (SELECT 1 FROM ferry_carried('tickets') x
                          WHERE x.parent_source_id = c.ticket_source_id AND x.source_id = c.source_id))
  AND a.attachment_id NOT IN (SELECT source_id FROM zendesk_fresh_uploads())
  AND ferry_wanted('uploads', a.attachment_id)
ORDER BY a.attachment_id
