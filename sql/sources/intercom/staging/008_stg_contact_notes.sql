-- stg_contact_notes (Intercom staging): one row per Intercom record of notes on contacts.

CREATE OR REPLACE TABLE stg_contact_notes AS
SELECT id AS note_id, json_extract_string(json, '$.contact.id') AS contact_id,
       safe_html(json_extract_string(json, '$.body')) AS body,
       json_extract_string(json, '$.author.id') AS author_id,
       ic_time(json_extract(json, '$.created_at')) AS created_at
FROM raw_intercom_contact_notes;
