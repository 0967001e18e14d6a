-- Customers without a company → Leads (Company is required: the
-- placeholder setting lead_company), upserted by external id.
SELECT source_id, source_id AS external_id, NULL::VARCHAR AS hold,
       to_json({FirstName: first_name, LastName: last_name, Company: company, Email: email, Phone: phone,
                Description: description, Customer_Type__c: customer_type})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_leads
WHERE ferry_pending('leads', source_id)
ORDER BY source_id
