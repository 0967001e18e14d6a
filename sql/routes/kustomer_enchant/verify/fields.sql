-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Enchant and compares: the sampled
-- tickets' subject, customer, header note (external id, custom
-- attributes) and message headers (subject); their customers' name,
-- contacts and summary (the Kustomer id, external id, locale, tags,
-- custom attributes, and the company's name, phones, tags, external id
-- and custom attributes); and their KObjects (each record's heading,
-- description, external id, tags, company and values, a reference to
-- another KObject by that record's klass, title and id), in the note on
-- the customer's ticket or in the summary.
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
    ('KObject notes', 'the note on the customer''s latest ticket holds each record as "<klass display name>: <title>" followed by its values'),
    ('custom attributes', 'one line "<attribute>: <value>" each (a company''s prefixed "Company "): a list joined by ", ", an attribute ending in Id that names an extracted KObject as "<klass display name>: <title> (Kustomer <id>)"'),
    ('tags', 'the names of the record''s tags that are not deleted, sorted, joined by ", "'),
    ('KObjects in a summary', 'a customer''s KObjects when no note holds them, and a company''s own KObjects (no customer), in the summary of each of its customers')
) AS t(field, rule);

-- A Kustomer record's tag names as the summary and notes list them.
CREATE OR REPLACE TEMP MACRO verify_tag_names(j) AS (
    SELECT string_agg(json_extract_string(t.json, '$.attributes.name'), ', ' ORDER BY json_extract_string(t.json, '$.attributes.name'))
    FROM raw_kustomer_tags t
    WHERE list_contains(coalesce(json_extract_string(j, '$.attributes.tags[*]'), []), t.id)
      AND NOT coalesce(TRY_CAST(json_extract_string(t.json, '$.attributes.deleted') AS BOOLEAN), false));

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
    -- The sampled people's KObjects and where they are: the note on the
    -- customer's ticket (out_enchant_kobject_notes says which: a
    -- locator), else the customer's summary; a company's own KObjects
    -- (no customer) in the summary of each of its sampled customers.
    SELECT k.id AS kobject_id, k.json, kl.json AS klass, 'tickets' AS dest_object, m.dest_id, 'messages' AS dest_path
    FROM raw_kustomer_kobjects k
    JOIN person p ON p.customer_id = json_extract_string(k.json, '$.relationships.customer.data.id')
    JOIN out_enchant_kobject_notes n ON n.customer_source_id = p.person_id
    JOIN ferry_id_map m ON m.dest = 'enchant' AND m.dest_object = 'tickets' AND m.source_id = n.ticket_source_id
    LEFT JOIN raw_kustomer_klasses kl ON kl.id = json_extract_string(k.json, '$.relationships.klass.data.id')
    WHERE p.person_id IN (SELECT source_id FROM people)
    UNION ALL
    SELECT k.id, k.json, kl.json, 'customers', pe.dest_id, 'summary'
    FROM raw_kustomer_kobjects k
    JOIN person p ON p.customer_id = json_extract_string(k.json, '$.relationships.customer.data.id')
    JOIN people pe ON pe.source_id = p.person_id
    LEFT JOIN raw_kustomer_klasses kl ON kl.id = json_extract_string(k.json, '$.relationships.klass.data.id')
    WHERE p.person_id NOT IN (SELECT customer_source_id FROM out_enchant_kobject_notes)
    UNION ALL
    SELECT k.id, k.json, kl.json, 'customers', pe.dest_id, 'summary'
    FROM raw_kustomer_kobjects k
    JOIN people pe ON json_extract_string(pe.json, '$.relationships.company.data.id') = json_extract_string(k.json, '$.relationships.company.data.id')
    LEFT JOIN raw_kustomer_klasses kl ON kl.id = json_extract_string(k.json, '$.relationships.klass.data.id')
    WHERE json_extract_string(k.json, '$.relationships.customer.data.id') IS NULL
), companies AS (
    SELECT c.id AS company_id, c.json, p.dest_id
    FROM people p JOIN raw_kustomer_companies c ON c.id = json_extract_string(p.json, '$.relationships.company.data.id')
), custom_values AS (
    -- Every custom attribute of the records above, where it should show.
    SELECT x.*, k.k AS attribute, json_extract(x.json, '$.attributes.custom."' || k.k || '"') AS v
    FROM (SELECT 'customers' AS object, source_id, json, 'customers' AS dest_object, dest_id, 'summary' AS dest_path, '' AS prefix FROM people
          UNION ALL SELECT 'companies', company_id, json, 'customers', dest_id, 'summary', 'Company ' FROM companies
          UNION ALL SELECT 'conversations', source_id, json, 'tickets', dest_id, 'messages', '' FROM tickets
          UNION ALL SELECT 'kobjects', kobject_id, json, dest_object, dest_id, dest_path, '  ' FROM records) x,
         unnest(json_keys(coalesce(json_extract(x.json, '$.attributes.custom'), '{}'::JSON))) AS k(k)
), messages AS (
    -- The first three messages of each sampled ticket that have a subject
    -- or an email envelope.
    SELECT t.source_id AS ticket_id, t.dest_id, r.id,
           coalesce(json_extract_string(r.json, '$.attributes.subject'), json_extract_string(r.json, '$.attributes.meta.subject')) AS subject,
           json_extract_string(r.json, '$.attributes.meta.from') AS email_from,
           array_to_string(json_extract_string(r.json, '$.attributes.meta.to[*].email'), ', ') AS email_to
    FROM tickets t JOIN raw_kustomer_messages r ON json_extract_string(r.json, '$.relationships.conversation.data.id') = t.source_id
    JOIN ferry_id_map mm ON mm.dest = 'enchant' AND mm.dest_object = 'messages' AND mm.source_id = r.id
    WHERE nullif(trim(coalesce(json_extract_string(r.json, '$.attributes.subject'), json_extract_string(r.json, '$.attributes.meta.subject'))), '') IS NOT NULL
       OR json_extract_string(r.json, '$.attributes.meta.from') IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY t.source_id ORDER BY json_extract_string(r.json, '$.attributes.sentAt'), r.id) <= 3
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
SELECT 'kobjects', 'attributes.title', r.kobject_id, r.dest_object, r.dest_id, 'KObject (heading)', r.dest_path,
       to_json(coalesce(json_extract_string(r.klass, '$.attributes.displayName'), json_extract_string(r.klass, '$.attributes.name'), 'record')
               || ': ' || coalesce(json_extract_string(r.json, '$.attributes.title'), r.kobject_id)), 'contains'
