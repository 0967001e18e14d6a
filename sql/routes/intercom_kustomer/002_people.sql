-- 002 people: Intercom admins → Kustomer users (matched by email at load,
-- or created: destination.unmatched_agents), teams → teams, contacts →
-- customers. A lead
-- sharing a user's email is the same person: merged into the user (its
-- conversations follow). Leads Intercom itself merged are gone from its
-- lists and were never extracted.

CREATE OR REPLACE MACRO kus_time(t) AS strftime(CAST(t AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z');
-- `contact_string_attr` / `Order number` → `contactStringAttr` / `orderNumber`.
CREATE OR REPLACE MACRO kus_camel(n) AS array_to_string(list_transform(
    list_filter(regexp_split_to_array(lower(n), '[^a-z0-9]+'), lambda x: x <> ''),
    lambda x, i: CASE WHEN i = 1 THEN x ELSE upper(x[1]) || x[2:] END), '');

CREATE OR REPLACE TABLE out_kus_users AS
SELECT admin_id AS source_id, email, name FROM stg_admins WHERE email IS NOT NULL;

-- Teams → Kustomer teams, found by name at load (an admin may have made
-- them), else created with the members whose agent matched a user.
CREATE OR REPLACE TABLE out_kus_teams AS
SELECT team_id AS source_id, trim(name) AS name, coalesce(admin_ids, []) AS admin_ids
FROM stg_teams WHERE nullif(trim(name), '') IS NOT NULL;

CREATE OR REPLACE TABLE contact_merge AS
SELECT l.contact_id, u.contact_id AS into_contact_id, l.email,
       'lead sharing the email ' || l.email || ' with user ' || u.contact_id AS reason
FROM stg_contacts l
JOIN (SELECT email, arg_min(contact_id, created_at) AS contact_id FROM stg_contacts
      WHERE role = 'user' AND email IS NOT NULL GROUP BY email) u ON u.email = l.email
WHERE l.role = 'lead' AND l.contact_id <> u.contact_id;

CREATE OR REPLACE TABLE contact_canonical AS
SELECT c.contact_id, coalesce(m.into_contact_id, c.contact_id) AS canonical_id
FROM stg_contacts c LEFT JOIN contact_merge m USING (contact_id);
