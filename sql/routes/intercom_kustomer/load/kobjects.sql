-- Tickets → KObjects of their klass, 100 a bulk request, one klass per
-- batch (the klass is in the path). external_id `klass/ticket id` finds an
-- in-doubt one with GET /v1/klasses/{name}/externalId=.
SELECT k.source_id, k.klass_name || '/' || k.source_id AS external_id,
       CASE WHEN kl.dest_id IS NULL THEN 'its klass ' || k.klass_name || ' is not loaded'
            WHEN cu.dest_id IS NULL THEN 'its customer ' || k.customer_source_id || ' is not loaded' END AS hold,
       to_json({externalId: k.source_id, customer: cu.dest_id, title: k.title, description: k.description,
                data: k.attributes, createdAt: kus_time(k.created_at), importedAt: kus_now()})::VARCHAR AS payload,
       k.klass_name AS path_arg
FROM out_kustomer_kobjects k
LEFT JOIN ferry_loaded('klasses') kl ON kl.source_id = k.ticket_type_id
LEFT JOIN ferry_loaded('customers') cu ON cu.source_id = k.customer_source_id
WHERE ferry_pending('kobjects', k.source_id)
ORDER BY k.klass_name, k.source_id
