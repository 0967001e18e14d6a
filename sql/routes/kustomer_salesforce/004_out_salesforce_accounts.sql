-- out_salesforce_accounts: companies → Accounts (the Kustomer id is the
-- external id; the first domain is the Website; companies sharing a
-- domain are one Account, as the route's mapping asks).

-- Account.Name is required (255); a company without a name is named by
-- its domain, then its Kustomer id.
-- Companies sharing a domain are one Account (int_company_merge, source
-- layer); its description lists the domains of every company it carries.
CREATE OR REPLACE TABLE out_salesforce_accounts AS
WITH carried AS (
    SELECT cc.canonical_id AS company_id,
           list_sort(list_distinct(flatten(list(c.domains)))) AS all_domains,
           list(c.company_id ORDER BY c.company_id) FILTER (WHERE c.company_id <> cc.canonical_id) AS merged_ids
    FROM stg_companies c JOIN int_company_canonical cc USING (company_id)
    GROUP BY ALL
)
SELECT c.company_id AS source_id,
       left(coalesce(nullif(trim(c.name), ''), c.domains[1], 'Kustomer company ' || c.company_id), 255) AS name,
       left(c.domains[1], 255) AS website,
       left('Kustomer company ' || c.company_id
            || coalesce(chr(10) || 'Domains: ' || nullif(array_to_string(k.all_domains, ', '), ''), '')
            || coalesce(chr(10) || 'Phones: ' || nullif(array_to_string(c.phones, ', '), ''), '')
            || coalesce(chr(10) || 'Also Kustomer companies: ' || nullif(array_to_string(k.merged_ids, ', '), ''), ''), 32000) AS description
FROM stg_companies c JOIN carried k USING (company_id);
