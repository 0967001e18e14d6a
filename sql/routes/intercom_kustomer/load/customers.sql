-- Customers linked to their company, 100 a bulk request.
WITH undeclared AS (
    SELECT count(*) AS n FROM out_kustomer_metadata m
    WHERE m.resource = 'customer' AND m.source_id NOT IN (SELECT source_id FROM ferry_loaded('metadata'))
)
SELECT c.source_id, c.source_id AS external_id,
       CASE WHEN (SELECT n FROM undeclared) > 0 THEN 'custom attributes of customers are not declared yet (phase metadata)'
            WHEN c.company_source_id IS NOT NULL AND co.dest_id IS NULL THEN 'its company ' || c.company_source_id || ' is not loaded' END AS hold,
       to_json({externalId: c.source_id, name: c.name,
                emails: CASE WHEN c.email IS NOT NULL THEN [{type: 'other', email: c.email}] END,
                phones: CASE WHEN c.phone IS NOT NULL THEN [{type: 'other', phone: c.phone}] END,
                company: co.dest_id, tags: c.tag_names, locations: c.locations, custom: c.custom,
                createdAt: kus_time(c.created_at), signedUpAt: kus_time(c.signed_up_at),
                lastSeenAt: kus_time(c.last_seen_at), importedAt: kus_now()})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_customers c
LEFT JOIN ferry_loaded('companies') co ON co.source_id = c.company_source_id
WHERE ferry_pending('customers', c.source_id)
ORDER BY c.source_id
