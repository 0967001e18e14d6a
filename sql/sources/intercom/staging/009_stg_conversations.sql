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
       nullif(trim(json_extract_string(json, '$.source.subject')), '') AS subject,
       TRY_CAST(json_extract(json, '$.ai_agent_participated') AS BOOLEAN) AS ai_agent_participated,
       -- linked_objects.data[]: {type: ticket|conversation, id, category}
       -- (intercom-openapi-2.14.yaml, linked_object).
       list_transform(CAST(coalesce(json_extract(json, '$.linked_objects.data[*]'), '[]') AS JSON[]),
                      lambda o: json_extract_string(o, '$.type') || ' ' || json_extract_string(o, '$.id')) AS linked_objects,
       TRY_CAST(json_extract(json, '$.conversation_rating.rating') AS INTEGER) AS rating,
       nullif(trim(json_extract_string(json, '$.conversation_rating.remark')), '') AS rating_remark,
       ic_time(json_extract(json, '$.conversation_rating.created_at')) AS rating_created_at,
       ic_time(json_extract(json, '$.snoozed_until')) AS snoozed_until,
       CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) AS parts_total,
       json_array_length(json, '$.conversation_parts.conversation_parts') AS parts_read,
       ic_time(json_extract(json, '$.created_at')) AS created_at, updated_at
FROM raw_intercom_conversations;
