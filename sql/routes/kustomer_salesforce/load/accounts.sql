-- Companies → Accounts, upserted by the external id (a rerun updates,
-- never duplicates).
SELECT source_id, source_id AS external_id, NULL::VARCHAR AS hold,
       to_json({Name: name, Website: website, Description: description})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_accounts
WHERE ferry_pending('accounts', source_id)
ORDER BY source_id
