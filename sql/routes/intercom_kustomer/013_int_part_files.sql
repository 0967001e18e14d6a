-- int_part_files: the attachments of each conversation part.

CREATE OR REPLACE TABLE int_part_files AS
SELECT part_id, list(attachment_id ORDER BY attachment_id) AS attachment_ids
FROM stg_attachments GROUP BY part_id;
