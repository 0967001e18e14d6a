-- int_kobject_parts: each KObject's values per custom object part.

-- Each custom value goes to the object part that holds its field, in field
-- order. Built row by row from each part's key list (a few rows per klass)
-- rather than by unnesting every value and aggregating it back: the
-- aggregate held every record's values in one hash table.
CREATE OR REPLACE TABLE int_kobject_parts AS
WITH part_keys AS (
    -- A lookup to another record is set once every record exists
    -- (out_zendesk_custom_object_links), not on create.
    SELECT klass_id, part_no, list({'k': kustomer_key, 't': kustomer_type} ORDER BY pos) FILTER (WHERE target_klass_id IS NULL) AS keys
    FROM int_klass_fields GROUP BY klass_id, part_no
)
SELECT ko.kobject_id, ko.klass_id, o.part_no, o.part_count, o.key AS object_key,
       -- A key the record does not have extracts to SQL NULL (a JSON null
       -- value is the JSON 'null', which is kept).
       zd_with(zd_with(zd_with(coalesce(to_json(map_from_entries(list_filter(
           -- Date fields take YYYY-MM-DD (zd_date).
           list_transform(pk.keys, lambda k: {'key': zd_field_key(k.k), 'value': CASE WHEN k.t = 'date'
               THEN zd_date(json_extract(ko.custom, '$."' || k.k || '"')) ELSE json_extract(ko.custom, '$."' || k.k || '"') END}),
           lambda e: e.value IS NOT NULL))), '{}'::JSON),
           'kustomer_description', ko.description), 'kustomer_external_id', ko.kustomer_external_id),
           'kustomer_tags', array_to_string(kustomer_tag_names(ko.tag_ids), ', ')) AS fields,
       ko.title, ko.customer_id, ko.company_id, ko.created_at
FROM stg_kobjects ko
JOIN out_zendesk_custom_objects o ON o.klass_id = ko.klass_id
LEFT JOIN part_keys pk ON pk.klass_id = ko.klass_id AND pk.part_no = o.part_no;
