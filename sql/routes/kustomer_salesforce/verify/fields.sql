-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Salesforce (SOQL by Id) and
-- compares: the sampled Cases' Subject, Priority and Contact, their
-- people's Contact or Lead fields, their Accounts, and custom object
-- records (those of the sampled people, and the first of each klass) with
-- their fields and lookups.
--
-- Expected values come from the raw Kustomer JSON (raw_kustomer_*) by the
-- rules in verify_field_rules; ferry_id_map says which record each source
-- record became. A source path declared dropped (seeds/field_map.csv) is
-- left out by the engine: the field ledger reports it as a gap instead.

CREATE OR REPLACE TABLE verify_field_rules AS
SELECT * FROM (VALUES
    ('Case.Subject', 'the conversation name, control characters removed, else "(no subject)"; 255 characters'),
    ('Case.Priority', 'seeds/priority_map.csv, else Medium'),
    ('people', 'customers sharing their first email (case-insensitive) are one person: the oldest; a person is a Contact or a Lead (int_customer_people)'),
    ('Email', 'the first email, lowercased'),
    ('Account', 'Name = the company name; Website = its first domain'),
    ('EmailMessage', 'an email''s envelope (attributes.meta): FromAddress = from, ToAddress = the to addresses joined by "; "; Headers holds "X-Kustomer-Channel: <the message''s channel>"'),
    ('EmailMessageRelation', 'the sender of each of a sampled Case''s first three emails: a customer''s (direction in) = the Case person''s Contact or Lead, an agent''s = the User matched to its createdBy (none: empty)'),
    ('lookups', 'a KObject attribute ending in Id that names another KObject = the Salesforce Id of that record (none when it is gone from Kustomer)'),
    ('custom fields', 'each custom attribute of a customer (Contact/Lead), company (Account) or conversation (Case) in the field out_salesforce_custom_fields names for it: numbers, checkboxes and times by meaning, text cut to the field''s length'),
    ('Kustomer fields', 'Kustomer_External_Id__c = Kustomer''s own externalId; Kustomer_Tags__c = tag names (deleted left out) sorted, joined by ", "; Kustomer_Locale__c = the locale; Kustomer_Channel__c = the conversation''s first channel; Account.Phone = the first phone'),
    ('custom object records', 'Name = the KObject title, else its id, 80 characters; each klass property in its field (int_klass_fields), text of a non-text type cut to 255 characters; Contact__c / Lead__c = the record''s person')
) AS t(field, rule);

-- A record's tag names as the Kustomer_Tags__c fields hold them.
CREATE OR REPLACE TEMP MACRO verify_tag_text(j) AS
    (SELECT string_agg(json_extract_string(g.json, '$.attributes.name'), ', ' ORDER BY json_extract_string(g.json, '$.attributes.name'))
     FROM raw_kustomer_tags g
     WHERE list_contains(coalesce(json_extract_string(j, '$.attributes.tags[*]'), []), g.id)
       AND NOT coalesce(TRY_CAST(json_extract_string(g.json, '$.attributes.deleted') AS BOOLEAN), false));

