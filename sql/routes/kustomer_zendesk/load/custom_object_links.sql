-- Lookups between custom object records (out_zendesk_custom_object_links),
-- one "update" job per object key (path_arg) after every record exists:
-- the record by its Zendesk id, each lookup by the parent's external id.
-- Held: a record or a parent not loaded, a parent not in the export.
SELECT l.source_id, l.source_id AS external_id,
       CASE WHEN rec.dest_id IS NULL THEN 'record ' || l.source_id || ' is not loaded'
            WHEN l.missing_parents IS NOT NULL THEN 'the KObject it references is not in the export: ' || l.missing_parents
            ELSE (SELECT 'record ' || string_agg(p, ', ') || ' it references is not loaded'
                  FROM unnest(l.parent_source_ids) AS t(p)
                  WHERE p NOT IN (SELECT source_id FROM ferry_loaded('custom_object_records'))) END AS hold,
       to_json({id: rec.dest_id, custom_object_fields: l.fields})::VARCHAR AS payload,
       l.object_key AS path_arg
FROM out_zendesk_custom_object_links l
LEFT JOIN ferry_loaded('custom_object_records') rec ON rec.source_id = l.source_id
WHERE ferry_pending('custom_object_links', l.source_id)
ORDER BY l.object_key, l.source_id
