-- Customers without a company → Leads (Company is required: the
-- placeholder setting lead_company), upserted by external id.
-- Custom attributes, externalId, tags and locale in custom fields.
SELECT l.source_id, l.source_id AS external_id, NULL::VARCHAR AS hold,
       sf_with_extras(to_json({FirstName: l.first_name, LastName: l.last_name, Company: l.company, Email: l.email, Phone: l.phone,
                               Description: l.description, Customer_Type__c: l.customer_type}),
                      'customers', 'Lead', l.source_id, s.kustomer_external_id, s.tag_ids, s.locale)::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_leads l
JOIN stg_customers s ON s.customer_id = l.source_id
WHERE ferry_pending('leads', l.source_id)
ORDER BY l.source_id
