-- int_contact_merge: a lead sharing a user's email is the same person:
-- merged into the user (its conversations follow). Leads Intercom itself
-- merged are gone from its lists and were never extracted.

CREATE OR REPLACE TABLE int_contact_merge AS
SELECT l.contact_id, u.contact_id AS into_contact_id, l.email,
       'lead sharing the email ' || l.email || ' with user ' || u.contact_id AS reason
FROM stg_contacts l
JOIN (SELECT email, arg_min(contact_id, created_at) AS contact_id FROM stg_contacts
      WHERE role = 'user' AND email IS NOT NULL GROUP BY email) u ON u.email = l.email
WHERE l.role = 'lead' AND l.contact_id <> u.contact_id;
