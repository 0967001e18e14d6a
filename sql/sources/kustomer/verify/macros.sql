-- verify (Kustomer, every route): the rules verify applies to the raw
-- Kustomer records (raw_kustomer_*, read with json_extract, independently
-- of staging), written once for every route's verify SQL.

-- A customer's person: customers sharing their first email
-- (case-insensitive) are one person, the oldest (then the smallest id);
-- a customer without an email is its own person.
CREATE OR REPLACE MACRO kustomer_verify_person() AS TABLE
SELECT id AS customer_id,
       CASE WHEN email IS NULL OR email = '' THEN id
            ELSE first_value(id) OVER (PARTITION BY email ORDER BY coalesce(created, created_at), id) END AS person_id
FROM (SELECT id, created_at, lower(trim(json_extract_string(json, '$.attributes.emails[0].email'))) AS email,
             TRY_CAST(json_extract_string(json, '$.attributes.createdAt') AS TIMESTAMPTZ) AS created
      FROM raw_kustomer_customers);
