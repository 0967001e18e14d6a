-- stg_companies (Intercom staging): one row per Intercom record of companies.

CREATE OR REPLACE TABLE stg_companies AS
SELECT id AS company_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.website') AS website,
       json_extract_string(json, '$.company_id') AS company_code,
       json_extract(json, '$.custom_attributes') AS custom,
       json_extract_string(json, '$.tags.tags[*].name') AS tag_names,
       json_extract_string(json, '$.industry') AS industry,
       TRY_CAST(json_extract(json, '$.monthly_spend') AS DOUBLE) AS monthly_spend,
       json_extract_string(json, '$.plan.name') AS plan_name,
       TRY_CAST(json_extract(json, '$.size') AS BIGINT) AS size,
       ic_time(json_extract(json, '$.remote_created_at')) AS remote_created_at,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_companies;
