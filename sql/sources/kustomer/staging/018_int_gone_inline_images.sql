-- int_gone_inline_images (Kustomer, every route): the images inside message
-- bodies whose bytes ferry does not have — their host answered 404/403/410
-- (quarantined by the extract with the reason) or they were not
-- downloaded. A destination body must not keep their link to Kustomer:
-- each route replaces the <img> with a visible placeholder naming the file.

CREATE OR REPLACE TABLE int_gone_inline_images AS
SELECT q.source_id AS image_id, json_extract_string(q.json, '$.message_id') AS message_id,
       json_extract_string(q.json, '$.src') AS src,
       coalesce(nullif(regexp_extract(json_extract_string(q.json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image') AS file_name,
       q.reason
FROM ferry_quarantine q
WHERE q.source = 'kustomer' AND q.object = 'inline_images' AND q.source_id IS NOT NULL
  AND q.source_id NOT IN (SELECT image_id FROM stg_inline_images WHERE sha256 IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY q.source_id ORDER BY q.quarantined_at DESC) = 1
UNION ALL
SELECT image_id, message_id, src, file_name, 'the bytes were not downloaded (download_attachments = false)'
FROM stg_inline_images WHERE sha256 IS NULL;
