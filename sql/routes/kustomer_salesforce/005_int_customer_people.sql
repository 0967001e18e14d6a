-- int_customer_people: customers → Contacts when they belong to a
-- company, otherwise Leads (setting customers_without_company: "lead",
-- with the placeholder Company lead_company, or "contact"). Customers
-- sharing their primary email are one record (the oldest).

CREATE OR REPLACE TABLE int_customer_people AS
SELECT c.customer_id AS source_id,
       CASE WHEN co.canonical_id IN (SELECT source_id FROM out_salesforce_accounts) THEN 'contact'
            WHEN setting('customers_without_company') = 'contact' THEN 'contact'
            ELSE 'lead' END AS sobject,
       -- LastName is required: the last word of the name, else the email.
       left(nullif(trim(CASE WHEN strpos(trim(c.name), ' ') > 0 THEN substr(trim(c.name), 1, length(trim(c.name)) - length(split_part(trim(c.name), ' ', -1)) - 1) END), ''), 40) AS first_name,
       left(coalesce(nullif(split_part(trim(c.name), ' ', -1), ''), c.emails[1], 'Kustomer customer ' || c.customer_id), 80) AS last_name,
       left(c.emails[1], 80) AS email,
       left(c.phones[1], 40) AS phone,
       CASE WHEN co.canonical_id IN (SELECT source_id FROM out_salesforce_accounts) THEN co.canonical_id END AS account_source_id,
       left('Kustomer customer ' || c.customer_id
            || coalesce(chr(10) || 'Other emails: ' || nullif(array_to_string(c.emails[2:], ', '), ''), '')
            || coalesce(chr(10) || 'Other phones: ' || nullif(array_to_string(c.phones[2:], ', '), ''), ''), 32000) AS description,
       json_extract_string(c.custom, '$.customerTypeStr') AS customer_type
FROM stg_customers c
LEFT JOIN int_company_canonical co ON co.company_id = c.company_id
WHERE c.customer_id NOT IN (SELECT customer_id FROM int_customer_merge);
