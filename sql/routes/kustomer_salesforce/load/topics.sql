-- Tags → Topics (tags_as = topics). Topic names are unique in any case:
-- a Topic found by name is adopted, and tags differing only in case share one.
SELECT source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({Name: name})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM out_salesforce_topics
WHERE ferry_pending('topics', source_id)
ORDER BY source_id
