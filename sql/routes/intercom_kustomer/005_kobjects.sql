-- 005 tickets → KObjects: each ticket type is a klass (`intercom-<name>`),
-- created if the org lacks it; each ticket a KObject of its customer with
-- its attributes in `data`.

CREATE OR REPLACE TABLE out_kus_klasses AS
SELECT ticket_type_id AS source_id,
       'intercom-' || array_to_string(list_filter(regexp_split_to_array(lower(name), '[^a-z0-9]+'), lambda x: x <> ''), '-') AS name,
       name AS display_name, description
FROM stg_ticket_types;

CREATE OR REPLACE TABLE out_kus_kobjects AS
SELECT t.ticket_id AS source_id, k.name AS klass_name, t.ticket_type_id, cc.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(t.title), ''), 'Intercom ticket ' || t.ticket_id), 256) AS title,
       t.description, t.attributes, t.state, t.created_at
FROM stg_tickets t
JOIN out_kus_klasses k ON k.source_id = t.ticket_type_id
JOIN contact_canonical cc ON cc.contact_id = t.contact_id;
