-- Customers → end users (create_or_update_many), after their organization.
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
