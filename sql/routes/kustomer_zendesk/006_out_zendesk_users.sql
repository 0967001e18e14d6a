-- out_zendesk_users: Kustomer customers → Zendesk end users, one per
-- person after the merge, with their tags (int_customer_tags, private).

CREATE OR REPLACE TABLE int_customer_tags AS
SELECT c.customer_id, list_sort(list_distinct(list(zd_tag(g.name)))) AS tags
FROM stg_customers c, unnest(c.tag_ids) AS t(tag_id)
JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted AND zd_tag(g.name) <> ''
GROUP BY c.customer_id;

CREATE OR REPLACE TABLE out_zendesk_users AS
SELECT c.customer_id AS source_id,
       c.customer_id AS external_id,
       coalesce(c.name, c.emails[1], c.phones[1], 'Kustomer customer ' || c.customer_id) AS name,
       (SELECT value FROM int_customer_identities i WHERE i.user_source_id = c.customer_id AND i.is_primary) AS email,
       (SELECT min(value) FROM int_customer_identities i WHERE i.user_source_id = c.customer_id AND i.type = 'phone_number') AS phone,
       'end-user' AS role,
       cc2.canonical_id AS organization_source_id,
       -- Zendesk takes BCP-47 locales (official spec: "A BCP-47 compliant
       -- tag"; en-US, not Kustomer's en_US): seeds/locale_map.csv holds
       -- Zendesk's own codes (support.zendesk.com article 203761906,
       -- "Zendesk language support by product": de, ja, es-419, pt-br…);
       -- any other locale gets its underscore made a hyphen.
       coalesce(lm.zendesk_locale, replace(c.locale, '_', '-')) AS locale,
       coalesce(ct.tags, []::VARCHAR[]) AS tags,
       zd_with(zd_fields(c.custom), 'kustomer_external_id', c.kustomer_external_id) AS user_fields,
       (SELECT list(m.customer_id ORDER BY m.customer_id) FROM int_customer_merge m WHERE m.into_customer_id = c.customer_id) AS merged_source_ids,
       c.deleted,
       c.created_at, c.updated_at
FROM stg_customers c
JOIN int_customer_canonical cc ON cc.customer_id = c.customer_id AND cc.canonical_id = c.customer_id
LEFT JOIN int_company_canonical cc2 ON cc2.company_id = c.company_id
LEFT JOIN int_customer_tags ct ON ct.customer_id = c.customer_id
LEFT JOIN locale_map lm ON lm.kustomer_locale = c.locale;
