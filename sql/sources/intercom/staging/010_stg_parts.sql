-- stg_parts (Intercom staging): one row per Intercom record of conversation parts.

-- Every record of a conversation's thread: its first message (`source`,
-- id `<conversation>:source`, position 0) and each part, in order.
CREATE OR REPLACE TABLE stg_parts AS
SELECT c.id || ':source' AS part_id, c.id AS conversation_id, 0 AS position, 'source' AS part_type,
       safe_html(json_extract_string(c.json, '$.source.body')) AS body,
       json_extract_string(c.json, '$.source.subject') AS subject,
       json_extract_string(c.json, '$.source.author.type') AS author_type,
       json_extract_string(c.json, '$.source.author.id') AS author_id,
       json_extract_string(c.json, '$.source.author.name') AS author_name,
       json_extract_string(c.json, '$.source.author.email') AS author_email,
       ic_time(json_extract(c.json, '$.created_at')) AS created_at
FROM raw_intercom_conversations c
UNION ALL
SELECT json_extract_string(p.value, '$.id'), c.id, CAST(p.key AS INTEGER) + 1,
       json_extract_string(p.value, '$.part_type'),
       safe_html(json_extract_string(p.value, '$.body')), NULL,
       json_extract_string(p.value, '$.author.type'), json_extract_string(p.value, '$.author.id'),
       json_extract_string(p.value, '$.author.name'), json_extract_string(p.value, '$.author.email'),
       ic_time(json_extract(p.value, '$.created_at'))
FROM raw_intercom_conversations c, json_each(c.json, '$.conversation_parts.conversation_parts') p;
