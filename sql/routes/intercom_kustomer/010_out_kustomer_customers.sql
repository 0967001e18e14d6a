-- out_kustomer_customers: Intercom contacts → Kustomer customers.

CREATE OR REPLACE TABLE out_kustomer_customers AS
SELECT c.contact_id AS source_id, c.name, c.email, c.phone, c.role, c.external_id,
       c.company_ids[1] AS company_source_id,
       (SELECT list(DISTINCT t.name ORDER BY t.name) FROM stg_tags t WHERE list_contains(c.tag_ids, t.tag_id)) AS tag_names,
       json_merge_patch(coalesce(v.custom, '{}'::JSON),
                        to_json({intercomRoleStr: c.role, intercomExternalIdStr: c.external_id})) AS custom,
       c.created_at, c.signed_up_at, c.last_seen_at
FROM stg_contacts c LEFT JOIN int_custom_values v ON v.resource = 'customer' AND v.record_id = c.contact_id
WHERE c.contact_id NOT IN (SELECT contact_id FROM int_contact_merge);
