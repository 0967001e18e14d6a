-- Companies, 100 a bulk request, once their custom attributes are declared.
WITH undeclared AS (
    SELECT count(*) AS n FROM out_kustomer_metadata m
    WHERE m.resource = 'company' AND m.source_id NOT IN (SELECT source_id FROM ferry_loaded('metadata'))
)
SELECT c.source_id, c.source_id AS external_id,
       CASE WHEN (SELECT n FROM undeclared) > 0 THEN 'custom attributes of companies are not declared yet (phase metadata)' END AS hold,
       to_json({externalId: c.source_id, name: c.name, domains: c.domains, tags: c.tag_names, custom: c.custom,
                createdAt: kus_time(c.created_at), importedAt: kus_now()})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_companies c WHERE ferry_pending('companies', c.source_id)
ORDER BY c.source_id
