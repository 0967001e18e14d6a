-- stg_admins (Intercom staging): one row per Intercom record of admins.

CREATE OR REPLACE TABLE stg_admins AS
SELECT id AS admin_id, json_extract_string(json, '$.name') AS name,
       lower(trim(json_extract_string(json, '$.email'))) AS email,
       coalesce(TRY_CAST(json_extract(json, '$.has_inbox_seat') AS BOOLEAN), true) AS has_inbox_seat
FROM raw_intercom_admins;
