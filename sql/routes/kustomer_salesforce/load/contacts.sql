-- Customers of a company → Contacts (Bulk API 2.0 upsert by external id),
-- linked to their Account by its external id (`Account.<field>` column).
SELECT c.source_id, c.source_id AS external_id,
       CASE WHEN c.account_source_id IS NOT NULL AND a.dest_id IS NULL THEN 'account ' || c.account_source_id || ' is not loaded' END AS hold,
       to_json({FirstName: c.first_name, LastName: c.last_name, Email: c.email, Phone: c.phone,
                Description: c.description, Customer_Type__c: c.customer_type,
                "Account.": c.account_source_id})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_contacts c
LEFT JOIN ferry_loaded('accounts') a ON a.source_id = c.account_source_id
WHERE ferry_pending('contacts', c.source_id)
ORDER BY c.source_id
