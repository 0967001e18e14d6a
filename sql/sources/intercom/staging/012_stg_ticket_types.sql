-- stg_ticket_types (Intercom staging): one row per Intercom record of ticket types.

CREATE OR REPLACE TABLE stg_ticket_types AS
SELECT id AS ticket_type_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.description') AS description,
       json_extract_string(json, '$.category') AS category,
       coalesce(TRY_CAST(json_extract(json, '$.archived') AS BOOLEAN), false) AS archived,
       json_extract(json, '$.ticket_type_attributes.ticket_type_attributes') AS attributes
FROM raw_intercom_ticket_types;
