-- stg_contacts (Intercom staging): one row per Intercom record of contacts (users and leads).

CREATE OR REPLACE TABLE stg_contacts AS
SELECT id AS contact_id, json_extract_string(json, '$.role') AS role,
       lower(trim(json_extract_string(json, '$.email'))) AS email,
       json_extract_string(json, '$.name') AS name, json_extract_string(json, '$.phone') AS phone,
       json_extract_string(json, '$.external_id') AS external_id,
       json_extract_string(json, '$.companies.data[*].id') AS company_ids,
       json_extract_string(json, '$.tags.data[*].id') AS tag_ids,
       json_extract(json, '$.custom_attributes') AS custom,
       json_extract_string(json, '$.browser') AS browser,
       json_extract_string(json, '$.browser_version') AS browser_version,
       json_extract_string(json, '$.browser_language') AS browser_language,
       json_extract_string(json, '$.os') AS os,
       nullif(trim(json_extract_string(json, '$.location.city')), '') AS city,
       nullif(trim(json_extract_string(json, '$.location.region')), '') AS region,
       nullif(trim(json_extract_string(json, '$.location.country')), '') AS country,
       TRY_CAST(json_extract(json, '$.unsubscribed_from_emails') AS BOOLEAN) AS unsubscribed_from_emails,
       ic_time(json_extract(json, '$.created_at')) AS created_at,
       ic_time(json_extract(json, '$.signed_up_at')) AS signed_up_at,
       ic_time(json_extract(json, '$.last_seen_at')) AS last_seen_at, updated_at
FROM raw_intercom_contacts;
