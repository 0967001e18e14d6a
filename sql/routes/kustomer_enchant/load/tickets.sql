-- Conversations → email tickets with their header note, after their
-- customer. external_id is the customer's Enchant id: an in-doubt ticket
-- is found among that customer's recent tickets by its marker.
SELECT t.source_id, c.dest_id AS external_id,
       CASE WHEN c.dest_id IS NULL THEN 'customer ' || coalesce(t.customer_source_id, '(none)') || ' is not loaded'
            WHEN enchant_fallback_id() IS NULL THEN 'the fallback agent ' || getvariable('enchant_fallback_email') || ' is not matched to an Enchant user (agents phase)' END AS hold,
       to_json({type: 'email', subject: t.subject, customer_id: c.dest_id, user_id: a.dest_id,
                inbox_id: coalesce(getvariable('enchant_sandbox_inbox'), t.inbox_id),
                messages: [{type: 'note', user_id: enchant_fallback_id(), body: enchant_ticket_header(t), htmlized: false}]})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_enchant_tickets t
LEFT JOIN ferry_loaded('customers') c ON c.source_id = t.customer_source_id
LEFT JOIN ferry_loaded('agents') a ON a.source_id = t.assignee_source_id
WHERE ferry_pending('tickets', t.source_id)
ORDER BY CASE WHEN getvariable('ferry_open_first') AND t.state <> 'closed' THEN 0 ELSE 1 END, t.created_at, t.source_id
