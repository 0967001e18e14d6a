-- Collections → knowledge-base categories, parents first (depth order).
-- `path_arg` is the parent collection: a parent created in this same
-- phase has no id in ferry_loaded yet, so the destination resolves it
-- from what it created before (the rows come in this order, one at a
-- time). A parent loaded in an earlier run is resolved here.
-- knowledgeBaseId is filled by the destination (destination.knowledge_base,
-- else the org's default knowledge base).
SELECT c.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({title: c.title, description: c.description, lang: c.lang, parent: p.dest_id})::VARCHAR AS payload,
       c.parent_source_id AS path_arg
FROM out_kustomer_kb_categories c
LEFT JOIN ferry_loaded('kb_categories') p ON p.source_id = c.parent_source_id
WHERE ferry_pending('kb_categories', c.source_id)
ORDER BY c.depth, c.position NULLS LAST, c.source_id