CREATE OR REPLACE TABLE verify_expected_fields AS
WITH person AS (
    -- A customer's person (verify/macros.sql of the Kustomer source).
    SELECT * FROM kustomer_verify_person()
), cases AS (
    SELECT s.source_id, s.dest_id, r.json, p.person_id
    FROM verify_sample s JOIN raw_kustomer_conversations r ON r.id = s.source_id
    LEFT JOIN person p ON p.customer_id = json_extract_string(r.json, '$.relationships.customer.data.id')
), people AS (
    SELECT DISTINCT m.dest_object, m.source_id, m.dest_id, r.json
    FROM cases c
    JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object IN ('contacts', 'leads') AND m.source_id = c.person_id
    JOIN raw_kustomer_customers r ON r.id = m.source_id
), accounts AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM people p
    JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'accounts'
                       AND m.source_id = json_extract_string(p.json, '$.relationships.company.data.id')
    JOIN raw_kustomer_companies r ON r.id = m.source_id
), records AS (
    SELECT r.id AS kobject_id, r.json, m.dest_id, o.object, pp.person_id
    FROM raw_kustomer_kobjects r
    JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'custom_records' AND m.source_id = r.id
    JOIN out_salesforce_custom_objects o ON o.source_id = json_extract_string(r.json, '$.relationships.klass.data.id')
    LEFT JOIN person pp ON pp.customer_id = json_extract_string(r.json, '$.relationships.customer.data.id')
    WHERE pp.person_id IN (SELECT source_id FROM people)
       OR r.id IN (SELECT arg_min(id, id) FROM raw_kustomer_kobjects GROUP BY json_extract_string(json, '$.relationships.klass.data.id'))
)
SELECT 'conversations' AS source_object, 'attributes.name' AS source_path, c.source_id, 'Case' AS dest_object, c.dest_id,
       'Subject' AS field, 'Subject' AS dest_path,
       to_json(left(coalesce(nullif(trim(regexp_replace(json_extract_string(c.json, '$.attributes.name'), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')), ''), '(no subject)'), 255)) AS expected
FROM cases c
UNION ALL
SELECT 'conversations', 'attributes.priority', c.source_id, 'Case', c.dest_id, 'Priority', 'Priority',
       to_json(coalesce((SELECT case_priority FROM priority_map
                         WHERE kustomer_priority = TRY_CAST(json_extract_string(c.json, '$.attributes.priority') AS INTEGER)::VARCHAR), 'Medium'))
FROM cases c
UNION ALL
SELECT 'conversations', 'relationships.customer.data.id', c.source_id, 'Case', c.dest_id, 'ContactId', 'ContactId',
       to_json((SELECT any_value(dest_id) FROM ferry_id_map m WHERE m.dest = 'salesforce' AND m.dest_object = 'contacts' AND m.source_id = c.person_id))
FROM cases c
UNION ALL
SELECT 'customers', 'attributes.emails', p.source_id, CASE p.dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END, p.dest_id,
       'Email', 'Email', to_json(left(lower(trim(json_extract_string(p.json, '$.attributes.emails[0].email'))), 80))
FROM people p
UNION ALL
SELECT 'customers', 'attributes.custom.customerTypeStr', p.source_id, CASE p.dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END, p.dest_id,
       'Customer_Type__c', 'Customer_Type__c', json_extract(p.json, '$.attributes.custom.customerTypeStr')
FROM people p
UNION ALL
SELECT 'companies', 'attributes.name', a.source_id, 'Account', a.dest_id, 'Name', 'Name', json_extract(a.json, '$.attributes.name')
FROM accounts a
UNION ALL
SELECT 'companies', 'attributes.domains', a.source_id, 'Account', a.dest_id, 'Website', 'Website', json_extract(a.json, '$.attributes.domains[0]')
FROM accounts a
UNION ALL
SELECT 'kobjects', 'attributes.custom.' || f.kustomer_key, r.kobject_id, r.object, r.dest_id, f.field, f.field,
       -- A reference to another KObject: the Salesforce Id of its record.
       CASE WHEN f.target_object IS NOT NULL
            THEN to_json((SELECT any_value(m.dest_id) FROM ferry_id_map m
                          WHERE m.dest = 'salesforce' AND m.dest_object = 'custom_records'
                            AND m.source_id = json_extract_string(r.json, '$.attributes.custom."' || f.kustomer_key || '"')))
            WHEN f.kustomer_type NOT IN ('number', 'date', 'boolean', 'text')
                 AND json_type(json_extract(r.json, '$.attributes.custom."' || f.kustomer_key || '"')) = 'VARCHAR'
            THEN to_json(left(json_extract_string(r.json, '$.attributes.custom."' || f.kustomer_key || '"'), 255))
            ELSE json_extract(r.json, '$.attributes.custom."' || f.kustomer_key || '"') END
FROM records r
JOIN int_klass_fields f ON f.klass_id = json_extract_string(r.json, '$.relationships.klass.data.id')
WHERE json_exists(r.json, '$.attributes.custom."' || f.kustomer_key || '"')
UNION ALL
SELECT 'kobjects', 'attributes.title', r.kobject_id, r.object, r.dest_id, 'Name', 'Name',
       to_json(left(coalesce(nullif(trim(json_extract_string(r.json, '$.attributes.title')), ''), r.kobject_id), 80))
FROM records r
UNION ALL
SELECT 'kobjects', 'relationships.customer.data.id', r.kobject_id, r.object, r.dest_id, lk.field, lk.field,
       to_json((SELECT any_value(dest_id) FROM ferry_id_map m WHERE m.dest = 'salesforce' AND m.dest_object = lk.dest_object AND m.source_id = r.person_id))
FROM records r, (VALUES ('Contact__c', 'contacts'), ('Lead__c', 'leads')) AS lk(field, dest_object)
WHERE r.person_id IS NOT NULL
UNION ALL
-- An email's envelope: the first three emails of each sampled Case that
-- have one (a message split into parts: its first part).
SELECT 'messages', 'attributes.' || x.path, e.id, 'EmailMessage', e.dest_id, x.field, x.field, to_json(x.value)
FROM (SELECT r.id, r.json, m.dest_id
      FROM cases c
      JOIN raw_kustomer_messages r ON json_extract_string(r.json, '$.relationships.conversation.data.id') = c.source_id
      JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'email_messages' AND m.source_id IN (r.id, r.id || ':1')
      WHERE json_extract_string(r.json, '$.attributes.meta.from') IS NOT NULL
      QUALIFY row_number() OVER (PARTITION BY c.source_id ORDER BY json_extract_string(r.json, '$.attributes.sentAt'), r.id) <= 3) e,
     LATERAL (SELECT 'meta.from' AS path, 'FromAddress' AS field, trim(json_extract_string(e.json, '$.attributes.meta.from')) AS value
              UNION ALL SELECT 'meta.to', 'ToAddress', array_to_string(json_extract_string(e.json, '$.attributes.meta.to[*].email'), '; ')
              UNION ALL SELECT 'channel', 'Headers', 'X-Kustomer-Channel: ' || json_extract_string(e.json, '$.attributes.channel')) x
WHERE nullif(x.value, '') IS NOT NULL
UNION ALL
-- Each email's sender (EmailMessageRelation FromAddress) of the first
-- three emails of each sampled Case (a message split into parts: its
-- first part).
SELECT 'messages', CASE WHEN e.incoming THEN 'relationships.customer.data.id' ELSE 'relationships.createdBy.data.id' END,
       e.id, 'EmailMessageRelation', rm.dest_id, 'sender RelationId', 'RelationId',
       to_json(CASE WHEN e.incoming
                    THEN (SELECT any_value(p.dest_id) FROM ferry_id_map p
                          WHERE p.dest = 'salesforce' AND p.dest_object IN ('contacts', 'leads') AND p.source_id = e.person_id)
                    ELSE (SELECT any_value(u.dest_id) FROM ferry_id_map u
                          WHERE u.dest = 'salesforce' AND u.dest_object = 'agents'
                            AND u.source_id = json_extract_string(e.json, '$.relationships.createdBy.data.id')) END)
FROM (SELECT r.id, r.json, c.person_id, m.source_id AS row_id,
             json_extract_string(r.json, '$.attributes.direction') = 'in' AS incoming
      FROM cases c
      JOIN raw_kustomer_messages r ON json_extract_string(r.json, '$.relationships.conversation.data.id') = c.source_id
      JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'email_messages' AND m.source_id IN (r.id, r.id || ':1')
      QUALIFY row_number() OVER (PARTITION BY c.source_id ORDER BY json_extract_string(r.json, '$.attributes.sentAt'), r.id) <= 3) e
JOIN ferry_id_map rm ON rm.dest = 'salesforce' AND rm.dest_object = 'email_relations' AND rm.source_id = e.row_id || ':from'
UNION ALL
-- Custom attributes of Contacts/Leads, Accounts and Cases (the field list
-- out_salesforce_custom_fields names each attribute's field: a locator).
SELECT x.object, 'attributes.custom.' || f.kustomer_key, x.source_id, x.sobject, x.dest_id, f.field, f.field,
       CASE WHEN f.type = 'Lookup'
            THEN to_json((SELECT any_value(m.dest_id) FROM ferry_id_map m
                          WHERE m.dest = 'salesforce' AND m.dest_object = 'custom_records'
                            AND m.source_id = json_extract_string(x.json, '$.attributes.custom."' || f.kustomer_key || '"')))
            WHEN f.type IN ('Text', 'Long Text Area')
            THEN to_json(left(json_extract_string(x.json, '$.attributes.custom."' || f.kustomer_key || '"'), f.length))
            ELSE json_extract(x.json, '$.attributes.custom."' || f.kustomer_key || '"') END
FROM (SELECT 'customers' AS object, source_id, CASE dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END AS sobject, dest_id, json FROM people
      UNION ALL SELECT 'companies', source_id, 'Account', dest_id, json FROM accounts
      UNION ALL SELECT 'conversations', source_id, 'Case', dest_id, json FROM cases) x
JOIN out_salesforce_custom_fields f ON f.object = x.sobject AND f.kustomer_key IS NOT NULL
WHERE json_type(json_extract(x.json, '$.attributes.custom."' || f.kustomer_key || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
  AND nullif(trim(json_extract_string(x.json, '$.attributes.custom."' || f.kustomer_key || '"')), '') IS NOT NULL
UNION ALL
SELECT x.object, 'attributes.' || x.path, x.source_id, x.sobject, x.dest_id, x.field, x.field, to_json(x.value)
FROM (SELECT 'customers' AS object, 'externalId' AS path, source_id, CASE dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END AS sobject, dest_id,
             'Kustomer_External_Id__c' AS field, trim(json_extract_string(json, '$.attributes.externalId')) AS value FROM people
      UNION ALL SELECT 'customers', 'tags', source_id, CASE dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END, dest_id,
             'Kustomer_Tags__c', verify_tag_text(json) FROM people
      UNION ALL SELECT 'customers', 'locale', source_id, CASE dest_object WHEN 'contacts' THEN 'Contact' ELSE 'Lead' END, dest_id,
             'Kustomer_Locale__c', trim(json_extract_string(json, '$.attributes.locale')) FROM people
      UNION ALL SELECT 'companies', 'externalId', source_id, 'Account', dest_id, 'Kustomer_External_Id__c', trim(json_extract_string(json, '$.attributes.externalId')) FROM accounts
      UNION ALL SELECT 'companies', 'tags', source_id, 'Account', dest_id, 'Kustomer_Tags__c', verify_tag_text(json) FROM accounts
      UNION ALL SELECT 'companies', 'phones', source_id, 'Account', dest_id, 'Phone', left(json_extract_string(json, '$.attributes.phones[0].phone'), 40) FROM accounts
      UNION ALL SELECT 'conversations', 'externalId', source_id, 'Case', dest_id, 'Kustomer_External_Id__c', trim(json_extract_string(json, '$.attributes.externalId')) FROM cases
      UNION ALL SELECT 'conversations', 'channels', source_id, 'Case', dest_id, 'Kustomer_Channel__c', json_extract_string(json, '$.attributes.channels[0]') FROM cases
      UNION ALL SELECT 'kobjects', 'description', kobject_id, object, dest_id, 'Kustomer_Description__c', trim(json_extract_string(json, '$.attributes.description')) FROM records
      UNION ALL SELECT 'kobjects', 'externalId', kobject_id, object, dest_id, 'Kustomer_External_Id__c', trim(json_extract_string(json, '$.attributes.externalId')) FROM records
      UNION ALL SELECT 'kobjects', 'tags', kobject_id, object, dest_id, 'Kustomer_Tags__c', verify_tag_text(json) FROM records) x
WHERE nullif(x.value, '') IS NOT NULL;

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
