-- int_company_merge (Kustomer, every route): companies sharing a domain
-- are one company in every destination (a Zendesk organization, a
-- Salesforce Account). The oldest company of a domain wins; the others are
-- listed here with the reason.

CREATE OR REPLACE TABLE int_company_merge AS
WITH d AS (
    SELECT company_id, created_at, unnest(domains) AS domain FROM stg_companies
), owner AS (
    SELECT domain, arg_min(company_id, created_at::VARCHAR || company_id) AS owner_id FROM d GROUP BY domain
), direct AS (
    SELECT d.company_id, min(o.owner_id) AS into_company_id, 'shares domain ' || min(d.domain) AS reason
    FROM d JOIN owner o USING (domain)
    WHERE o.owner_id <> d.company_id
    GROUP BY d.company_id
)
-- One hop of transitivity: a winner that itself merged points further.
SELECT a.company_id, coalesce(b.into_company_id, a.into_company_id) AS into_company_id, a.reason
FROM direct a LEFT JOIN direct b ON b.company_id = a.into_company_id;
