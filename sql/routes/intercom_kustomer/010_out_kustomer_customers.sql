-- out_kustomer_customers: Intercom contacts → Kustomer customers. The
-- contact's location is a Kustomer location (`locations[]`: type, name,
-- cityName, regionName, countryName — kustomer-openapi.json; Intercom gives
-- city, region and country names, no codes: intercom-openapi-2.14.yaml,
-- contact_location); browser, OS and email consent are ferry's custom
-- attributes (out_kustomer_metadata).

CREATE OR REPLACE TABLE out_kustomer_customers AS
SELECT c.contact_id AS source_id, c.name, c.email, c.phone, c.role, c.external_id,
       c.company_ids[1] AS company_source_id,
       (SELECT list(DISTINCT t.name ORDER BY t.name) FROM stg_tags t WHERE list_contains(c.tag_ids, t.tag_id)) AS tag_names,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomRoleStr: c.role, intercomExternalIdStr: c.external_id,
                                 intercomBrowserStr: left(c.browser, 1024), intercomBrowserVersionStr: left(c.browser_version, 1024),
                                 intercomBrowserLanguageStr: left(c.browser_language, 1024), intercomOsStr: left(c.os, 1024),
                                 intercomUnsubscribedFromEmailsBool: c.unsubscribed_from_emails})) AS custom,
       CASE WHEN coalesce(c.city, c.region, c.country) IS NOT NULL THEN
           [{type: 'other', name: left(concat_ws(', ', c.city, c.region, c.country), 256),
             cityName: left(c.city, 128), regionName: left(c.region, 128), countryName: left(c.country, 64)}] END AS locations,
       c.created_at, c.signed_up_at, c.last_seen_at
FROM stg_contacts c LEFT JOIN int_custom_values v ON v.resource = 'customer' AND v.record_id = c.contact_id
WHERE c.contact_id NOT IN (SELECT contact_id FROM int_contact_merge);
