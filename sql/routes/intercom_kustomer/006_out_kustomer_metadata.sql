-- out_kustomer_metadata: each live custom data attribute of contacts and
-- companies becomes a Kustomer custom attribute named in camelCase with
-- the type suffix seeds/attribute_types.csv gives (Kustomer: the suffix
-- fixes the type); conversation custom attributes are text. ferry adds
-- its own: the Intercom role and external id of a customer, the Intercom
-- state and snooze time of a conversation, and Intercom's standard
-- attributes Kustomer has no field for (a company's own id, industry,
-- spend, plan, size and creation time; a contact's browser, OS and email
-- consent; a conversation's subject, Fin's part, links and rating).

CREATE OR REPLACE TABLE out_kustomer_metadata AS
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
             ('conversation', 'snoozedUntilAt', 'date', 'Snoozed until (Intercom)'),
             ('company', 'intercomCompanyIdStr', 'string', 'Intercom company id'),
             ('company', 'intercomIndustryStr', 'string', 'Industry (Intercom)'),
             ('company', 'intercomMonthlySpendNum', 'number', 'Monthly spend (Intercom)'),
             ('company', 'intercomPlanStr', 'string', 'Plan (Intercom)'),
             ('company', 'intercomSizeNum', 'number', 'Size (Intercom)'),
             ('company', 'intercomRemoteCreatedAt', 'date', 'Created in your system (Intercom)'),
             ('customer', 'intercomBrowserStr', 'string', 'Browser (Intercom)'),
             ('customer', 'intercomBrowserVersionStr', 'string', 'Browser version (Intercom)'),
             ('customer', 'intercomBrowserLanguageStr', 'string', 'Browser language (Intercom)'),
             ('customer', 'intercomOsStr', 'string', 'OS (Intercom)'),
             ('customer', 'intercomUnsubscribedFromEmailsBool', 'boolean', 'Unsubscribed from emails (Intercom)'),
             ('conversation', 'intercomSubjectStr', 'string', 'Email subject (Intercom)'),
             ('conversation', 'intercomAiAgentParticipatedBool', 'boolean', 'Fin took part (Intercom)'),
             ('conversation', 'intercomLinkedObjectsStr', 'string', 'Linked tickets and conversations (Intercom)'),
             ('conversation', 'intercomRatingNum', 'number', 'Rating, 1 to 5 (Intercom)'),
             ('conversation', 'intercomRatingRemarkTxt', 'text', 'Rating remark (Intercom)'),
             ('conversation', 'intercomRatedAt', 'date', 'Rated at (Intercom)')) v(r, n, t, d)
UNION ALL
SELECT DISTINCT 'ferry:conversation.' || kus_camel(k) || 'Str', 'conversation', k, kus_camel(k) || 'Str', 'string', k
FROM (SELECT unnest(json_keys(custom)) AS k FROM stg_conversations WHERE json_type(custom) = 'OBJECT');
