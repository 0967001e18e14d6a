-- int_custom_attributes (Kustomer): every custom attribute of customers,
-- companies, conversations and KObjects, one row each, with its value as
-- text and, for a reference to another object (Kustomer's `Id` suffix:
-- "Reference to another object", developer.kustomer.com/docs/concepts/
-- custom-attributes), the KObject it names when ferry extracted one with
-- that id. Every destination renders custom attributes from this table (a
-- summary or a note in text, a custom field, a lookup), so the rules that
-- read them live once.
--
-- value_text: a string, number or date as Kustomer gives it; true/false;
-- a list joined by ", "; an object as its JSON. display_text adds, for a
-- reference that resolves, the record's klass and title with its id:
-- "Order: Order 12 (Kustomer 5822a4a5…)".

-- Walked with json_each (each key with its value and type, no JSON path
-- per key: a path per call keeps a parse arena per call site, which a
-- 128 MB memory limit cannot hold on a large org).
CREATE OR REPLACE TABLE int_custom_attributes AS
WITH records AS (
    SELECT 'customers' AS object, customer_id AS record_id, custom FROM stg_customers
    UNION ALL SELECT 'companies', company_id, custom FROM stg_companies
    UNION ALL SELECT 'conversations', conversation_id, custom FROM stg_conversations
    UNION ALL SELECT 'kobjects', kobject_id, custom FROM stg_kobjects
), typed AS (
    SELECT r.object, r.record_id, e.key AS attribute, upper(e.type) AS json_type,
           CASE WHEN e.type = 'ARRAY' THEN array_to_string(json_extract_string(e.value, '$[*]'), ', ')
                WHEN e.type = 'OBJECT' THEN CAST(e.value AS VARCHAR)
                ELSE json_extract_string(e.value, '$') END AS value_text
    FROM records r, json_each(r.custom) e
    WHERE json_type(r.custom) = 'OBJECT' AND e.type <> 'NULL'
)
SELECT t.object, t.record_id, t.attribute, t.json_type, t.value_text,
       -- A reference by Kustomer's suffix; ref_kobject_id is set when the
       -- record it names was extracted (a missing parent stays NULL).
       t.attribute LIKE '%Id' AND t.json_type = 'VARCHAR' AS is_reference,
       k.kobject_id AS ref_kobject_id, k.klass_id AS ref_klass_id,
       CASE WHEN k.kobject_id IS NOT NULL
            THEN coalesce(kl.display_name, kl.name, 'record') || ': ' || coalesce(k.title, k.kobject_id)
                 || ' (Kustomer ' || k.kobject_id || ')'
            ELSE t.value_text END AS display_text
FROM typed t
LEFT JOIN stg_kobjects k ON t.attribute LIKE '%Id' AND t.json_type = 'VARCHAR' AND k.kobject_id = t.value_text
LEFT JOIN stg_klasses kl ON kl.klass_id = k.klass_id
WHERE nullif(trim(t.value_text), '') IS NOT NULL;

COMMENT ON TABLE int_custom_attributes IS 'Kustomer custom attributes of customers, companies, conversations and KObjects, one row each, as text, references to KObjects resolved';

-- The names of a record's tags (stg_tags), deleted tags left out, sorted.
CREATE OR REPLACE MACRO kustomer_tag_names(tag_ids) AS (
    SELECT coalesce(list(name ORDER BY name), []::VARCHAR[]) FROM stg_tags
    WHERE list_contains(tag_ids, tag_id) AND NOT deleted);

-- A record's custom attributes as lines "<attribute>: <display_text>",
-- sorted by attribute, each prefixed (e.g. 'Company '); NULL when it has none.
CREATE OR REPLACE MACRO kustomer_custom_lines(obj, id, prefix) AS (
    SELECT string_agg(prefix || attribute || ': ' || display_text, chr(10) ORDER BY attribute)
    FROM int_custom_attributes WHERE object = obj AND record_id = id);

-- The klass each KObject reference attribute points at, as the data shows
-- it (a klass's metadata types the property `id` without naming the
-- target): the most common klass of the records it names — per klass for a
-- KObject's attribute, per object (klass_id NULL) for a customer's,
-- company's or conversation's. Routes that make such a property a lookup
-- read it here.
CREATE OR REPLACE TABLE int_kobject_reference_targets AS
SELECT a.object, k.klass_id, a.attribute, mode(a.ref_klass_id) AS target_klass_id
FROM int_custom_attributes a
LEFT JOIN stg_kobjects k ON a.object = 'kobjects' AND k.kobject_id = a.record_id
WHERE a.ref_klass_id IS NOT NULL
GROUP BY ALL;
