-- out_kustomer_companies: Intercom companies → Kustomer companies. Tags
-- are the company's own (Kustomer's company takes `tags`, at most 20:
-- kustomer-openapi.json, POST /companies); Intercom's standard attributes
-- with no Kustomer field become ferry's custom attributes
-- (out_kustomer_metadata).

CREATE OR REPLACE TABLE out_kustomer_companies AS
SELECT c.company_id AS source_id, coalesce(nullif(trim(c.name), ''), 'Company ' || c.company_id) AS name,
       CASE WHEN c.website IS NOT NULL THEN [{domain: regexp_extract(c.website, '^(?:https?://)?(?:www\.)?([^/:?#]+)', 1)}] END AS domains,
       nullif(list_distinct(list_filter(coalesce(c.tag_names, []), lambda t: nullif(trim(t), '') IS NOT NULL)), [])[1:20] AS tag_names,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomCompanyIdStr: left(c.company_code, 1024), intercomIndustryStr: left(c.industry, 1024),
                                 intercomMonthlySpendNum: c.monthly_spend, intercomPlanStr: left(c.plan_name, 1024),
                                 intercomSizeNum: c.size, intercomRemoteCreatedAt: kus_time(c.remote_created_at)})) AS custom,
       c.created_at
FROM stg_companies c LEFT JOIN int_custom_values v ON v.resource = 'company' AND v.record_id = c.company_id;