FROM records r
UNION ALL
SELECT 'kobjects', 'attributes.' || f.path, r.kobject_id, r.dest_object, r.dest_id, 'KObject (' || f.label || ')', r.dest_path,
       to_json('  ' || f.label || ': ' || f.value), 'contains'
FROM records r, LATERAL (
    SELECT 'description' AS path, 'description' AS label, trim(json_extract_string(r.json, '$.attributes.description')) AS value
    UNION ALL SELECT 'externalId', 'external id', trim(json_extract_string(r.json, '$.attributes.externalId'))
    UNION ALL SELECT 'tags', 'tags', verify_tag_names(r.json)) f
WHERE nullif(f.value, '') IS NOT NULL
UNION ALL
SELECT 'kobjects', 'relationships.company.data.id', r.kobject_id, r.dest_object, r.dest_id, 'KObject (company)', r.dest_path,
       to_json('  company: ' || json_extract_string(c.json, '$.attributes.name') || ' (Kustomer ' || c.id || ')'), 'contains'
FROM records r JOIN raw_kustomer_companies c ON c.id = json_extract_string(r.json, '$.relationships.company.data.id')
UNION ALL
SELECT cv.object, 'attributes.custom.' || cv.attribute, cv.source_id, cv.dest_object, cv.dest_id, 'custom attribute (' || cv.attribute || ')', cv.dest_path,
       to_json(cv.prefix || cv.attribute || ': ' ||
               CASE WHEN ref.id IS NOT NULL
                    THEN coalesce(json_extract_string(kl.json, '$.attributes.displayName'), json_extract_string(kl.json, '$.attributes.name'), 'record')
                         || ': ' || coalesce(json_extract_string(ref.json, '$.attributes.title'), ref.id) || ' (Kustomer ' || ref.id || ')'
                    WHEN json_type(cv.v) = 'ARRAY' THEN array_to_string(json_extract_string(cv.v, '$[*]'), ', ')
                    ELSE json_extract_string(cv.v, '$') END),
       'contains'
FROM custom_values cv
LEFT JOIN raw_kustomer_kobjects ref ON cv.attribute LIKE '%Id' AND ref.id = json_extract_string(cv.v, '$')
LEFT JOIN raw_kustomer_klasses kl ON kl.id = json_extract_string(ref.json, '$.relationships.klass.data.id')
WHERE json_type(cv.v) NOT IN ('NULL', 'OBJECT') AND nullif(trim(json_extract_string(cv.v, '$')), '') IS NOT NULL
UNION ALL
SELECT x.object, 'attributes.' || x.path, x.source_id, x.dest_object, x.dest_id, x.field, x.dest_path, to_json(x.line), 'contains'
FROM (SELECT 'customers' AS object, 'externalId' AS path, source_id, 'customers' AS dest_object, dest_id, 'summary (external id)' AS field, 'summary' AS dest_path,
             'External id: ' || trim(json_extract_string(json, '$.attributes.externalId')) AS line FROM people
      UNION ALL SELECT 'customers', 'locale', source_id, 'customers', dest_id, 'summary (locale)', 'summary',
             'Locale: ' || trim(json_extract_string(json, '$.attributes.locale')) FROM people
      UNION ALL SELECT 'customers', 'tags', source_id, 'customers', dest_id, 'summary (tags)', 'summary',
             'Tags: ' || verify_tag_names(json) FROM people
      UNION ALL SELECT 'companies', 'externalId', company_id, 'customers', dest_id, 'summary (company external id)', 'summary',
             'Company external id: ' || trim(json_extract_string(json, '$.attributes.externalId')) FROM companies
      UNION ALL SELECT 'companies', 'tags', company_id, 'customers', dest_id, 'summary (company tags)', 'summary',
             'Company tags: ' || verify_tag_names(json) FROM companies
      UNION ALL SELECT 'companies', 'phones', company_id, 'customers', dest_id, 'summary (company phones)', 'summary',
             'Company phones: ' || array_to_string(list_filter(json_extract_string(json, '$.attributes.phones[*].phone'), lambda p: trim(p) <> ''), ', ') FROM companies
      UNION ALL SELECT 'conversations', 'externalId', source_id, 'tickets', dest_id, 'header note (external id)', 'messages',
             'External id: ' || trim(json_extract_string(json, '$.attributes.externalId')) FROM tickets
      UNION ALL SELECT 'messages', 'subject', id, 'tickets', dest_id, 'message header (subject)', 'messages',
             ' · subject: ' || trim(regexp_replace(subject, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')) FROM messages
      UNION ALL SELECT 'messages', 'meta.from', id, 'tickets', dest_id, 'message header (from)', 'messages', ' · from ' || trim(email_from) FROM messages
      UNION ALL SELECT 'messages', 'meta.to', id, 'tickets', dest_id, 'message header (to)', 'messages', ' · to ' || nullif(email_to, '') FROM messages) x
WHERE x.line IS NOT NULL AND NOT ends_with(x.line, ': ');

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
