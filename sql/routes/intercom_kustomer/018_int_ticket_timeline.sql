-- int_ticket_timeline: a ticket's parts as text, one a line
-- `<time> <author> (<part type>): <text> [files: …]` (Intercom's
-- ticket_part: intercom-openapi-2.14.yaml). Kustomer has no conversation on
-- a KObject, so the timeline travels as the KObject's intercomConversation.

CREATE OR REPLACE TABLE int_ticket_timeline AS
WITH parts AS (
    SELECT t.ticket_id, u.i, u.p
    FROM stg_tickets t, unnest(CAST(t.parts AS JSON[])) WITH ORDINALITY AS u(p, i)
    WHERE json_type(t.parts) = 'ARRAY'
)
SELECT ticket_id,
       string_agg(concat_ws(' ',
           strftime(CAST(ic_time(json_extract(p, '$.created_at')) AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'),
           coalesce(nullif(json_extract_string(p, '$.author.name'), ''), json_extract_string(p, '$.author.type'))
               || CASE WHEN json_extract_string(p, '$.author.email') IS NOT NULL THEN ' <' || json_extract_string(p, '$.author.email') || '>' ELSE '' END,
           '(' || json_extract_string(p, '$.part_type') || '):',
           nullif(ic_html_text(json_extract_string(p, '$.body')), ''),
           '[files: ' || nullif(array_to_string(CAST(json_extract_string(p, '$.attachments[*].name') AS VARCHAR[]), ', '), '') || ']'),
           chr(10) ORDER BY i) AS timeline
FROM parts GROUP BY ticket_id;
