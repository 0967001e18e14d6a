-- Articles → knowledge-base articles: the container every language
-- shares (its category and source language). POST /v1/kb/articles makes
-- it with an empty draft in the source language, which is filled at once
-- with the source title and slug (ferryDraft, not sent as such), so a
-- crashed run's article is found again by that title; kb_versions puts
-- the body in (its links name articles that all exist by then), publishes
-- it and adds the other languages.
SELECT a.source_id, a.source_id AS external_id,
       CASE WHEN a.category_source_id IS NOT NULL AND c.dest_id IS NULL
            THEN 'its collection ' || a.category_source_id || ' is not loaded' END AS hold,
       to_json({categories: CASE WHEN c.dest_id IS NULL THEN []::VARCHAR[] ELSE [c.dest_id] END,
                source: a.source_lang, scope: 'public',
                ferryDraft: {title: v.title, slug: v.slug, metaDescription: nullif(v.description, '')}})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_kb_articles a
JOIN out_kustomer_kb_versions v ON v.article_source_id = a.source_id AND v.is_source
LEFT JOIN ferry_loaded('kb_categories') c ON c.source_id = a.category_source_id
WHERE ferry_pending('kb_articles', a.source_id)
ORDER BY a.source_id
