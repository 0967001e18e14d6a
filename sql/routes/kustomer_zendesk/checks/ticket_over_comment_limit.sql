-- Tickets with more comments than Zendesk accepts (5,000).
SELECT ticket_source_id, count(*) AS comments FROM out_zendesk_comments GROUP BY ALL
HAVING count(*) > CAST(setting('max_comments_per_ticket') AS BIGINT);
