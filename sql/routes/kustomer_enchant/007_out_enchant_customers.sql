-- out_enchant_customers: Kustomer customers → Enchant customers, one per
-- person after the merge (Enchant matches customers by contact email, so
-- two would collapse anyway). Contact types are email, phone and twitter
-- only; a company has no object in Enchant, so it goes into the
-- `summary`, the one free-text field ("Kustomer company/custom attributes
-- → serialise into `summary`", enchant-api.md §4), with the
-- Kustomer id, the customer's external id, locale, tags and custom
-- attributes, the company's name, domains, phones, tags, external id and
-- custom attributes ("Company <attribute>: value"), and any KObjects no
-- note carries.

CREATE OR REPLACE TABLE out_enchant_customers AS
WITH contacts AS (
    SELECT cc.canonical_id AS source_id,
           list_sort(list(DISTINCT {'type': 'email', 'value': e})) AS emails
    FROM stg_customers c JOIN int_customer_canonical cc USING (customer_id), unnest(c.emails) AS t(e)
    GROUP BY ALL
), phones AS (
    SELECT cc.canonical_id AS source_id,
           list_sort(list(DISTINCT {'type': 'phone', 'value': trim(p)})) AS phones
    FROM stg_customers c JOIN int_customer_canonical cc USING (customer_id), unnest(c.phones) AS t(p)
    GROUP BY ALL
), kobj AS (
    SELECT customer_source_id AS source_id, string_agg(line, chr(10) ORDER BY line) AS lines
    FROM int_kobject_lines
    WHERE via = 'company' OR customer_source_id NOT IN (SELECT customer_source_id FROM out_enchant_kobject_notes)
    GROUP BY ALL
)
SELECT c.customer_id AS source_id,
       c.emails[1] AS email,
       coalesce(split_part(c.name, ' ', 1), '') AS first_name,
       trim(substr(c.name, length(split_part(c.name, ' ', 1)) + 1)) AS last_name,
       concat_ws(chr(10),
           'Kustomer customer ' || c.customer_id,
           'External id: ' || nullif(trim(c.kustomer_external_id), ''),
           'Locale: ' || nullif(trim(c.locale), ''),
           'Tags: ' || nullif(array_to_string(kustomer_tag_names(c.tag_ids), ', '), ''),
           kustomer_custom_lines('customers', c.customer_id, ''),
           CASE WHEN co.name IS NOT NULL THEN 'Company: ' || co.name
                || coalesce(' (' || nullif(array_to_string(co.domains, ', '), '') || ')', '') END,
           'Company phones: ' || nullif(array_to_string(co.phones, ', '), ''),
           'Company tags: ' || nullif(array_to_string(kustomer_tag_names(co.tag_ids), ', '), ''),
           'Company external id: ' || nullif(trim(co.kustomer_external_id), ''),
           kustomer_custom_lines('companies', co.company_id, 'Company '),
           kobj.lines) AS summary,
       list_concat(coalesce(ct.emails, []), coalesce(ph.phones, [])) AS contacts,
       c.company_id
FROM stg_customers c
LEFT JOIN stg_companies co USING (company_id)
LEFT JOIN contacts ct ON ct.source_id = c.customer_id
LEFT JOIN phones ph ON ph.source_id = c.customer_id
LEFT JOIN kobj ON kobj.source_id = c.customer_id
WHERE c.customer_id NOT IN (SELECT customer_id FROM int_customer_merge);
