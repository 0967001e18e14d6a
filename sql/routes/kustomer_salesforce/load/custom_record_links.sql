-- KObjects' references to other KObjects: each record's Lookup fields
-- (int_klass_fields.target_object), upserted by external id once every
-- record exists (klasses may reference each other: no creation order puts
-- every parent first; the route's mapping asks for parents before
-- children). The parent by its external id (the KObject id). Held: the
-- record or the parent not loaded, a parent not in the export.
WITH refs AS (
    SELECT r.source_id, r.object, f.field, a.value_text AS ref_value, a.ref_kobject_id
    FROM out_salesforce_custom_records r
    JOIN stg_kobjects k ON k.kobject_id = r.source_id
    JOIN int_klass_fields f ON f.klass_id = k.klass_id AND f.target_object IS NOT NULL
    JOIN int_custom_attributes a ON a.object = 'kobjects' AND a.record_id = r.source_id AND a.attribute = f.kustomer_key
), links AS (
    SELECT source_id, object,
           to_json(map_from_entries(list({'key': regexp_replace(field, '__c$', '__r.'), 'value': ref_kobject_id} ORDER BY field)
                                    FILTER (WHERE ref_kobject_id IS NOT NULL))) AS lookups,
           list(ref_kobject_id) FILTER (WHERE ref_kobject_id IS NOT NULL) AS parents,
           string_agg(ref_value, ', ' ORDER BY ref_value) FILTER (WHERE ref_kobject_id IS NULL) AS missing
    FROM refs GROUP BY source_id, object
)
SELECT l.source_id, l.source_id AS external_id,
       CASE WHEN rec.dest_id IS NULL THEN 'record ' || l.source_id || ' is not loaded'
            ELSE sf_lookup_hold(l.missing, l.parents) END AS hold,
       json_merge_patch(to_json({attributes: {type: l.object}}), coalesce(l.lookups, '{}'::JSON))::VARCHAR AS payload,
       l.object AS path_arg
FROM links l
LEFT JOIN ferry_loaded('custom_records') rec ON rec.source_id = l.source_id
WHERE ferry_pending('custom_record_links', l.source_id)
ORDER BY l.object, l.source_id
