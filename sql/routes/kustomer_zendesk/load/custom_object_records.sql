-- KObjects → custom object records, one create job per object key
-- (path_arg), after their object, with the lookups to the record's user
-- and organization by their Zendesk ids (held until those are loaded).
SELECT r.source_id, r.external_id,
       CASE WHEN co.dest_id IS NULL THEN 'custom object ' || r.object_key || ' is not loaded'
            WHEN r.user_source_id IS NOT NULL AND u.dest_id IS NULL THEN 'user ' || r.user_source_id || ' is not loaded'
            WHEN r.organization_source_id IS NOT NULL AND o.dest_id IS NULL THEN 'organization ' || r.organization_source_id || ' is not loaded' END AS hold,
       to_json({name: r.name, external_id: r.external_id,
                custom_object_fields: json_merge_patch(r.fields, to_json({kustomer_customer: u.dest_id, kustomer_company: o.dest_id}))})::VARCHAR AS payload,
       r.object_key AS path_arg
FROM out_zendesk_custom_object_records r
LEFT JOIN (SELECT dest_id FROM ferry_loaded('custom_objects')) co ON co.dest_id = r.object_key
LEFT JOIN ferry_loaded('users') u ON u.source_id = r.user_source_id
LEFT JOIN ferry_loaded('organizations') o ON o.source_id = r.organization_source_id
WHERE ferry_pending('custom_object_records', r.source_id)
ORDER BY r.object_key, r.source_id
