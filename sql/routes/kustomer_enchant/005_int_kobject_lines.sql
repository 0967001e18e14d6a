-- int_kobject_lines: each KObject as a block of text (Enchant has no
-- custom objects): a heading "<klass>: <title>", then one indented line
-- each for its description, external id, tags, company and custom
-- attributes (a reference to another KObject names that record and its
-- Kustomer id: int_custom_attributes). A KObject of a customer goes to
-- that customer; one of a company alone (Kustomer: "It belongs to a
-- customer or company", developer.kustomer.com/docs/concepts/
-- custom-objects) goes to each of the company's customers' summaries.

CREATE OR REPLACE TABLE int_kobject_lines AS
WITH blocks AS (
    SELECT k.kobject_id, k.customer_id, k.company_id, k.created_at,
           concat_ws(chr(10),
               coalesce(kl.display_name, kl.name, 'record') || ': ' || coalesce(k.title, k.kobject_id),
               '  description: ' || nullif(trim(k.description), ''),
               '  external id: ' || nullif(trim(k.kustomer_external_id), ''),
               '  tags: ' || nullif(array_to_string(kustomer_tag_names(k.tag_ids), ', '), ''),
               '  company: ' || co.name || ' (Kustomer ' || co.company_id || ')',
               kustomer_custom_lines('kobjects', k.kobject_id, '  ')) AS line
    FROM stg_kobjects k
    LEFT JOIN stg_klasses kl ON kl.klass_id = k.klass_id
    LEFT JOIN stg_companies co ON co.company_id = k.company_id
)
SELECT cc.canonical_id AS customer_source_id, b.kobject_id, 'customer' AS via, b.line, b.created_at
FROM blocks b JOIN int_customer_canonical cc ON cc.customer_id = b.customer_id
UNION ALL
SELECT DISTINCT cc.canonical_id, b.kobject_id, 'company', b.line, b.created_at
FROM blocks b
JOIN stg_customers c ON c.company_id = b.company_id
JOIN int_customer_canonical cc ON cc.customer_id = c.customer_id
WHERE b.customer_id IS NULL;
