-- State, labels and assignee of loaded tickets (TicketCreate takes
-- neither state nor labels): one PATCH each, after the messages. The
-- engine compares this payload to find changes at a cutover.
SELECT t.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({state: t.state, label_ids: t.label_ids, user_id: a.dest_id})::VARCHAR AS payload,
       l.dest_id AS path_arg
FROM out_enchant_tickets t
JOIN ferry_loaded('tickets') l ON l.source_id = t.source_id
LEFT JOIN ferry_loaded('agents') a ON a.source_id = t.assignee_source_id
WHERE ferry_pending('ticket_state', t.source_id)
ORDER BY t.source_id
