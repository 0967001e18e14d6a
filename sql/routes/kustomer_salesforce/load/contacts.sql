-- Customers of a company → Contacts (Bulk API 2.0 upsert by external id),
-- linked to their Account by its external id (`Account.<field>` column).
SELECT c.source_id, c.source_id AS external_id,
       CASE WHEN c.account_source_id IS NOT NULL AND a.dest_id IS NULL THEN 'account ' || c.account_source_id || ' is not loaded' END AS hold,
       -- Custom attributes, externalId, tags and locale in custom fields.
       sf_with_extras(to_json({FirstName: c.first_name, LastName: c.last_name, Email: c.email, Phone: c.phone,
                               Description: c.description, Customer_Type__c: c.customer_type,
                               "Account.": c.account_source_id}),
                      'customers', 'Contact', c.source_id, s.kustomer_external_id, s.tag_ids, s.locale)::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_contacts c
JOIN stg_customers s ON s.customer_id = c.source_id
LEFT JOIN ferry_loaded('accounts') a ON a.source_id = c.account_source_id
WHERE ferry_pending('contacts', c.source_id)
ORDER BY c.source_id
