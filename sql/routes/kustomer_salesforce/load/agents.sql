-- Kustomer users → existing Salesforce Users, matched by email (SOQL
-- `SELECT Id, Email FROM User`): Users are never created. One with no
-- Salesforce User is held (named in ferry_load_errors, tried every load);
-- their Cases go to the integration user.
SELECT source_id, email AS external_id, NULL::VARCHAR AS hold,
       to_json({email: email})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_salesforce_users
WHERE ferry_pending('agents', source_id)
ORDER BY source_id
