-- int_company_canonical (Kustomer, every route): every company → the
-- company that carries it after int_company_merge (itself when kept).

CREATE OR REPLACE TABLE int_company_canonical AS
SELECT c.company_id, coalesce(m.into_company_id, c.company_id) AS canonical_id
FROM stg_companies c LEFT JOIN int_company_merge m USING (company_id);
