-- A customer's further emails and phones, one request each, on its user.
-- A user ferry matched rather than created (ferry_matched: the account's
-- own admin, agent or end user) gets none unless existing_users = "update"
-- updated it: adding an address to someone else's profile is a change.
SELECT i.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN u.dest_id IS NULL THEN 'user ' || i.user_source_id || ' is not loaded'
            WHEN mm.action IS NOT NULL AND mm.action <> 'updated'
                THEN 'user ' || i.user_source_id || ' is the existing Zendesk ' || coalesce(mm.dest_role, 'user') || ' ' || mm.dest_id
                     || ' (ferry_matched: ' || mm.action || '): its profile is not changed; add this '
                     || i.type || ' by hand, or set existing_users = "update" for end users'
       END AS hold,
       -- "To create an identity without sending out a verification email,
       -- include a skip_verify_email: true property" (official spec, Create Identity).
       to_json({type: i.type, value: i.value, verified: true, skip_verify_email: true})::VARCHAR AS payload,
       u.dest_id AS path_arg
FROM out_zendesk_user_identities i
LEFT JOIN ferry_loaded('users') u ON u.source_id = i.user_source_id
LEFT JOIN ferry_matched mm ON mm.dest = 'zendesk' AND mm.dest_object = 'users' AND mm.source_id = i.user_source_id
WHERE ferry_pending('identities', i.source_id)
ORDER BY i.source_id
