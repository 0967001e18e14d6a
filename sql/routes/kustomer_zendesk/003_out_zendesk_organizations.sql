-- out_zendesk_organizations: Kustomer companies → Zendesk organizations.
-- Companies sharing a domain are one organization: the source layer's
-- intermediate/006_int_company_merge.sql and 007_int_company_canonical.sql.

CREATE OR REPLACE TABLE out_zendesk_organizations AS
WITH domains AS (
    SELECT cc.canonical_id, list_sort(list_distinct(flatten(list(c.domains)))) AS domain_names
    FROM stg_companies c JOIN int_company_canonical cc USING (company_id)
    GROUP BY cc.canonical_id
), kept AS (
    SELECT c.* FROM stg_companies c JOIN int_company_canonical cc USING (company_id) WHERE cc.canonical_id = c.company_id
)
SELECT k.company_id AS source_id,
       k.company_id AS external_id,
       -- Zendesk requires unique names: a repeated name gets the Kustomer id.
       CASE WHEN row_number() OVER (PARTITION BY lower(k.name) ORDER BY k.created_at, k.company_id) > 1
            THEN k.name || ' (' || k.company_id || ')' ELSE k.name END AS name,
       d.domain_names,
       zd_with(zd_with(zd_fields(k.custom), 'kustomer_external_id', k.kustomer_external_id),
               'kustomer_phones', array_to_string(k.phones, ', ')) AS organization_fields,
       -- Organizations take tags (official spec, Organization.tags).
       list_sort(list_distinct(list_filter(list_transform(kustomer_tag_names(k.tag_ids), lambda t: zd_tag(t)), lambda t: t <> ''))) AS tags,
       k.created_at, k.updated_at
FROM kept k JOIN domains d ON d.canonical_id = k.company_id;
