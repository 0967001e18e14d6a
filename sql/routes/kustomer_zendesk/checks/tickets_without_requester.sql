-- Tickets whose requester is not an output user (Zendesk requires one).
SELECT source_id, conversation_id, requester_source_id FROM out_zendesk_tickets
WHERE requester_source_id IS NULL OR requester_source_id NOT IN (SELECT source_id FROM out_zendesk_users);
