-- out_kustomer_kb_articles: Help Center articles → knowledge-base
-- articles, each in the category its collection became (an article in no
-- collection goes under the knowledge base's root). `source_lang` is the
-- article's default locale: Kustomer's `source`, the language the article
-- was first written in.

CREATE OR REPLACE TABLE out_kustomer_kb_articles AS
SELECT a.id AS source_id,
       CASE WHEN json_extract_string(a.json, '$.parent_id') IN (SELECT source_id FROM out_kustomer_kb_categories)
            THEN json_extract_string(a.json, '$.parent_id') END AS category_source_id,
       kus_kb_lang(coalesce(json_extract_string(a.json, '$.default_locale'), 'en')) AS source_lang,
       coalesce(json_extract_string(a.json, '$.default_locale'), 'en') AS source_locale,
       json_extract_string(a.json, '$.state') AS state,
       json_extract_string(a.json, '$.author_id') AS author_id,
       to_timestamp(TRY_CAST(json_extract_string(a.json, '$.updated_at') AS BIGINT)) AS updated_at
FROM raw_intercom_articles a;
