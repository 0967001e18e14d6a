-- A Case's Lookups to custom object records (a conversation's reference
-- to a KObject: out_salesforce_custom_fields, type Lookup), upserted by the
-- Case's external id in a second pass once both exist: a Case loaded while
-- its record was held (the admin had not yet created the object) gets its
-- Lookup when the record arrives, and an upsert sets the same value again,
-- so an in-doubt batch is simply resent. Held: the Case or the record not
-- loaded, a record not in the export.
WITH refs AS (
    SELECT c.source_id, f.field, a.value_text AS ref_value, a.ref_kobject_id
    FROM out_salesforce_cases c
    JOIN int_custom_attributes a ON a.object = 'conversations' AND a.record_id = c.source_id
    JOIN out_salesforce_custom_fields f ON f.object = 'Case' AND f.kustomer_key = a.attribute AND f.type = 'Lookup'
), links AS (
    SELECT source_id,
           to_json(map_from_entries(list({'key': regexp_replace(field, '__c$', '__r.'), 'value': ref_kobject_id} ORDER BY field)
                                    FILTER (WHERE ref_kobject_id IS NOT NULL))) AS lookups,
           list(ref_kobject_id) FILTER (WHERE ref_kobject_id IS NOT NULL) AS parents,
           string_agg(ref_value, ', ' ORDER BY ref_value) FILTER (WHERE ref_kobject_id IS NULL) AS missing
    FROM refs GROUP BY source_id
)
SELECT l.source_id, l.source_id AS external_id,
       CASE WHEN cs.dest_id IS NULL THEN 'Case ' || l.source_id || ' is not loaded'
            ELSE sf_lookup_hold(l.missing, l.parents) END AS hold,
       json_merge_patch(to_json({attributes: {type: 'Case'}}), coalesce(l.lookups, '{}'::JSON))::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM links l
LEFT JOIN ferry_loaded('cases') cs ON cs.source_id = l.source_id
WHERE ferry_pending('case_record_links', l.source_id)
ORDER BY l.source_id
