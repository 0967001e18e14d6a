-- stg_data_attributes (Intercom staging): one row per Intercom record of data attributes (custom attribute definitions).

CREATE OR REPLACE TABLE stg_data_attributes AS
SELECT id AS attribute_id, json_extract_string(json, '$.model') AS model,
       json_extract_string(json, '$.name') AS name, json_extract_string(json, '$.label') AS label,
       json_extract_string(json, '$.data_type') AS data_type,
       coalesce(TRY_CAST(json_extract(json, '$.custom') AS BOOLEAN), false) AS custom,
       coalesce(TRY_CAST(json_extract(json, '$.archived') AS BOOLEAN), false) AS archived
FROM raw_intercom_data_attributes;
