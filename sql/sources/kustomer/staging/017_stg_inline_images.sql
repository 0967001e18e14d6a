-- stg_inline_images (Kustomer staging): one row per image inside a message
-- body (<img> with an http(s) link, the extract's inline_images stream),
-- with the bytes' hash when they were downloaded (attachments/<sha256>).
-- An image its host no longer served is in ferry_quarantine instead.

CREATE OR REPLACE TABLE stg_inline_images AS
SELECT id AS image_id,
       json_extract_string(json, '$.message_id') AS message_id,
       TRY_CAST(json_extract_string(json, '$.position') AS INTEGER) AS position,
       json_extract_string(json, '$.src') AS src,
       -- The name the link ends in (…/inline/80.png → 80.png).
       coalesce(nullif(regexp_extract(json_extract_string(json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image') AS file_name,
       sha256, size_bytes
FROM raw_kustomer_inline_images;
