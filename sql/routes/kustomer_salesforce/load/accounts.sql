-- Companies → Accounts, upserted by the external id (a rerun updates,
-- never duplicates).
-- The first phone is Account.Phone (all of them are in the description);
-- custom attributes, externalId and tags in custom fields.
SELECT a.source_id, a.source_id AS external_id, NULL::VARCHAR AS hold,
       sf_with_extras(to_json({Name: a.name, Website: a.website, Description: a.description, Phone: left(s.phones[1], 40)}),
                      'companies', 'Account', a.source_id, s.kustomer_external_id, s.tag_ids, NULL)::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_accounts a
JOIN stg_companies s ON s.company_id = a.source_id
WHERE ferry_pending('accounts', a.source_id)
ORDER BY a.source_id
