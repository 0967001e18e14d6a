-- int_customer_merge (Kustomer, every route): customers sharing a primary
-- email are one person in every destination. The earliest created keeps
-- the record; the others are merged into it (bucket `merged` with the
-- reason). Emails are lowercased in staging, so the partition is by the
-- lowercased first email.

CREATE OR REPLACE TABLE int_customer_merge AS
SELECT customer_id, into_customer_id, email, 'shares primary email ' || email AS reason
FROM (
    SELECT customer_id, emails[1] AS email,
           first_value(customer_id) OVER (PARTITION BY emails[1] ORDER BY created_at, customer_id) AS into_customer_id
    FROM stg_customers WHERE len(emails) > 0
)
WHERE customer_id <> into_customer_id;
