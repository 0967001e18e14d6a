-- Comments larger than Zendesk accepts (a limit of bytes, HTML included).
SELECT source_id, ticket_source_id, strlen(coalesce(html_body, body)) AS bytes FROM out_zendesk_comments
WHERE strlen(coalesce(html_body, body)) > CAST(setting('max_comment_bytes') AS BIGINT);
