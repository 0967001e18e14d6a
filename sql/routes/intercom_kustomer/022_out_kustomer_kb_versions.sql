-- out_kustomer_kb_versions: one version per article and language. The
-- article's own title and body are its default locale's; every other key
-- of translated_content is a translation with its own title, body and
-- state. A published Intercom article or translation is published in
-- Kustomer (publishedAt on its draft); a draft stays a draft. `images`
-- lists the inline images of the body (src as written, the bytes' SHA-256
-- in attachments/); html_body names each as `ferry-image:<sha256>`
-- (kus_kb_body), which the load replaces by the image itself. A link to
-- another Intercom article (its public URL, in any language) becomes
-- `ferry-article:<article>:<lang>:<slug>`, which the load replaces by that
-- article's Kustomer URL once every article exists. `url` is the Intercom
-- URL of this language (the redirect map's source), `slug` Kustomer's.

CREATE OR REPLACE TABLE out_kustomer_kb_versions AS
WITH raw AS (
    SELECT r.id, r.json, o.source_lang, o.source_locale FROM raw_intercom_articles r
    JOIN out_kustomer_kb_articles o ON o.source_id = r.id
), images AS (
    SELECT json_extract_string(json, '$.article_id') || '/' || json_extract_string(json, '$.locale') AS source_id,
           list({src: json_extract_string(json, '$.src'), sha256: sha256} ORDER BY id) AS images
    FROM raw_intercom_article_images GROUP BY ALL
), translations AS (
    SELECT raw.id, k AS locale, json_extract(raw.json, '$.translated_content."' || k || '"') AS t
    FROM raw, unnest(json_keys(coalesce(json_extract(raw.json, '$.translated_content'), '{}'::JSON))) AS u(k)
    WHERE k <> 'type' AND k <> raw.source_locale
), base AS (
SELECT v.* REPLACE (kus_kb_body(v.html_body, coalesce(i.images, []::STRUCT(src VARCHAR, sha256 VARCHAR)[])) AS html_body),
       kus_kb_slug(v.url, v.title) AS slug,
       coalesce(i.images, []::STRUCT(src VARCHAR, sha256 VARCHAR)[]) AS images FROM (
SELECT id || '/' || source_locale AS source_id, id AS article_source_id, source_locale AS locale, source_lang AS lang,
       true AS is_source,
       left(coalesce(json_extract_string(json, '$.title'), ''), 255) AS title,
       coalesce(json_extract_string(json, '$.body'), '') AS html_body,
       coalesce(json_extract_string(json, '$.description'), '') AS description,
       json_extract_string(json, '$.state') = 'published' AS published,
       json_extract_string(json, '$.url') AS url
FROM raw
UNION ALL
SELECT t.id || '/' || t.locale, t.id, t.locale, kus_kb_lang(t.locale), false,
       left(coalesce(json_extract_string(t.t, '$.title'), ''), 255),
       coalesce(json_extract_string(t.t, '$.body'), ''),
       coalesce(json_extract_string(t.t, '$.description'), ''),
       json_extract_string(t.t, '$.state') = 'published',
       json_extract_string(t.t, '$.url')
FROM translations t
WHERE json_type(t.t) = 'OBJECT' AND nullif(trim(json_extract_string(t.t, '$.title')), '') IS NOT NULL
) v LEFT JOIN images i USING (source_id)
), links AS (
    -- Each body's links to Intercom articles, as pairs to replace (the
    -- URL ends at the quote or at an anchor).
    SELECT b.source_id, list(u.p ORDER BY t.url) AS pairs
    FROM base b
    JOIN base t ON t.url IS NOT NULL AND contains(b.html_body, t.url),
         unnest([{a: 'href="' || t.url || '"', b: 'href="ferry-article:' || t.article_source_id || ':' || t.lang || ':' || t.slug || '"'},
                 {a: 'href="' || t.url || '#', b: 'href="ferry-article:' || t.article_source_id || ':' || t.lang || ':' || t.slug || '#'}]) AS u(p)
    GROUP BY b.source_id
)
SELECT b.* REPLACE (kus_replace_all(b.html_body, coalesce(l.pairs, []::STRUCT(a VARCHAR, b VARCHAR)[])) AS html_body)
FROM base b LEFT JOIN links l USING (source_id);
