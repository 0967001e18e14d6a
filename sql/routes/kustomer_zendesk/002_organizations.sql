-- 002 organizations: Kustomer companies → Zendesk organizations.
-- Rule: companies sharing a domain are one organization. The oldest company
-- of a domain wins; the others are listed in company_merge with the reason.

CREATE OR REPLACE TABLE company_merge AS
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

CREATE OR REPLACE TABLE company_canonical AS
SELECT c.company_id, coalesce(m.into_company_id, c.company_id) AS canonical_id
FROM stg_companies c LEFT JOIN company_merge m USING (company_id);

CREATE OR REPLACE TABLE out_zendesk_organization_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_companies, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k);

CREATE OR REPLACE TABLE out_zendesk_organizations AS
WITH domains AS (
    SELECT cc.canonical_id, list_sort(list_distinct(flatten(list(c.domains)))) AS domain_names
    FROM stg_companies c JOIN company_canonical cc USING (company_id)
    GROUP BY cc.canonical_id
), kept AS (
    SELECT c.* FROM stg_companies c JOIN company_canonical cc USING (company_id) WHERE cc.canonical_id = c.company_id
)
SELECT k.company_id AS source_id,
       k.company_id AS external_id,
       -- Zendesk requires unique names: a repeated name gets the Kustomer id.
       CASE WHEN row_number() OVER (PARTITION BY lower(k.name) ORDER BY k.created_at, k.company_id) > 1
            THEN k.name || ' (' || k.company_id || ')' ELSE k.name END AS name,
       d.domain_names,
       zd_fields(k.custom) AS organization_fields,
       k.created_at, k.updated_at
FROM kept k JOIN domains d ON d.canonical_id = k.company_id;
