-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Zendesk and compares: the sampled
-- tickets' custom fields, channel and external ids, their requesters' user
-- fields, tags and external ids, the requesters' organizations (fields,
-- phones, tags), and custom object records (those of the requesters, and
-- the first of each object) with their description, external id and tags;
-- Kustomer's own externalId of each in a kustomer_external_id field.
--
-- Expected values come from the raw Kustomer JSON (raw_kustomer_*), by the
-- rules in verify_field_rules; the ferry_id_map says which record each
-- source record became. A source path the route declares dropped
-- (seeds/field_map.csv) is left out by the engine: the field ledger
-- reports it as a gap instead.

CREATE OR REPLACE TABLE verify_field_rules AS
SELECT * FROM (VALUES
    ('custom fields', 'a Kustomer attribute becomes the field named by its name without the type suffix (Str, Num, At, Bool, Txt, Url), snake_case: loyaltyTierStr → loyalty_tier'),
    ('custom field values', 'numbers, booleans and text as they are; a time (…At) becomes its UTC day, YYYY-MM-DD (Zendesk date fields hold a day); a list or object its JSON text'),
    ('user tags', 'the customer''s tag names (deleted tags left out), lowercased, other characters as _'),
    ('external ids', 'the Kustomer id of the record (of the ticket part: <id>-part<n>; of the record part: <id>:<n>)'),
    ('ferry''s fields', 'kustomer_external_id = Kustomer''s own externalId (user, organization and ticket fields, record field); kustomer_channel = the conversation''s first channel; kustomer_phones = the company''s phones joined by ", "; a record''s kustomer_description, kustomer_tags = its description and tag names (deleted left out, sorted, joined by ", ")'),
    ('organization tags', 'as user tags'),
    ('record lookups', 'a KObject or conversation attribute ending in Id that names a KObject = the Zendesk id of that record (its first part)'),
    ('custom object records', 'name = the KObject title, else its id; a text value of a record over Zendesk''s size limit keeps its first 1,000 characters (the whole record is archived); lookups kustomer_customer = the user of the customer''s person, kustomer_company = the organization of the company (or of the one it was merged into)')
) AS t(field, rule);

CREATE OR REPLACE MACRO vf_key(k) AS
    lower(regexp_replace(regexp_replace(k, '(Str|Num|At|Bool|Txt|Url)$', ''), '([a-z0-9])([A-Z])', '\1_\2', 'g'));

