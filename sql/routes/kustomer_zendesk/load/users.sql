-- Customers → end users, after their organization. Each row is first
-- matched against the account's users (external id, then email: the
-- loader's users.rs); only unmatched rows are created (users/create_many,
-- or one POST /api/v2/users each without bulk imports), and nothing here
-- reaches an existing admin or agent. Nulls are dropped before sending.
SELECT u.source_id, u.external_id,
       CASE WHEN u.organization_source_id IS NOT NULL AND o.dest_id IS NULL
            THEN 'organization ' || u.organization_source_id || ' is not loaded' END AS hold,
       to_json({name: u.name, email: u.email, phone: u.phone, role: 'end-user', external_id: u.external_id,
                organization_id: TRY_CAST(o.dest_id AS UBIGINT), user_fields: u.user_fields, tags: u.tags,
                locale: u.locale,
                -- No verification or welcome email goes out for imported users.
                verified: true, skip_verify_email: true})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_zendesk_users u
LEFT JOIN ferry_loaded('organizations') o ON o.source_id = u.organization_source_id
WHERE ferry_pending('users', u.source_id)
ORDER BY u.source_id
