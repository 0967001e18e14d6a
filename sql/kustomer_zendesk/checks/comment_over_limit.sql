-- Comments longer than Zendesk accepts (65,535 characters).
SELECT source_id, ticket_source_id, length(coalesce(html_body, body)) AS chars FROM out_zendesk_comments
WHERE length(coalesce(html_body, body)) > CAST(setting('max_comment_chars') AS BIGINT);
