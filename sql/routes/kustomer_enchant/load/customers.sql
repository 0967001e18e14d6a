-- Customers, found by contact email first (external_id), else created.
SELECT source_id, email AS external_id, NULL::VARCHAR AS hold,
       to_json({first_name: first_name, last_name: last_name, summary: summary, contacts: contacts})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_enchant_customers
WHERE ferry_pending('customers', source_id)
ORDER BY source_id
