-- stg_tickets (Intercom staging): one row per Intercom record of tickets.

CREATE OR REPLACE TABLE stg_tickets AS
SELECT id AS ticket_id, json_extract_string(json, '$.ticket_type.id') AS ticket_type_id,
       json_extract_string(json, '$.contacts.contacts[0].id') AS contact_id,
       json_extract_string(json, '$.ticket_attributes._default_title_') AS title,
       json_extract_string(json, '$.ticket_attributes._default_description_') AS description,
       json_extract(json, '$.ticket_attributes') AS attributes,
       json_extract_string(json, '$.ticket_state.internal_label') AS state,
       json_extract_string(json, '$.ticket_id') AS ticket_number,
       json_extract_string(json, '$.category') AS category,
       json_extract_string(json, '$.admin_assignee_id') AS admin_assignee_id,
       json_extract_string(json, '$.team_assignee_id') AS team_assignee_id,
       TRY_CAST(json_extract(json, '$.is_shared') AS BOOLEAN) AS is_shared,
       json_extract(json, '$.ticket_parts.ticket_parts') AS parts,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_tickets;
