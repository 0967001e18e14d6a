-- Zendesk rejects future timestamps and rounds those before 1970: list them
-- instead of letting the API change history.
SELECT 'ticket' AS record, source_id, created_at, updated_at FROM out_zendesk_tickets
WHERE created_at > now() OR updated_at > now() OR created_at < TIMESTAMPTZ '1970-01-01' OR solved_at > now()
UNION ALL
SELECT 'comment', source_id, created_at, NULL FROM out_zendesk_comments
WHERE created_at > now() OR created_at < TIMESTAMPTZ '1970-01-01';
