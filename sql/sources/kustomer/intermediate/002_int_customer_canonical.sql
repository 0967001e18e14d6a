-- int_customer_canonical (Kustomer, every route): every customer → the
-- customer that carries it after int_customer_merge (itself when kept).

CREATE OR REPLACE TABLE int_customer_canonical AS
SELECT c.customer_id, coalesce(m.into_customer_id, c.customer_id) AS canonical_id
FROM stg_customers c LEFT JOIN int_customer_merge m USING (customer_id);
