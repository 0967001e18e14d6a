-- A customer's KObjects as one internal note on their latest ticket.
SELECT k.source_id, t.dest_id AS external_id,
       CASE WHEN enchant_fallback_id() IS NULL THEN 'the fallback agent is not matched' END AS hold,
       to_json({type: 'note', user_id: enchant_fallback_id(),
                body: 'Kustomer records of this customer [ferry ' || k.source_id || ']' || chr(10) || chr(10) || k.body,
                htmlized: false})::VARCHAR AS payload,
       t.dest_id AS path_arg
FROM out_enchant_kobject_notes k
JOIN ferry_loaded('tickets') t ON t.source_id = k.ticket_source_id
WHERE ferry_pending('kobject_notes', k.source_id)
ORDER BY t.dest_id, k.source_id
