-- int_kobject_lines: each KObject as lines of text (Enchant has no
-- custom objects).

CREATE OR REPLACE TABLE int_kobject_lines AS
SELECT cc.canonical_id AS customer_source_id, k.kobject_id,
       coalesce(kl.display_name, kl.name, 'record') || ': ' || coalesce(k.title, k.kobject_id)
       || coalesce(' ' || CAST(k.custom AS VARCHAR), '') AS line, k.created_at
FROM stg_kobjects k
JOIN int_customer_canonical cc ON cc.customer_id = k.customer_id
LEFT JOIN stg_klasses kl ON kl.klass_id = k.klass_id;
