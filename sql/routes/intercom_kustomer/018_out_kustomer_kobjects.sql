-- out_kustomer_kobjects: each ticket a KObject of its customer with its
-- attributes in `data` (as Intercom names them, so the schema applies).

CREATE OR REPLACE TABLE out_kustomer_kobjects AS
SELECT t.ticket_id AS source_id, k.name AS klass_name, t.ticket_type_id, cc.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(t.title), ''), 'Intercom ticket ' || t.ticket_id), 256) AS title,
       t.description, t.attributes, t.state, t.created_at
FROM stg_tickets t
JOIN out_kustomer_klasses k ON k.source_id = t.ticket_type_id
JOIN int_contact_canonical cc ON cc.contact_id = t.contact_id;
