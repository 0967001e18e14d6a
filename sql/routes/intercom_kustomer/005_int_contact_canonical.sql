-- int_contact_canonical: every contact → the contact that carries it.

CREATE OR REPLACE TABLE int_contact_canonical AS
SELECT c.contact_id, coalesce(m.into_contact_id, c.contact_id) AS canonical_id
FROM stg_contacts c LEFT JOIN int_contact_merge m USING (contact_id);
