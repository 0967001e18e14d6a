-- 002 people: Kustomer customers sharing their primary email are one
-- Enchant customer (Enchant matches customers by contact email, so two
-- would collapse anyway); users → Enchant users, matched by email (the API
-- cannot create users).

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

-- The fallback agent (destination.fallback_agent_email) is matched like
-- any other: it authors what no mapped user can.
CREATE OR REPLACE TABLE out_enchant_agents AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM excluded_users);
