-- stg_conversations (Intercom staging): one row per Intercom record of conversations.

CREATE OR REPLACE TABLE stg_conversations AS
SELECT id AS conversation_id,
       json_extract_string(json, '$.contacts.contacts[0].id') AS contact_id,
       json_extract_string(json, '$.title') AS title, json_extract_string(json, '$.state') AS state,
       json_extract_string(json, '$.priority') AS priority,
       json_extract_string(json, '$.admin_assignee_id') AS admin_assignee_id,
       json_extract_string(json, '$.team_assignee_id') AS team_assignee_id,
       json_extract_string(json, '$.tags.tags[*].name') AS tag_names,
       json_extract_string(json, '$.source.type') AS channel,
       json_extract_string(json, '$.source.delivered_as') AS delivered_as,
       json_extract(json, '$.custom_attributes') AS custom,
       ic_time(json_extract(json, '$.snoozed_until')) AS snoozed_until,
       CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) AS parts_total,
       json_array_length(json, '$.conversation_parts.conversation_parts') AS parts_read,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_conversations;
