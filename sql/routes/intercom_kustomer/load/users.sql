-- Intercom admins → Kustomer users, matched by email (GET /v1/users); the
-- payload is the create body for destination.unmatched_agents = "create".
SELECT source_id, email AS external_id, NULL::VARCHAR AS hold,
       to_json({name: coalesce(nullif(trim(name), ''), email), displayName: coalesce(nullif(trim(name), ''), email),
                email: email})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_kustomer_users WHERE ferry_pending('users', source_id)
ORDER BY source_id
