-- KObjects → custom object records, one create job per object key
-- (path_arg), after their object.
SELECT r.source_id, r.external_id,
       CASE WHEN co.dest_id IS NULL THEN 'custom object ' || r.object_key || ' is not loaded' END AS hold,
       to_json({name: r.name, external_id: r.external_id, custom_object_fields: r.fields})::VARCHAR AS payload,
       r.object_key AS path_arg
FROM out_zendesk_custom_object_records r
LEFT JOIN (SELECT dest_id FROM ferry_loaded('custom_objects')) co ON co.dest_id = r.object_key
WHERE ferry_pending('custom_object_records', r.source_id)
ORDER BY r.object_key, r.source_id
