-- out_salesforce_leads: the customers that become Leads.

CREATE OR REPLACE TABLE out_salesforce_leads AS
SELECT * EXCLUDE (sobject, account_source_id), left(setting('lead_company'), 255) AS company
FROM int_customer_people WHERE sobject = 'lead';
