-- Intercom admins → existing Kustomer users, matched by email (GET /v1/users).
SELECT source_id, email AS external_id, NULL::VARCHAR AS hold,
       to_json({email: email})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_kus_users WHERE ferry_pending('users', source_id)
ORDER BY source_id
