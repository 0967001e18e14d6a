-- int_part_files: the attachments of each conversation part.

CREATE OR REPLACE TABLE int_part_files AS
SELECT part_id, list(attachment_id ORDER BY attachment_id) AS attachment_ids,
       -- The inline images' file names in body order (ids end in :img<n>).
       list(file_name ORDER BY TRY_CAST(regexp_extract(attachment_id, ':img([0-9]+)$', 1) AS INTEGER))
           FILTER (WHERE kind = 'inline_image') AS inline_names
FROM stg_attachments GROUP BY part_id;
