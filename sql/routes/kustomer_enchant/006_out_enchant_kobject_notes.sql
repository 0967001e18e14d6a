-- out_enchant_kobject_notes: a customer's KObjects in one internal note
-- on their most recent ticket (`kobjects = note`); into their summary
-- (`kobjects = summary`, and always for a customer with no ticket). A
-- company's own KObjects always go to its customers' summaries.

CREATE OR REPLACE TABLE out_enchant_kobject_notes AS
SELECT 'kobjects:' || l.customer_source_id AS source_id, l.customer_source_id,
       -- Sorted, and ties broken by id: the same org gives the same rows.
       arg_max(t.source_id, t.created_at::VARCHAR || t.source_id) AS ticket_source_id,
       list_sort(list(DISTINCT l.kobject_id)) AS kobject_ids,
       string_agg(DISTINCT l.line, chr(10) ORDER BY l.line) AS body
FROM int_kobject_lines l
JOIN out_enchant_tickets t ON t.customer_source_id = l.customer_source_id
WHERE setting('kobjects') = 'note' AND l.via = 'customer'
GROUP BY l.customer_source_id;
