-- 002 people: companies → Accounts (the Kustomer id is the external id;
-- the first domain is the Website), customers → Contacts when they belong
-- to a company, otherwise Leads (setting customers_without_company:
-- "lead", with the placeholder Company lead_company, or "contact"),
-- users → existing Salesforce Users matched by email (never created).
-- Customers sharing their primary email are one record (the oldest).

CREATE OR REPLACE TABLE customer_merge AS
SELECT customer_id, into_customer_id, email, 'shares primary email ' || email AS reason
FROM (
    SELECT customer_id, emails[1] AS email,
           first_value(customer_id) OVER (PARTITION BY emails[1] ORDER BY created_at, customer_id) AS into_customer_id
    FROM stg_customers WHERE len(emails) > 0
)
WHERE customer_id <> into_customer_id;

CREATE OR REPLACE TABLE customer_canonical AS
SELECT c.customer_id, coalesce(m.into_customer_id, c.customer_id) AS canonical_id
FROM stg_customers c LEFT JOIN customer_merge m USING (customer_id);

CREATE OR REPLACE TABLE excluded_users AS
SELECT user_id AS source_id,
       CASE WHEN user_type = 'machine' THEN 'API/machine user' WHEN deleted THEN 'deleted in Kustomer'
            ELSE 'no email' END AS reason
FROM stg_users WHERE user_type = 'machine' OR deleted OR email IS NULL;

CREATE OR REPLACE TABLE out_sf_users AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM excluded_users);

-- Account.Name is required (255); a company without a name is named by
-- its domain, then its Kustomer id.
CREATE OR REPLACE TABLE out_sf_accounts AS
SELECT company_id AS source_id,
       left(coalesce(nullif(trim(name), ''), domains[1], 'Kustomer company ' || company_id), 255) AS name,
       left(domains[1], 255) AS website,
       left('Kustomer company ' || company_id
            || coalesce(chr(10) || 'Domains: ' || nullif(array_to_string(domains, ', '), ''), ''), 32000) AS description
FROM stg_companies;

CREATE OR REPLACE TABLE customer_people AS
SELECT c.customer_id AS source_id,
       CASE WHEN c.company_id IN (SELECT source_id FROM out_sf_accounts) THEN 'contact'
            WHEN setting('customers_without_company') = 'contact' THEN 'contact'
            ELSE 'lead' END AS sobject,
       -- LastName is required: the last word of the name, else the email.
       left(nullif(trim(CASE WHEN strpos(trim(c.name), ' ') > 0 THEN substr(trim(c.name), 1, length(trim(c.name)) - length(split_part(trim(c.name), ' ', -1)) - 1) END), ''), 40) AS first_name,
       left(coalesce(nullif(split_part(trim(c.name), ' ', -1), ''), c.emails[1], 'Kustomer customer ' || c.customer_id), 80) AS last_name,
       left(c.emails[1], 80) AS email,
       left(c.phones[1], 40) AS phone,
       CASE WHEN c.company_id IN (SELECT source_id FROM out_sf_accounts) THEN c.company_id END AS account_source_id,
       left('Kustomer customer ' || c.customer_id
            || coalesce(chr(10) || 'Other emails: ' || nullif(array_to_string(c.emails[2:], ', '), ''), '')
            || coalesce(chr(10) || 'Other phones: ' || nullif(array_to_string(c.phones[2:], ', '), ''), ''), 32000) AS description,
       json_extract_string(c.custom, '$.customerTypeStr') AS customer_type
FROM stg_customers c
WHERE c.customer_id NOT IN (SELECT customer_id FROM customer_merge);

CREATE OR REPLACE TABLE out_sf_contacts AS
SELECT * EXCLUDE (sobject) FROM customer_people WHERE sobject = 'contact';
CREATE OR REPLACE TABLE out_sf_leads AS
SELECT * EXCLUDE (sobject, account_source_id), left(setting('lead_company'), 255) AS company
FROM customer_people WHERE sobject = 'lead';
