-- One custom attribute per request: PUT /v1/metadata/{resource} merges it
-- with what the org declares (a resend changes nothing).
SELECT source_id, name AS external_id, NULL::VARCHAR AS hold,
       to_json({properties: map([name], [{type: type, displayName: display_name}])})::VARCHAR AS payload,
       resource AS path_arg
FROM out_kustomer_metadata WHERE ferry_pending('metadata', source_id)
ORDER BY resource, name
