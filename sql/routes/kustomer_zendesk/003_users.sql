-- 003 users: Kustomer customers → Zendesk end users.
-- Customers sharing their primary email are one person (the source
-- layer's intermediate/001_customer_merge.sql: customer_merge and
-- customer_canonical); here the merged ones' emails and phones become
-- identities of the kept one.

-- Every email and phone of a person, each owned by exactly one user: an
-- email that is someone's primary belongs to them, else to the oldest user
-- that has it (Zendesk refuses an email on two users).
CREATE OR REPLACE TABLE customer_identity_candidates AS
SELECT cc.canonical_id AS user_source_id, 'email' AS type, e.email AS value,
       (c.customer_id = cc.canonical_id AND e.pos = 1) AS is_primary, c.created_at, e.pos
FROM stg_customers c JOIN customer_canonical cc USING (customer_id),
     unnest(c.emails) WITH ORDINALITY AS e(email, pos)
UNION ALL
SELECT cc.canonical_id, 'phone_number', p.phone, false, c.created_at, p.pos
FROM stg_customers c JOIN customer_canonical cc USING (customer_id),
     unnest(c.phones) WITH ORDINALITY AS p(phone, pos);

CREATE OR REPLACE TABLE customer_identities AS
SELECT * FROM customer_identity_candidates
QUALIFY row_number() OVER (PARTITION BY type, value ORDER BY is_primary DESC, created_at, user_source_id, pos) = 1;

CREATE OR REPLACE TABLE out_zendesk_user_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_customers, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k);

CREATE OR REPLACE TABLE customer_tags AS
SELECT c.customer_id, list_sort(list_distinct(list(zd_tag(g.name)))) AS tags
FROM stg_customers c, unnest(c.tag_ids) AS t(tag_id)
JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted AND zd_tag(g.name) <> ''
GROUP BY c.customer_id;

CREATE OR REPLACE TABLE out_zendesk_users AS
SELECT c.customer_id AS source_id,
       c.customer_id AS external_id,
       coalesce(c.name, c.emails[1], c.phones[1], 'Kustomer customer ' || c.customer_id) AS name,
       (SELECT value FROM customer_identities i WHERE i.user_source_id = c.customer_id AND i.is_primary) AS email,
       (SELECT min(value) FROM customer_identities i WHERE i.user_source_id = c.customer_id AND i.type = 'phone_number') AS phone,
       'end-user' AS role,
       cc2.canonical_id AS organization_source_id,
       -- Zendesk takes BCP-47 locales (official spec: "A BCP-47 compliant
       -- tag"; en-US, not Kustomer's en_US): seeds/locale_map.csv holds
       -- Zendesk's own codes (support.zendesk.com article 203761906,
       -- "Zendesk language support by product": de, ja, es-419, pt-br…);
       -- any other locale gets its underscore made a hyphen.
       coalesce(lm.zendesk_locale, replace(c.locale, '_', '-')) AS locale,
       coalesce(ct.tags, []::VARCHAR[]) AS tags,
       zd_fields(c.custom) AS user_fields,
       (SELECT list(m.customer_id ORDER BY m.customer_id) FROM customer_merge m WHERE m.into_customer_id = c.customer_id) AS merged_source_ids,
       c.deleted,
       c.created_at, c.updated_at
FROM stg_customers c
JOIN customer_canonical cc ON cc.customer_id = c.customer_id AND cc.canonical_id = c.customer_id
LEFT JOIN company_canonical cc2 ON cc2.company_id = c.company_id
LEFT JOIN customer_tags ct ON ct.customer_id = c.customer_id
LEFT JOIN locale_map lm ON lm.kustomer_locale = c.locale;

-- Secondary emails and phones (the primary email is the user's `email`).
CREATE OR REPLACE TABLE out_zendesk_user_identities AS
SELECT user_source_id || ':' || type || ':' || value AS source_id, user_source_id, type, value
FROM customer_identities
WHERE NOT is_primary
ORDER BY user_source_id, type, value;
