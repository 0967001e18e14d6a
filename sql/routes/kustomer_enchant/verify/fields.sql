-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Enchant and compares: the sampled
-- tickets' subject and customer, their customers' name, contacts and
-- summary (the Kustomer id, the company), and the KObject notes (each
-- record's heading and values, in the note on the customer's ticket).
--
-- Expected values come from the raw Kustomer JSON (raw_kustomer_*) by the
-- rules in verify_field_rules; ferry_id_map says which record each source
-- record became. Enchant keeps several fields inside text (the summary,
-- a note): those are compared with how = 'contains'. A source path
-- declared dropped (seeds/field_map.csv) is left out by the engine: the
-- field ledger reports it as a gap instead.

CREATE OR REPLACE TABLE verify_field_rules AS
SELECT * FROM (VALUES
    ('subject', 'the conversation name, control characters removed, 250 characters (a conversation without a name is compared by the sample)'),
    ('people', 'customers sharing their first email (case-insensitive) are one person: the oldest; a ticket''s customer is its person'),
    ('customer', 'first_name = the first word of the name; contacts hold every email, lowercased; the summary names the Kustomer id and the company'),
    ('KObject notes', 'the note on the customer''s latest ticket holds each record as "<klass display name>: <title>" followed by its values')
) AS t(field, rule);

CREATE OR REPLACE TABLE verify_expected_fields AS
WITH person AS (
    -- A customer's person (verify/macros.sql of the Kustomer source).
    SELECT * FROM kustomer_verify_person()
), tickets AS (
    SELECT s.source_id, s.dest_id, r.json, p.person_id
    FROM verify_sample s JOIN raw_kustomer_conversations r ON r.id = s.source_id
    LEFT JOIN person p ON p.customer_id = json_extract_string(r.json, '$.relationships.customer.data.id')
), people AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM tickets t
    JOIN ferry_id_map m ON m.dest = 'enchant' AND m.dest_object = 'customers' AND m.source_id = t.person_id
    JOIN raw_kustomer_customers r ON r.id = m.source_id
), records AS (
    -- The sampled people's KObjects and the ticket whose note holds them
    -- (out_enchant_kobject_notes says which ticket: a locator).
    SELECT k.id AS kobject_id, k.json, kl.json AS klass, m.dest_id AS ticket_dest_id
    FROM raw_kustomer_kobjects k
    JOIN person p ON p.customer_id = json_extract_string(k.json, '$.relationships.customer.data.id')
    JOIN out_enchant_kobject_notes n ON n.customer_source_id = p.person_id
    JOIN ferry_id_map m ON m.dest = 'enchant' AND m.dest_object = 'tickets' AND m.source_id = n.ticket_source_id
    LEFT JOIN raw_kustomer_klasses kl ON kl.id = json_extract_string(k.json, '$.relationships.klass.data.id')
    WHERE p.person_id IN (SELECT source_id FROM people)
)
SELECT 'conversations' AS source_object, 'attributes.name' AS source_path, t.source_id, 'tickets' AS dest_object, t.dest_id,
       'subject' AS field, 'subject' AS dest_path,
       to_json(left(trim(regexp_replace(json_extract_string(t.json, '$.attributes.name'), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')), 250)) AS expected,
       'equals' AS how
FROM tickets t
WHERE nullif(trim(json_extract_string(t.json, '$.attributes.name')), '') IS NOT NULL
UNION ALL
SELECT 'conversations', 'relationships.customer.data.id', t.source_id, 'tickets', t.dest_id, 'customer_id', 'customer_id',
       to_json((SELECT any_value(dest_id) FROM ferry_id_map m WHERE m.dest = 'enchant' AND m.dest_object = 'customers' AND m.source_id = t.person_id)),
       'equals'
FROM tickets t
UNION ALL
SELECT 'customers', 'attributes.name', p.source_id, 'customers', p.dest_id, 'first_name', 'first_name',
       to_json(split_part(coalesce(nullif(trim(json_extract_string(p.json, '$.attributes.name')), ''),
                                   nullif(trim(json_extract_string(p.json, '$.attributes.displayName')), ''), ''), ' ', 1)),
       'equals'
FROM people p
UNION ALL
SELECT 'customers', 'attributes.emails', p.source_id, 'customers', p.dest_id, 'contacts (email)', 'contacts',
       to_json(lower(trim(e.email))), 'contains'
FROM people p, unnest(coalesce(json_extract_string(p.json, '$.attributes.emails[*].email'), [])) AS e(email)
WHERE trim(e.email) <> ''
UNION ALL
SELECT 'customers', 'id', p.source_id, 'customers', p.dest_id, 'summary (Kustomer id)', 'summary',
       to_json('Kustomer customer ' || p.source_id), 'contains'
FROM people p
UNION ALL
SELECT 'customers', 'relationships.company.data.id', p.source_id, 'customers', p.dest_id, 'summary (company)', 'summary',
       to_json('Company: ' || json_extract_string(c.json, '$.attributes.name')), 'contains'
FROM people p JOIN raw_kustomer_companies c ON c.id = json_extract_string(p.json, '$.relationships.company.data.id')
UNION ALL
SELECT 'kobjects', 'attributes.title', r.kobject_id, 'tickets', r.ticket_dest_id, 'KObject note (heading)', 'messages',
       to_json(coalesce(json_extract_string(r.klass, '$.attributes.displayName'), json_extract_string(r.klass, '$.attributes.name'), 'record')
               || ': ' || coalesce(json_extract_string(r.json, '$.attributes.title'), r.kobject_id)), 'contains'
FROM records r
UNION ALL
SELECT 'kobjects', 'attributes.custom.' || x.k, r.kobject_id, 'tickets', r.ticket_dest_id, 'KObject note (' || x.k || ')', 'messages',
       to_json(json_extract_string(r.json, '$.attributes.custom."' || x.k || '"')), 'contains'
FROM records r, unnest(json_keys(coalesce(json_extract(r.json, '$.attributes.custom'), '{}'::JSON))) AS x(k)
WHERE json_type(json_extract(r.json, '$.attributes.custom."' || x.k || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT');

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
