-- 003 custom attributes: each live custom data attribute of contacts and
-- companies becomes a Kustomer custom attribute named in camelCase with
-- the type suffix seeds/attribute_types.csv gives (Kustomer: the suffix
-- fixes the type); conversation custom attributes are text. ferry adds
-- its own: the Intercom role and external id of a customer, the Intercom
-- state and snooze time of a conversation. Archived attributes are not
-- declared (their values stay in the raw JSON).

CREATE OR REPLACE TABLE out_kus_metadata AS
SELECT a.attribute_id AS source_id, CASE a.model WHEN 'contact' THEN 'customer' ELSE 'company' END AS resource,
       a.name AS intercom_name, kus_camel(a.name) || t.kustomer_suffix AS name,
       t.kustomer_type AS type, coalesce(nullif(a.label, ''), a.name) AS display_name
FROM stg_data_attributes a JOIN attribute_types t ON t.intercom_type = a.data_type
WHERE a.custom AND NOT a.archived AND a.model IN ('contact', 'company')
UNION ALL
SELECT 'ferry:' || r || '.' || n, r, NULL, n, t, d
FROM (VALUES ('customer', 'intercomRoleStr', 'string', 'Intercom role'),
             ('customer', 'intercomExternalIdStr', 'string', 'Intercom external id'),
             ('conversation', 'intercomStateStr', 'string', 'Intercom state'),
             ('conversation', 'snoozedUntilAt', 'date', 'Snoozed until (Intercom)')) v(r, n, t, d)
UNION ALL
SELECT DISTINCT 'ferry:conversation.' || kus_camel(k) || 'Str', 'conversation', k, kus_camel(k) || 'Str', 'string', k
FROM (SELECT unnest(json_keys(custom)) AS k FROM stg_conversations WHERE json_type(custom) = 'OBJECT');

CREATE OR REPLACE TABLE excluded_attributes AS
SELECT attribute_id AS source_id,
       CASE WHEN archived THEN 'archived in Intercom: not declared in Kustomer (values kept in the raw JSON)'
            WHEN NOT custom THEN 'a standard Intercom attribute: carried by the customer''s own fields'
            WHEN model NOT IN ('contact', 'company') THEN 'a ' || model || ' attribute: no Kustomer resource takes it'
            ELSE 'data type ' || data_type || ' has no Kustomer suffix (seeds/attribute_types.csv)' END AS reason
FROM stg_data_attributes WHERE attribute_id NOT IN (SELECT source_id FROM out_kus_metadata);

-- One custom value as Kustomer takes it, typed by the suffix of its
-- declared name: a date is an ISO time, text at most 1,024 characters.
CREATE OR REPLACE MACRO kus_value(name, v) AS CASE
    WHEN name LIKE '%At' THEN to_json(kus_time(to_timestamp(TRY_CAST(json_extract_string(v, '$') AS BIGINT))))
    WHEN name LIKE '%Str' THEN to_json(left(json_extract_string(v, '$'), 1024))
    ELSE v END;

-- Declared custom values per record: (resource, record id, custom JSON).
CREATE OR REPLACE TABLE custom_values AS
WITH kv AS (
    SELECT 'customer' AS resource, contact_id AS record_id, k, json_extract(custom, '$."' || k || '"') AS v
    FROM (SELECT contact_id, custom, unnest(json_keys(custom)) AS k FROM stg_contacts WHERE json_type(custom) = 'OBJECT')
    UNION ALL
    SELECT 'company', company_id, k, json_extract(custom, '$."' || k || '"')
    FROM (SELECT company_id, custom, unnest(json_keys(custom)) AS k FROM stg_companies WHERE json_type(custom) = 'OBJECT')
    UNION ALL
    SELECT 'conversation', conversation_id, k, json_extract(custom, '$."' || k || '"')
    FROM (SELECT conversation_id, custom, unnest(json_keys(custom)) AS k FROM stg_conversations WHERE json_type(custom) = 'OBJECT')
)
SELECT kv.resource, kv.record_id,
       to_json(map_from_entries(list({'key': m.name, 'value': kus_value(m.name, kv.v)} ORDER BY m.name))) AS custom
FROM kv JOIN out_kus_metadata m ON m.resource = kv.resource AND m.intercom_name = kv.k
WHERE kv.v IS NOT NULL AND json_type(kv.v) <> 'NULL'
GROUP BY ALL;
