-- Companies → organizations (create_many, 100 per job).
SELECT o.source_id, o.external_id, NULL::VARCHAR AS hold,
       to_json({name: o.name, external_id: o.external_id, domain_names: o.domain_names, tags: o.tags,
                organization_fields: o.organization_fields})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_zendesk_organizations o
WHERE ferry_pending('organizations', o.source_id)
ORDER BY o.source_id
