-- 002 people: companies → Accounts (the Kustomer id is the external id;
-- the first domain is the Website; companies sharing a domain are one
-- Account, as the route's mapping asks), customers → Contacts when they belong
-- to a company, otherwise Leads (setting customers_without_company:
-- "lead", with the placeholder Company lead_company, or "contact"),
-- users → existing Salesforce Users matched by email (never created).
-- Customers sharing their primary email are one record (the oldest).
-- Teams → Queues for Cases (Group Type=Queue + QueueSobject) with their
-- members (GroupMember); tags → Topics (tags_as = topics).

-- A Salesforce API name (a Queue's DeveloperName, a custom object or
-- field): letters, digits and single underscores, starting with a
-- letter, not ending with an underscore.
CREATE OR REPLACE MACRO sf_api_fold(s) AS
    regexp_replace(regexp_replace(coalesce(s, ''), '[^A-Za-z0-9]+', '_', 'g'), '^_+|_+$', '', 'g');
CREATE OR REPLACE MACRO sf_api_name(s, max_len) AS
    rtrim(left(CASE WHEN sf_api_fold(s) = '' OR NOT regexp_matches(sf_api_fold(s), '^[A-Za-z]')
                    THEN 'K_' || sf_api_fold(s) ELSE sf_api_fold(s) END, max_len), '_');

CREATE OR REPLACE TABLE excluded_users AS
SELECT user_id AS source_id,
       CASE WHEN user_type = 'machine' THEN 'API/machine user' WHEN deleted THEN 'deleted in Kustomer'
            ELSE 'no email' END AS reason
FROM stg_users WHERE user_type = 'machine' OR deleted OR email IS NULL;

CREATE OR REPLACE TABLE out_sf_users AS
SELECT user_id AS source_id, email, name FROM stg_users
WHERE user_id NOT IN (SELECT source_id FROM excluded_users);

-- Account.Name is required (255); a company without a name is named by
-- its domain, then its Kustomer id.
-- Companies sharing a domain are one Account (company_merge, source
-- layer); its description lists the domains of every company it carries.
CREATE OR REPLACE TABLE out_sf_accounts AS
WITH carried AS (
    SELECT cc.canonical_id AS company_id,
           list_sort(list_distinct(flatten(list(c.domains)))) AS all_domains,
           list(c.company_id ORDER BY c.company_id) FILTER (WHERE c.company_id <> cc.canonical_id) AS merged_ids
    FROM stg_companies c JOIN company_canonical cc USING (company_id)
    GROUP BY ALL
)
SELECT c.company_id AS source_id,
       left(coalesce(nullif(trim(c.name), ''), c.domains[1], 'Kustomer company ' || c.company_id), 255) AS name,
       left(c.domains[1], 255) AS website,
       left('Kustomer company ' || c.company_id
            || coalesce(chr(10) || 'Domains: ' || nullif(array_to_string(k.all_domains, ', '), ''), '')
            || coalesce(chr(10) || 'Also Kustomer companies: ' || nullif(array_to_string(k.merged_ids, ', '), ''), ''), 32000) AS description
FROM stg_companies c JOIN carried k USING (company_id);

CREATE OR REPLACE TABLE customer_people AS
SELECT c.customer_id AS source_id,
       CASE WHEN co.canonical_id IN (SELECT source_id FROM out_sf_accounts) THEN 'contact'
            WHEN setting('customers_without_company') = 'contact' THEN 'contact'
            ELSE 'lead' END AS sobject,
       -- LastName is required: the last word of the name, else the email.
       left(nullif(trim(CASE WHEN strpos(trim(c.name), ' ') > 0 THEN substr(trim(c.name), 1, length(trim(c.name)) - length(split_part(trim(c.name), ' ', -1)) - 1) END), ''), 40) AS first_name,
       left(coalesce(nullif(split_part(trim(c.name), ' ', -1), ''), c.emails[1], 'Kustomer customer ' || c.customer_id), 80) AS last_name,
       left(c.emails[1], 80) AS email,
       left(c.phones[1], 40) AS phone,
       CASE WHEN co.canonical_id IN (SELECT source_id FROM out_sf_accounts) THEN co.canonical_id END AS account_source_id,
       left('Kustomer customer ' || c.customer_id
            || coalesce(chr(10) || 'Other emails: ' || nullif(array_to_string(c.emails[2:], ', '), ''), '')
            || coalesce(chr(10) || 'Other phones: ' || nullif(array_to_string(c.phones[2:], ', '), ''), ''), 32000) AS description,
       json_extract_string(c.custom, '$.customerTypeStr') AS customer_type
FROM stg_customers c
LEFT JOIN company_canonical co ON co.company_id = c.company_id
WHERE c.customer_id NOT IN (SELECT customer_id FROM customer_merge);

CREATE OR REPLACE TABLE out_sf_contacts AS
SELECT * EXCLUDE (sobject) FROM customer_people WHERE sobject = 'contact';
CREATE OR REPLACE TABLE out_sf_leads AS
SELECT * EXCLUDE (sobject, account_source_id), left(setting('lead_company'), 255) AS company
FROM customer_people WHERE sobject = 'lead';

-- Group.Name holds 40 characters; DeveloperName 80 and is unique among
-- Groups: teams whose names fold to the same one get _2, _3…
CREATE OR REPLACE TABLE excluded_teams AS
SELECT team_id AS source_id, 'team deleted in Kustomer' AS reason FROM stg_teams WHERE deleted;

CREATE OR REPLACE TABLE out_sf_queues AS
WITH named AS (
    SELECT team_id, left(coalesce(nullif(trim(name), ''), 'Kustomer team ' || team_id), 40) AS name,
           sf_api_name(coalesce(nullif(trim(name), ''), 'Kustomer team ' || team_id), 70) AS base, created_at
    FROM stg_teams WHERE NOT deleted
)
SELECT team_id AS source_id, name,
       base || CASE WHEN n > 1 THEN '_' || n ELSE '' END AS developer_name
FROM (SELECT *, row_number() OVER (PARTITION BY lower(base) ORDER BY created_at, team_id) AS n FROM named);

CREATE OR REPLACE TABLE out_sf_queue_members AS
SELECT DISTINCT q.source_id || ':' || u.source_id AS source_id, q.source_id AS queue_source_id, u.source_id AS user_source_id
FROM stg_teams t
JOIN out_sf_queues q ON q.source_id = t.team_id,
     unnest(t.member_ids) AS m(user_id)
JOIN out_sf_users u ON u.source_id = m.user_id;

-- Topic names hold 99 characters and are unique in any case: tags that
-- differ only in case become one Topic (the load matches by name).
CREATE OR REPLACE TABLE out_sf_topics AS
SELECT tag_id AS source_id, left(trim(name), 99) AS name
FROM stg_tags
WHERE NOT deleted AND setting('tags_as') = 'topics' AND nullif(trim(name), '') IS NOT NULL;
