-- int_klass_fields: tickets → KObjects starts here: each ticket type is
-- a klass (`intercom-<name>`), created if the org lacks it, its
-- `jsonSchema` made from the ticket type's attributes.

-- A ticket type's live attributes, as JSON Schema properties: Intercom's
-- data types (string, list, integer, decimal, boolean, datetime — a Unix
-- time —, files) to JSON types; a list's option labels as its `enum`.
CREATE OR REPLACE TABLE int_klass_fields AS
SELECT t.ticket_type_id, json_extract_string(a, '$.name') AS name,
       json_extract_string(a, '$.data_type') AS data_type,
       coalesce(TRY_CAST(json_extract(a, '$.order') AS INTEGER), 0) AS ord,
       coalesce(TRY_CAST(json_extract(a, '$.required_to_create') AS BOOLEAN), false) AS required,
       json_merge_patch(
           json_object('type', CASE json_extract_string(a, '$.data_type')
                                   WHEN 'integer' THEN 'integer' WHEN 'datetime' THEN 'integer'
                                   WHEN 'decimal' THEN 'number' WHEN 'boolean' THEN 'boolean'
                                   WHEN 'files' THEN 'array' ELSE 'string' END,
                       'title', json_extract_string(a, '$.name'),
                       'description', coalesce(nullif(json_extract_string(a, '$.description'), ''),
                                               'Intercom ' || json_extract_string(a, '$.data_type') || ' attribute')),
           CASE WHEN json_extract_string(a, '$.data_type') = 'list'
                THEN json_object('enum', json_extract(a, '$.input_options.list_options[*].label'))
                ELSE '{}'::JSON END) AS property
FROM stg_ticket_types t, unnest(CAST(json_extract(t.attributes, '$[*]') AS JSON[])) AS u(a)
WHERE json_type(t.attributes) = 'ARRAY'
  AND NOT coalesce(TRY_CAST(json_extract(a, '$.archived') AS BOOLEAN), false)
UNION ALL
-- ferry's own fields of every klass: what Intercom keeps on the ticket
-- itself, not in its attributes (intercom-openapi-2.14.yaml, ticket).
-- Kustomer has no conversation on a KObject, so the ticket's parts travel
-- as its timeline in text.
SELECT t.ticket_type_id, f.name, f.data_type, 1000 + f.ord, false,
       json_object('type', f.json_type, 'title', f.name, 'description', f.description)
FROM stg_ticket_types t,
     (VALUES ('intercomTicketId', 'string', 'string', 1, 'The ticket''s number in the Intercom inbox and Messenger'),
             ('intercomCategory', 'string', 'string', 2, 'Intercom ticket category (Customer, Back-office, Tracker)'),
             ('intercomAssignee', 'string', 'string', 3, 'The Intercom admin assigned (name <email>)'),
             ('intercomTeam', 'string', 'string', 4, 'The Intercom team assigned'),
             ('intercomShared', 'boolean', 'boolean', 5, 'Whether the customer can see the ticket'),
             ('intercomConversation', 'string', 'string', 6, 'The ticket''s parts, one a line: time, author, type, text, files')
     ) AS f(name, data_type, json_type, ord, description);
