-- stg_tags (Intercom staging): one row per Intercom record of tags.

CREATE OR REPLACE TABLE stg_tags AS
SELECT id AS tag_id, json_extract_string(json, '$.name') AS name FROM raw_intercom_tags;
