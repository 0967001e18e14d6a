-- No character lost: per conversation, the characters of all message and
-- note bodies equal those of the output comments plus bodies moved to files.
WITH src AS (
    SELECT conversation_id, sum(length(body)) AS chars FROM int_comment_source
    WHERE conversation_id IN (SELECT conversation_id FROM int_conversation_disposition WHERE disposition = 'load')
    GROUP BY ALL
), out AS (
    SELECT conversation_id, sum(length(coalesce(html_body, body))) AS chars FROM out_zendesk_comments
    WHERE NOT synthetic AND NOT (source_record_id IN (SELECT source_id FROM int_long_body_attachments)) GROUP BY ALL
), moved AS (SELECT conversation_id, sum(chars) AS chars FROM int_long_body_attachments GROUP BY ALL)
SELECT s.conversation_id, s.chars AS source_chars, coalesce(o.chars, 0) + coalesce(m.chars, 0) AS output_chars
FROM src s LEFT JOIN out o USING (conversation_id) LEFT JOIN moved m USING (conversation_id)
WHERE s.chars <> coalesce(o.chars, 0) + coalesce(m.chars, 0);
