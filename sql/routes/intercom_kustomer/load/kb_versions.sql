-- Each language of an article: its title, body and description on the
-- version of that language, published when Intercom's is (ferryPublish:
-- the destination sets publishedAt to the time it sends; whether a past
-- time is kept is not documented). Inline images are `ferry-image:<sha>`
-- in the body, put in by the destination, and a link to another article
-- `ferry-article:<article>:<lang>:<slug>`, replaced by its Kustomer URL. The
-- source language fills the draft the article create opened; another
-- language opens its own draft first. path_arg: the article's Kustomer id.
SELECT v.source_id, v.lang AS external_id,
       CASE WHEN a.dest_id IS NULL THEN 'its article ' || v.article_source_id || ' is not loaded' END AS hold,
       to_json({title: v.title, slug: v.slug, htmlBody: v.html_body, metaDescription: nullif(v.description, ''),
                ferryPublish: v.published,
                ferrySource: v.is_source})::VARCHAR AS payload,
       a.dest_id AS path_arg
FROM out_kustomer_kb_versions v
LEFT JOIN ferry_loaded('kb_articles') a ON a.source_id = v.article_source_id
WHERE ferry_pending('kb_versions', v.source_id)
ORDER BY v.article_source_id, NOT v.is_source, v.lang
