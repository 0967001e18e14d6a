-- Views auditors query after a load (re-created by every `ferry load`).

-- Files referenced by comments of imported tickets that have no upload:
-- what `missing_files = "skip"` left out, one row per file and comment,
-- with why.
CREATE OR REPLACE VIEW zendesk_files_left_out AS
SELECT c.ticket_source_id, c.source_id AS comment_source_id, x.aid AS attachment_id, a.file_name,
       CASE WHEN a.attachment_id IS NULL THEN 'attachment record not extracted'
            WHEN a.sha256 IS NULL THEN 'bytes not downloaded'
            -- refused by Zendesk, or held back before sending (over the
            -- account's attachment size limit: the comment names it)
            ELSE coalesce('upload refused: HTTP ' || e.http_status || ' ' || e.error_body, e.error_body, 'no upload') END AS why
FROM out_zendesk_comments c, unnest(c.attachment_ids || c.inline_image_ids) AS x(aid)
-- Attachments and the inline images of the comment's HTML.
LEFT JOIN (SELECT attachment_id, file_name, sha256 FROM stg_attachments
           UNION ALL SELECT image_id, file_name, sha256 FROM stg_inline_images) a ON a.attachment_id = x.aid
LEFT JOIN (SELECT source_id, any_value(http_status) AS http_status, arg_max(error_body, http_status IS NOT NULL) AS error_body
           FROM ferry_load_errors WHERE object = 'uploads' GROUP BY source_id) e
       ON e.source_id = x.aid
WHERE c.ticket_source_id IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'tickets')
  AND x.aid NOT IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'uploads');
