-- Teams → groups.
SELECT g.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({name: g.name})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_zendesk_groups g
WHERE ferry_pending('groups', g.source_id)
ORDER BY g.source_id