CREATE OR REPLACE MACRO vf_value(k, v) AS CASE
    WHEN k LIKE '%At' AND json_type(v) = 'VARCHAR' AND TRY_CAST(json_extract_string(v, '$') AS TIMESTAMPTZ) IS NOT NULL
        THEN to_json(strftime(CAST(TRY_CAST(json_extract_string(v, '$') AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d'))
    WHEN json_type(v) IN ('ARRAY', 'OBJECT') THEN to_json(v::VARCHAR)
    ELSE v END;

-- A Kustomer tag name as a Zendesk tag (lowercase; other characters _).
CREATE OR REPLACE MACRO vf_tags(j) AS
    to_json(coalesce((SELECT list(DISTINCT trim(regexp_replace(lower(trim(json_extract_string(g.json, '$.attributes.name'))), '[^\p{L}\p{N}_/-]+', '_', 'g'), '_'))
                      FROM raw_kustomer_tags g
                      WHERE list_contains(coalesce(json_extract_string(j, '$.attributes.tags[*]'), []), g.id)
                        AND NOT coalesce(TRY_CAST(json_extract_string(g.json, '$.attributes.deleted') AS BOOLEAN), false)), []));

-- A record's tag names as one text: sorted, deleted left out, ", ".
CREATE OR REPLACE MACRO vf_tag_text(j) AS
    (SELECT string_agg(json_extract_string(g.json, '$.attributes.name'), ', ' ORDER BY json_extract_string(g.json, '$.attributes.name'))
     FROM raw_kustomer_tags g
     WHERE list_contains(coalesce(json_extract_string(j, '$.attributes.tags[*]'), []), g.id)
       AND NOT coalesce(TRY_CAST(json_extract_string(g.json, '$.attributes.deleted') AS BOOLEAN), false));

CREATE OR REPLACE MACRO vf_custom(j) AS
    coalesce(CASE WHEN json_type(json_extract(j, '$.attributes.custom')) = 'OBJECT' THEN json_extract(j, '$.attributes.custom') END, '{}'::JSON);

CREATE OR REPLACE TABLE verify_expected_fields AS
WITH tickets AS (
    SELECT t.source_id, t.dest_id, t.conversation_id, r.json
    FROM verify_expected_tickets t JOIN raw_kustomer_conversations r ON r.id = t.conversation_id
), people AS (
    -- A person the account already had keeps its own fields (ferry_matched).
    SELECT u.source_id, u.dest_id, r.json
    FROM verify_expected_users u JOIN raw_kustomer_customers r ON r.id = u.source_id
    WHERE u.matched IS NULL
), orgs AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM people p
    JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'organizations'
                       AND m.source_id = json_extract_string(p.json, '$.relationships.company.data.id')
    JOIN raw_kustomer_companies r ON r.id = m.source_id
), kobjects AS (
    -- The requesters' records, and the first record of each klass.
    SELECT r.id, r.json FROM raw_kustomer_kobjects r
    WHERE json_extract_string(r.json, '$.relationships.customer.data.id') IN (SELECT source_id FROM people)
       OR r.id IN (SELECT arg_min(id, id) FROM raw_kustomer_kobjects
                   GROUP BY json_extract_string(json, '$.relationships.klass.data.id'))
), records AS (
    -- Each loaded record part, with the keys its object holds.
    SELECT k.id AS kobject_id, k.json, m.source_id, m.dest_id, o.key AS object_key, o.part_no,
           a.source_id IS NOT NULL AS trimmed
    FROM kobjects k
    JOIN out_zendesk_custom_objects o ON o.klass_id = json_extract_string(k.json, '$.relationships.klass.data.id')
    JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'custom_object_records'
                       AND m.source_id = k.id || CASE WHEN o.part_count > 1 THEN ':' || o.part_no ELSE '' END
    LEFT JOIN int_archive_kobjects a ON a.source_id = k.id AND a.object_key = o.key
)
SELECT 'conversations' AS source_object, 'attributes.custom.' || x.k AS source_path, t.conversation_id AS source_id,
       'tickets' AS dest_object, t.dest_id, 'custom_fields.' || vf_key(x.k) AS field,
       'custom_fields[id=' || coalesce(f.dest_id, '(no ticket field ' || vf_key(x.k) || ')') || '].value' AS dest_path,
       -- A lookup (out_zendesk_ticket_fields says which field is one: a
       -- locator): the Zendesk id of the record the KObject id names.
       CASE WHEN tf.type = 'lookup'
            THEN to_json((SELECT any_value(m.dest_id) FROM ferry_id_map m
                          WHERE m.dest = 'zendesk' AND m.dest_object = 'custom_object_records'
                            AND m.source_id IN (json_extract_string(vf_custom(t.json), '$."' || x.k || '"'),
                                                json_extract_string(vf_custom(t.json), '$."' || x.k || '"') || ':1')))
            ELSE vf_value(x.k, json_extract(vf_custom(t.json), '$."' || x.k || '"')) END AS expected
FROM tickets t, unnest(json_keys(vf_custom(t.json))) AS x(k)
LEFT JOIN ferry_id_map f ON f.dest = 'zendesk' AND f.dest_object = 'ticket_fields' AND f.source_id = vf_key(x.k)
LEFT JOIN out_zendesk_ticket_fields tf ON tf.key = vf_key(x.k)
UNION ALL
SELECT 'conversations', 'id', t.conversation_id, 'tickets', t.dest_id, 'external_id', 'external_id', to_json(t.source_id)
FROM tickets t
UNION ALL
SELECT 'customers', 'attributes.custom.' || x.k, p.source_id, 'users', p.dest_id, 'user_fields.' || vf_key(x.k),
       'user_fields.' || vf_key(x.k), vf_value(x.k, json_extract(vf_custom(p.json), '$."' || x.k || '"'))
FROM people p, unnest(json_keys(vf_custom(p.json))) AS x(k)
UNION ALL
SELECT 'customers', 'attributes.tags', p.source_id, 'users', p.dest_id, 'tags', 'tags',
       vf_tags(p.json)
FROM people p
UNION ALL
SELECT 'customers', 'id', p.source_id, 'users', p.dest_id, 'external_id', 'external_id', to_json(p.source_id)
FROM people p
UNION ALL
SELECT 'companies', 'attributes.custom.' || x.k, o.source_id, 'organizations', o.dest_id, 'organization_fields.' || vf_key(x.k),
       'organization_fields.' || vf_key(x.k), vf_value(x.k, json_extract(vf_custom(o.json), '$."' || x.k || '"'))
FROM orgs o, unnest(json_keys(vf_custom(o.json))) AS x(k)
UNION ALL
SELECT 'companies', 'id', o.source_id, 'organizations', o.dest_id, 'external_id', 'external_id', to_json(o.source_id)
FROM orgs o
UNION ALL
SELECT 'kobjects', 'attributes.custom.' || f.kustomer_key, r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id,
       'custom_object_fields.' || vf_key(f.kustomer_key), 'custom_object_fields.' || vf_key(f.kustomer_key),
       -- A reference to another KObject: the Zendesk id of that record
       -- (its first part), through ferry_id_map.
       CASE WHEN f.target_klass_id IS NOT NULL
            THEN to_json((SELECT any_value(m.dest_id) FROM ferry_id_map m
                          WHERE m.dest = 'zendesk' AND m.dest_object = 'custom_object_records'
                            AND m.source_id IN (json_extract_string(vf_custom(r.json), '$."' || f.kustomer_key || '"'),
                                                json_extract_string(vf_custom(r.json), '$."' || f.kustomer_key || '"') || ':1')))
            WHEN r.trimmed AND json_type(json_extract(vf_custom(r.json), '$."' || f.kustomer_key || '"')) = 'VARCHAR'
                 AND length(json_extract_string(vf_custom(r.json), '$."' || f.kustomer_key || '"')) > 1000
            THEN to_json(left(json_extract_string(vf_custom(r.json), '$."' || f.kustomer_key || '"'), 1000))
            ELSE vf_value(f.kustomer_key, json_extract(vf_custom(r.json), '$."' || f.kustomer_key || '"')) END
FROM records r
JOIN int_klass_fields f ON f.klass_id = json_extract_string(r.json, '$.relationships.klass.data.id') AND f.part_no = r.part_no
WHERE list_contains(json_keys(vf_custom(r.json)), f.kustomer_key)
UNION ALL
-- The record's lookups: its customer's person (rule 5 of the sample:
-- verify_raw_person) and its company, or the company it was merged into.
SELECT 'kobjects', 'relationships.customer.data.id', r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id,
       'custom_object_fields.kustomer_customer', 'custom_object_fields.kustomer_customer',
       to_json((SELECT any_value(m.dest_id) FROM verify_raw_person p
                JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'users' AND m.source_id = p.person_id
                WHERE p.customer_id = json_extract_string(r.json, '$.relationships.customer.data.id')))
FROM records r
UNION ALL
SELECT 'kobjects', 'relationships.company.data.id', r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id,
       'custom_object_fields.kustomer_company', 'custom_object_fields.kustomer_company',
       to_json((SELECT any_value(m.dest_id) FROM ferry_id_map m
                WHERE m.dest = 'zendesk' AND m.dest_object = 'organizations'
                  AND m.source_id IN (json_extract_string(r.json, '$.relationships.company.data.id'),
                                      (SELECT into_company_id FROM int_company_merge
                                       WHERE company_id = json_extract_string(r.json, '$.relationships.company.data.id')))))
FROM records r
UNION ALL
SELECT 'kobjects', 'attributes.title', r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id, 'name', 'name',
       to_json(coalesce(nullif(trim(json_extract_string(r.json, '$.attributes.title')), ''), r.kobject_id))
FROM records r
UNION ALL
SELECT 'kobjects', 'id', r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id, 'external_id', 'external_id', to_json(r.source_id)
FROM records r
UNION ALL
-- ferry's fields: Kustomer's own externalId, the channel, a company's
-- phones and tags, a record's description and tags.
SELECT 'conversations', 'attributes.' || x.path, t.conversation_id, 'tickets', t.dest_id, 'custom_fields.' || x.key,
       'custom_fields[id=' || coalesce(f.dest_id, '(no ticket field ' || x.key || ')') || '].value', to_json(x.value)
FROM tickets t, LATERAL (
    SELECT 'externalId' AS path, 'kustomer_external_id' AS key, nullif(trim(json_extract_string(t.json, '$.attributes.externalId')), '') AS value
    UNION ALL SELECT 'channels', 'kustomer_channel', json_extract_string(t.json, '$.attributes.channels[0]')) x
LEFT JOIN ferry_id_map f ON f.dest = 'zendesk' AND f.dest_object = 'ticket_fields' AND f.source_id = x.key
WHERE x.value IS NOT NULL
UNION ALL
SELECT 'customers', 'attributes.externalId', p.source_id, 'users', p.dest_id, 'user_fields.kustomer_external_id',
       'user_fields.kustomer_external_id', to_json(trim(json_extract_string(p.json, '$.attributes.externalId')))
FROM people p WHERE nullif(trim(json_extract_string(p.json, '$.attributes.externalId')), '') IS NOT NULL
UNION ALL
SELECT 'companies', 'attributes.' || x.path, o.source_id, 'organizations', o.dest_id, x.field, x.field, x.value
FROM orgs o, LATERAL (
    SELECT 'externalId' AS path, 'organization_fields.kustomer_external_id' AS field,
           to_json(nullif(trim(json_extract_string(o.json, '$.attributes.externalId')), '')) AS value
    UNION ALL SELECT 'phones', 'organization_fields.kustomer_phones',
           to_json(nullif(array_to_string(list_filter(json_extract_string(o.json, '$.attributes.phones[*].phone'), lambda p: trim(p) <> ''), ', '), ''))
    UNION ALL SELECT 'tags', 'tags', vf_tags(o.json)) x
WHERE x.value IS NOT NULL AND x.value::VARCHAR <> 'null'
UNION ALL
SELECT 'kobjects', 'attributes.' || x.path, r.kobject_id, 'custom_object_records/' || r.object_key, r.dest_id, x.field, x.field, to_json(x.value)
FROM records r, LATERAL (
    SELECT 'description' AS path, 'custom_object_fields.kustomer_description' AS field, nullif(trim(json_extract_string(r.json, '$.attributes.description')), '') AS value
    UNION ALL SELECT 'externalId', 'custom_object_fields.kustomer_external_id', nullif(trim(json_extract_string(r.json, '$.attributes.externalId')), '')
    UNION ALL SELECT 'tags', 'custom_object_fields.kustomer_tags', vf_tag_text(r.json)) x
WHERE x.value IS NOT NULL;

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
