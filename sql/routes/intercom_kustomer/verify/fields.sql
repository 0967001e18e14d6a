-- verify: every carried field of the sampled records (verify_expected_fields),
-- which verify::content reads back from Kustomer and compares: the sampled
-- conversations' name and custom attributes, their contacts' name, custom
-- attributes, role and external id, and those contacts' companies.
--
-- Expected values come from the raw Intercom JSON (raw_intercom_*) by the
-- rules in verify_field_rules; ferry_id_map says which record each source
-- record became. A source path declared dropped (seeds/field_map.csv) is
-- left out by the engine: the field ledger reports it as a gap instead.

CREATE OR REPLACE TABLE verify_field_rules AS
SELECT * FROM (VALUES
    ('custom attributes', 'an Intercom data attribute becomes the Kustomer attribute named by its name in camelCase plus the suffix of its type (seeds/attribute_types.csv); a conversation attribute is text (Str)'),
    ('custom attribute values', 'text up to 1,024 characters; numbers and booleans as they are; a date (Unix seconds) as its time'),
    ('conversation name', 'the title, else compared by the sample'),
    ('contact', 'role and external_id in custom.intercomRoleStr and custom.intercomExternalIdStr; a contact merged into another is compared through the one it became'),
    ('standard attributes', 'Intercom attributes with no Kustomer field as ferry''s custom attributes: a company''s company_id, industry, monthly_spend, plan name, size and remote_created_at; a contact''s browser, browser_version, browser_language, os and unsubscribed_from_emails; a conversation''s source.subject, ai_agent_participated, linked_objects (`<type> <id>`, comma-separated) and rating (number, remark, time)'),
    ('contact times and place', 'signed_up_at → signedUpAt, last_seen_at → lastSeenAt; location city, region, country → the location''s cityName, regionName, countryName'),
    ('tags', 'a company''s tag names → the company''s tags'),
    ('knowledge base', 'every collection a category (title, parent); every article in its collection''s category; each language''s title, body and description on the version of that language whose status is Intercom''s state (published or draft); an inline image compared by the SHA-256 of its bytes (the body carries the image itself); a link to another article by that article''s Kustomer URL as read back (verify_kb_redirects)'),
    ('tickets', 'each ticket of a sampled contact is a KObject of klass intercom-<ticket type name>: ticket_id, category and is_shared as they are; the assignee''s and team''s names, and each part''s text, found in data.intercomAssignee, data.intercomTeam and data.intercomConversation')
) AS t(field, rule);

