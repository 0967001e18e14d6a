-- int_customer_identities: every email and phone of a person, each owned
-- by exactly one Zendesk user. Customers sharing their primary email are
-- one person (the source layer's int_customer_merge and
-- int_customer_canonical); the merged ones' emails and phones become
-- identities of the kept one.

-- Every email and phone of a person, each owned by exactly one user: an
-- email that is someone's primary belongs to them, else to the oldest user
-- that has it (Zendesk refuses an email on two users).
CREATE OR REPLACE TABLE int_customer_identity_candidates AS
SELECT cc.canonical_id AS user_source_id, 'email' AS type, e.email AS value,
       (c.customer_id = cc.canonical_id AND e.pos = 1) AS is_primary, c.created_at, e.pos
FROM stg_customers c JOIN int_customer_canonical cc USING (customer_id),
     unnest(c.emails) WITH ORDINALITY AS e(email, pos)
UNION ALL
SELECT cc.canonical_id, 'phone_number', p.phone, false, c.created_at, p.pos
FROM stg_customers c JOIN int_customer_canonical cc USING (customer_id),
     unnest(c.phones) WITH ORDINALITY AS p(phone, pos);

CREATE OR REPLACE TABLE int_customer_identities AS
SELECT * FROM int_customer_identity_candidates
QUALIFY row_number() OVER (PARTITION BY type, value ORDER BY is_primary DESC, created_at, user_source_id, pos) = 1;
