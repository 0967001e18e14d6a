-- 004 kobjects: Enchant has no custom objects. A customer's KObjects go
-- into one internal note on their most recent ticket (`kobjects = note`),
-- or into their summary (`kobjects = summary`, and always for a customer
-- with no ticket).

CREATE OR REPLACE TABLE kobject_lines AS
SELECT cc.canonical_id AS customer_source_id, k.kobject_id,
       coalesce(kl.display_name, kl.name, 'record') || ': ' || coalesce(k.title, k.kobject_id)
       || coalesce(' ' || CAST(k.custom AS VARCHAR), '') AS line, k.created_at
FROM stg_kobjects k
JOIN customer_canonical cc ON cc.customer_id = k.customer_id
LEFT JOIN stg_klasses kl ON kl.klass_id = k.klass_id;

CREATE OR REPLACE TABLE out_enchant_kobject_notes AS
SELECT 'kobjects:' || l.customer_source_id AS source_id, l.customer_source_id,
       -- Sorted, and ties broken by id: the same org gives the same rows.
       arg_max(t.source_id, t.created_at::VARCHAR || t.source_id) AS ticket_source_id,
       list_sort(list(DISTINCT l.kobject_id)) AS kobject_ids,
       string_agg(DISTINCT l.line, chr(10) ORDER BY l.line) AS body
FROM kobject_lines l
JOIN out_enchant_tickets t ON t.customer_source_id = l.customer_source_id
WHERE setting('kobjects') = 'note'
GROUP BY l.customer_source_id;
