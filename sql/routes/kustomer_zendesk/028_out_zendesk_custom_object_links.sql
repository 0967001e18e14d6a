-- out_zendesk_custom_object_links: each record part's lookups to other
-- records (a KObject's reference to another KObject, Kustomer's `Id`
-- suffix), set by a bulk "update" job once every record exists: klasses
-- may reference each other, so no order of creation puts every parent
-- first. The parent is named by its external id (Lookup Relationships,
-- "To set by external id, provide an external id prefixed with the string
-- external_id:"), the id of its first part. A reference to a KObject
-- ferry did not extract holds the row, naming it.

CREATE OR REPLACE TABLE out_zendesk_custom_object_links AS
WITH refs AS (
    SELECT r.source_id, r.kobject_id, r.object_key, zd_field_key(f.kustomer_key) AS field_key,
           a.value_text AS ref_value, a.ref_kobject_id,
           a.ref_kobject_id || CASE WHEN po.part_count > 1 THEN ':1' ELSE '' END AS parent_source_id
    FROM out_zendesk_custom_object_records r
    JOIN int_kobject_parts p ON p.kobject_id = r.kobject_id AND p.object_key = r.object_key
    JOIN int_klass_fields f ON f.klass_id = p.klass_id AND f.part_no = p.part_no AND f.target_klass_id IS NOT NULL
    JOIN int_custom_attributes a ON a.object = 'kobjects' AND a.record_id = r.kobject_id AND a.attribute = f.kustomer_key
    LEFT JOIN stg_kobjects pk ON pk.kobject_id = a.ref_kobject_id
    LEFT JOIN out_zendesk_custom_objects po ON po.klass_id = pk.klass_id AND po.part_no = 1
)
SELECT source_id, kobject_id, object_key,
       to_json(map_from_entries(list({'key': field_key, 'value': 'external_id:' || parent_source_id} ORDER BY field_key)
                                FILTER (WHERE parent_source_id IS NOT NULL))) AS fields,
       list(DISTINCT parent_source_id) FILTER (WHERE parent_source_id IS NOT NULL) AS parent_source_ids,
       string_agg(ref_value, ', ' ORDER BY ref_value) FILTER (WHERE parent_source_id IS NULL) AS missing_parents
FROM refs
GROUP BY source_id, kobject_id, object_key;
