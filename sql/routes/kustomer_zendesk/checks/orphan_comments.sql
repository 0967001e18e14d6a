-- Comments that would be sent without their ticket. (Messages and notes
-- whose conversation was never extracted are not sent at all: they are in
-- ferry_accounting as excluded, reason 'orphan: …', and in
-- `ferry archive --set excluded`.)
SELECT c.source_id, c.ticket_source_id FROM out_zendesk_comments c
WHERE c.ticket_source_id NOT IN (SELECT source_id FROM out_zendesk_tickets);