CREATE OR REPLACE MACRO vf_value(suffix, v) AS CASE
    WHEN suffix = 'At' AND TRY_CAST(json_extract_string(v, '$') AS BIGINT) IS NOT NULL
        THEN to_json(strftime(CAST(to_timestamp(TRY_CAST(json_extract_string(v, '$') AS BIGINT)) AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'))
    WHEN suffix = 'Str' THEN to_json(left(json_extract_string(v, '$'), 1024))
    ELSE v END;

CREATE OR REPLACE TABLE verify_expected_fields AS
WITH types AS (
    -- Each custom data attribute's Kustomer name, from the raw data
    -- attributes and the declared type table.
    SELECT CASE json_extract_string(d.json, '$.model') WHEN 'contact' THEN 'contacts' ELSE 'companies' END AS object,
           json_extract_string(d.json, '$.name') AS intercom_name,
           kus_camel(json_extract_string(d.json, '$.name')) || t.kustomer_suffix AS kustomer_name, t.kustomer_suffix AS suffix
    FROM raw_intercom_data_attributes d
    JOIN attribute_types t ON t.intercom_type = json_extract_string(d.json, '$.data_type')
    WHERE coalesce(TRY_CAST(json_extract_string(d.json, '$.custom') AS BOOLEAN), false)
      AND NOT coalesce(TRY_CAST(json_extract_string(d.json, '$.archived') AS BOOLEAN), false)
), convs AS (
    SELECT s.source_id, s.dest_id, r.json
    FROM verify_sample s JOIN raw_intercom_conversations r ON r.id = s.source_id
), contacts AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM convs c
    JOIN ferry_id_map m ON m.dest = 'kustomer' AND m.dest_object = 'customers'
                       AND m.source_id = json_extract_string(c.json, '$.contacts.contacts[0].id')
    JOIN raw_intercom_contacts r ON r.id = m.source_id
), companies AS (
    SELECT DISTINCT m.source_id, m.dest_id, r.json
    FROM contacts p
    JOIN ferry_id_map m ON m.dest = 'kustomer' AND m.dest_object = 'companies'
                       AND m.source_id = json_extract_string(p.json, '$.companies.data[0].id')
    JOIN raw_intercom_companies r ON r.id = m.source_id
), tickets AS (
    -- The sampled contacts' tickets, read back from their klass.
    SELECT m.source_id, m.dest_id, r.json,
           'klasses/intercom-' || array_to_string(list_filter(regexp_split_to_array(
               lower(json_extract_string(r.json, '$.ticket_type.name')), '[^a-z0-9]+'), lambda x: x <> ''), '-') AS dest_object
    FROM contacts p
    JOIN raw_intercom_tickets r ON json_extract_string(r.json, '$.contacts.contacts[0].id') = p.source_id
    JOIN ferry_id_map m ON m.dest = 'kustomer' AND m.dest_object = 'kobjects' AND m.source_id = r.id
), ticket_parts AS (
    SELECT t.source_id, t.dest_id, t.dest_object, u.p
    FROM tickets t, unnest(CAST(coalesce(json_extract(t.json, '$.ticket_parts.ticket_parts[*]'), '[]') AS JSON[])) AS u(p)
)
SELECT 'conversations' AS source_object, 'title' AS source_path, c.source_id, 'conversations' AS dest_object, c.dest_id,
       'name' AS field, 'attributes.name' AS dest_path,
       to_json(left(trim(json_extract_string(c.json, '$.title')), 256)) AS expected, 'equals' AS how
FROM convs c
WHERE nullif(trim(json_extract_string(c.json, '$.title')), '') IS NOT NULL
UNION ALL
SELECT 'conversations', 'custom_attributes.' || x.k, c.source_id, 'conversations', c.dest_id,
       'custom.' || kus_camel(x.k) || 'Str', 'attributes.custom.' || kus_camel(x.k) || 'Str',
       vf_value('Str', json_extract(c.json, '$.custom_attributes."' || x.k || '"')), 'equals'
FROM convs c, unnest(json_keys(coalesce(json_extract(c.json, '$.custom_attributes'), '{}'::JSON))) AS x(k)
WHERE json_type(json_extract(c.json, '$.custom_attributes."' || x.k || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'contacts', 'custom_attributes.' || t.intercom_name, p.source_id, 'customers', p.dest_id,
       'custom.' || t.kustomer_name, 'attributes.custom.' || t.kustomer_name,
       vf_value(t.suffix, json_extract(p.json, '$.custom_attributes."' || t.intercom_name || '"')), 'equals'
FROM contacts p JOIN types t ON t.object = 'contacts'
WHERE json_type(json_extract(p.json, '$.custom_attributes."' || t.intercom_name || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'contacts', 'name', p.source_id, 'customers', p.dest_id, 'name', 'attributes.name', json_extract(p.json, '$.name'), 'equals'
FROM contacts p WHERE nullif(trim(json_extract_string(p.json, '$.name')), '') IS NOT NULL
UNION ALL
SELECT 'contacts', 'role', p.source_id, 'customers', p.dest_id, 'custom.intercomRoleStr', 'attributes.custom.intercomRoleStr',
       json_extract(p.json, '$.role'), 'equals'
FROM contacts p
UNION ALL
SELECT 'contacts', 'external_id', p.source_id, 'customers', p.dest_id, 'custom.intercomExternalIdStr',
       'attributes.custom.intercomExternalIdStr', json_extract(p.json, '$.external_id'), 'equals'
FROM contacts p
UNION ALL
SELECT 'companies', 'custom_attributes.' || t.intercom_name, o.source_id, 'companies', o.dest_id,
       'custom.' || t.kustomer_name, 'attributes.custom.' || t.kustomer_name,
       vf_value(t.suffix, json_extract(o.json, '$.custom_attributes."' || t.intercom_name || '"')), 'equals'
FROM companies o JOIN types t ON t.object = 'companies'
WHERE json_type(json_extract(o.json, '$.custom_attributes."' || t.intercom_name || '"')) NOT IN ('NULL', 'ARRAY', 'OBJECT')
UNION ALL
SELECT 'companies', 'name', o.source_id, 'companies', o.dest_id, 'name', 'attributes.name', json_extract(o.json, '$.name'), 'equals'
FROM companies o
UNION ALL
SELECT 'companies', x.path, o.source_id, 'companies', o.dest_id, 'custom.' || x.name, 'attributes.custom.' || x.name,
       x.v, 'equals'
FROM companies o, (SELECT unnest([
        {path: 'company_id', name: 'intercomCompanyIdStr', v: json_extract(o.json, '$.company_id')},
        {path: 'industry', name: 'intercomIndustryStr', v: json_extract(o.json, '$.industry')},
        {path: 'monthly_spend', name: 'intercomMonthlySpendNum', v: json_extract(o.json, '$.monthly_spend')},
        {path: 'plan.name', name: 'intercomPlanStr', v: json_extract(o.json, '$.plan.name')},
        {path: 'size', name: 'intercomSizeNum', v: json_extract(o.json, '$.size')},
        {path: 'remote_created_at', name: 'intercomRemoteCreatedAt', v: vf_value('At', json_extract(o.json, '$.remote_created_at'))}
     ]) AS x) AS u(x)
WHERE json_type(x.v) NOT IN ('NULL')
UNION ALL
SELECT 'companies', 'tags.tags', o.source_id, 'companies', o.dest_id, 'tags', 'attributes.tags',
       coalesce(json_extract(o.json, '$.tags.tags[*].name'), '[]'::JSON), 'equals'
FROM companies o
UNION ALL
SELECT 'contacts', x.path, p.source_id, 'customers', p.dest_id, x.name, x.dest, x.v, 'equals'
FROM contacts p, (SELECT unnest([
        {path: 'signed_up_at', name: 'signedUpAt', dest: 'attributes.signedUpAt', v: vf_value('At', json_extract(p.json, '$.signed_up_at'))},
        {path: 'last_seen_at', name: 'lastSeenAt', dest: 'attributes.lastSeenAt', v: vf_value('At', json_extract(p.json, '$.last_seen_at'))},
        {path: 'browser', name: 'custom.intercomBrowserStr', dest: 'attributes.custom.intercomBrowserStr', v: json_extract(p.json, '$.browser')},
        {path: 'browser_version', name: 'custom.intercomBrowserVersionStr', dest: 'attributes.custom.intercomBrowserVersionStr', v: json_extract(p.json, '$.browser_version')},
        {path: 'browser_language', name: 'custom.intercomBrowserLanguageStr', dest: 'attributes.custom.intercomBrowserLanguageStr', v: json_extract(p.json, '$.browser_language')},
        {path: 'os', name: 'custom.intercomOsStr', dest: 'attributes.custom.intercomOsStr', v: json_extract(p.json, '$.os')},
        {path: 'unsubscribed_from_emails', name: 'custom.intercomUnsubscribedFromEmailsBool', dest: 'attributes.custom.intercomUnsubscribedFromEmailsBool', v: json_extract(p.json, '$.unsubscribed_from_emails')},
        {path: 'location.city', name: 'location city', dest: 'attributes.locations[type=other].cityName', v: json_extract(p.json, '$.location.city')},
        {path: 'location.region', name: 'location region', dest: 'attributes.locations[type=other].regionName', v: json_extract(p.json, '$.location.region')},
        {path: 'location.country', name: 'location country', dest: 'attributes.locations[type=other].countryName', v: json_extract(p.json, '$.location.country')}
     ]) AS x) AS u(x)
WHERE json_type(x.v) NOT IN ('NULL')
UNION ALL
SELECT 'conversations', x.path, c.source_id, 'conversations', c.dest_id, 'custom.' || x.name, 'attributes.custom.' || x.name, x.v, 'equals'
FROM convs c, (SELECT unnest([
        {path: 'source.subject', name: 'intercomSubjectStr', v: to_json(nullif(trim(json_extract_string(c.json, '$.source.subject')), ''))},
        {path: 'ai_agent_participated', name: 'intercomAiAgentParticipatedBool', v: json_extract(c.json, '$.ai_agent_participated')},
        {path: 'linked_objects.data', name: 'intercomLinkedObjectsStr',
         v: to_json(nullif(array_to_string(list_transform(CAST(coalesce(json_extract(c.json, '$.linked_objects.data[*]'), '[]') AS JSON[]),
                lambda o: json_extract_string(o, '$.type') || ' ' || json_extract_string(o, '$.id')), ', '), ''))},
        {path: 'conversation_rating.rating', name: 'intercomRatingNum', v: json_extract(c.json, '$.conversation_rating.rating')},
        {path: 'conversation_rating.remark', name: 'intercomRatingRemarkTxt', v: json_extract(c.json, '$.conversation_rating.remark')},
        {path: 'conversation_rating.created_at', name: 'intercomRatedAt', v: vf_value('At', json_extract(c.json, '$.conversation_rating.created_at'))}
     ]) AS x) AS u(x)
WHERE x.v IS NOT NULL AND json_type(x.v) NOT IN ('NULL')
UNION ALL
SELECT 'tickets', x.path, t.source_id, t.dest_object, t.dest_id, 'data.' || x.name, 'attributes.data.' || x.name, x.v, x.how
FROM tickets t, (SELECT unnest([
        {path: 'ticket_id', name: 'intercomTicketId', v: json_extract(t.json, '$.ticket_id'), how: 'equals'},
        {path: 'category', name: 'intercomCategory', v: json_extract(t.json, '$.category'), how: 'equals'},
        {path: 'is_shared', name: 'intercomShared', v: json_extract(t.json, '$.is_shared'), how: 'equals'},
        {path: 'admin_assignee_id', name: 'intercomAssignee',
         v: (SELECT json_extract(a.json, '$.name') FROM raw_intercom_admins a WHERE a.id = json_extract_string(t.json, '$.admin_assignee_id')), how: 'contains'},
        {path: 'team_assignee_id', name: 'intercomTeam',
         v: (SELECT json_extract(m.json, '$.name') FROM raw_intercom_teams m WHERE m.id = json_extract_string(t.json, '$.team_assignee_id')), how: 'equals'}
     ]) AS x) AS u(x)
WHERE x.v IS NOT NULL AND json_type(x.v) NOT IN ('NULL')
UNION ALL
SELECT 'tickets', 'ticket_parts.ticket_parts', tp.source_id, tp.dest_object, tp.dest_id,
       'data.intercomConversation', 'attributes.data.intercomConversation',
       to_json(trim(regexp_replace(regexp_replace(json_extract_string(tp.p, '$.body'), '<[^>]*>', ' ', 'g'), '\s+', ' ', 'g'))), 'contains'
FROM ticket_parts tp
WHERE nullif(trim(regexp_replace(coalesce(json_extract_string(tp.p, '$.body'), ''), '<[^>]*>', '', 'g')), '') IS NOT NULL
UNION ALL
-- The Help Center, whole (it is small): every loaded category's title and
-- parent, every article's category, and each language's title, body and
-- description on the version of that language whose status is Intercom's
-- state (published or draft), read from the raw articles' own fields.
SELECT 'collections', x.path, m.source_id, 'kb/categories', m.dest_id, x.name, x.dest, x.v, 'equals'
FROM ferry_id_map m JOIN raw_intercom_collections r ON r.id = m.source_id,
     (SELECT unnest([
        {path: 'name', name: 'title', dest: 'attributes.title', v: to_json(left(trim(json_extract_string(r.json, '$.name')), 255))},
        {path: 'parent_id', name: 'parent', dest: 'attributes.parent',
         v: (SELECT to_json(p.dest_id) FROM ferry_id_map p WHERE p.dest = 'kustomer' AND p.dest_object = 'kb_categories'
             AND p.source_id = json_extract_string(r.json, '$.parent_id'))}
     ]) AS x) AS u(x)
WHERE m.dest = 'kustomer' AND m.dest_object = 'kb_categories' AND x.v IS NOT NULL
UNION ALL
SELECT 'articles', 'parent_id', m.source_id, 'kb/articles', m.dest_id, 'categories', 'attributes.categories',
       coalesce((SELECT to_json([p.dest_id]) FROM ferry_id_map p WHERE p.dest = 'kustomer' AND p.dest_object = 'kb_categories'
                 AND p.source_id = json_extract_string(r.json, '$.parent_id')), '[]'::JSON), 'equals'
FROM ferry_id_map m JOIN raw_intercom_articles r ON r.id = m.source_id
WHERE m.dest = 'kustomer' AND m.dest_object = 'kb_articles'
UNION ALL
SELECT 'articles', CASE WHEN l.is_source THEN '' ELSE 'translated_content.' || l.locale || '.' END || x.path,
       a.source_id, 'kb/articles', a.dest_id, l.lang || ' ' || x.name,
       'attributes.versions[lang=' || l.lang || ',status=' || CASE WHEN l.state = 'published' THEN 'published' ELSE 'draft' END || '].' || x.name,
       x.v, x.how
FROM (
  SELECT id, is_source, locale, kus_kb_lang(locale) AS lang, json_extract_string(c, '$.state') AS state, c
  FROM (
    -- Each language of each loaded article, from the raw JSON: the
    -- article's own fields for its default locale, translated_content for
    -- the others.
    SELECT r.id, true AS is_source, coalesce(json_extract_string(r.json, '$.default_locale'), 'en') AS locale, r.json AS c
    FROM raw_intercom_articles r
    UNION ALL
    SELECT r.id, false, k, json_extract(r.json, '$.translated_content."' || k || '"')
    FROM raw_intercom_articles r, unnest(json_keys(coalesce(json_extract(r.json, '$.translated_content'), '{}'::JSON))) AS u(k)
    WHERE k <> 'type' AND k <> coalesce(json_extract_string(r.json, '$.default_locale'), 'en')
      AND json_type(json_extract(r.json, '$.translated_content."' || k || '"')) = 'OBJECT'
  ) AS c0(id, is_source, locale, c)
) AS l
JOIN ferry_id_map a ON a.dest = 'kustomer' AND a.dest_object = 'kb_articles' AND a.source_id = l.id
JOIN ferry_id_map v ON v.dest = 'kustomer' AND v.dest_object = 'kb_versions' AND v.source_id = l.id || '/' || l.locale,
     (SELECT unnest([
        {path: 'title', name: 'title', v: to_json(left(json_extract_string(l.c, '$.title'), 255)), how: 'equals'},
        -- Each inline image compared by the SHA-256 of its bytes: the
        -- source's as downloaded at extraction, the destination's decoded
        -- from the data: URI in its body (how = 'html_images').
        {path: 'body', name: 'htmlBody',
         -- A link to another Intercom article: that article's Kustomer
         -- URL as read back (verify_kb_redirects).
         v: to_json(kus_replace_all(kus_kb_body(json_extract_string(l.c, '$.body'),
                coalesce((SELECT list({src: json_extract_string(i.json, '$.src'), sha256: i.sha256} ORDER BY i.id)
                          FROM raw_intercom_article_images i
                          WHERE json_extract_string(i.json, '$.article_id') = l.id AND json_extract_string(i.json, '$.locale') = l.locale),
                         []::STRUCT(src VARCHAR, sha256 VARCHAR)[])),
                coalesce((SELECT flatten(list([{a: 'href="' || r.intercom_url || '"', b: 'href="' || coalesce(r.kustomer_url, '?') || '"'},
                                               {a: 'href="' || r.intercom_url || '#', b: 'href="' || coalesce(r.kustomer_url, '?') || '#'}]))
                          FROM verify_kb_redirects r WHERE contains(json_extract_string(l.c, '$.body'), r.intercom_url)),
                         []::STRUCT(a VARCHAR, b VARCHAR)[]))),
         how: 'html_images'},
        {path: 'description', name: 'metaDescription', v: to_json(nullif(json_extract_string(l.c, '$.description'), '')), how: 'equals'}
     ]) AS x) AS u(x)
WHERE x.v IS NOT NULL AND json_type(x.v) <> 'NULL';

COMMENT ON TABLE verify_expected_fields IS 'ferry verify: every carried field of the sampled records, where the destination keeps it and the value the source records give it';
