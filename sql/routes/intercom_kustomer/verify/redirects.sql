-- verify: the Help Center's redirect map, one row per loaded article
-- language with a public Intercom URL (a draft has none). The destination
-- reads each article back and completes the Kustomer URL from what it
-- holds (its hash, the version's slug): table verify_kb_redirects and
-- reports/kb-redirects.csv, the 301 map a Help Center move needs.
SELECT v.source_id, v.url AS intercom_url, a.dest_id AS article_id, v.lang
FROM out_kustomer_kb_versions v
JOIN ferry_id_map a ON a.dest = 'kustomer' AND a.dest_object = 'kb_articles' AND a.source_id = v.article_source_id
WHERE v.url IS NOT NULL
ORDER BY v.source_id
