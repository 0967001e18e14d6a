-- A customer's further emails and phones, one request each, on its user.
SELECT i.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN u.dest_id IS NULL THEN 'user ' || i.user_source_id || ' is not loaded' END AS hold,
       to_json({type: i.type, value: i.value, verified: true})::VARCHAR AS payload,
       u.dest_id AS path_arg
FROM out_zendesk_user_identities i
LEFT JOIN ferry_loaded('users') u ON u.source_id = i.user_source_id
WHERE ferry_pending('identities', i.source_id)
ORDER BY i.source_id
