-- Macros of the Intercom → Kustomer route (prefix kus_): Kustomer's time
-- format, attribute names in camelCase, typed attribute values.

CREATE OR REPLACE MACRO kus_time(t) AS strftime(CAST(t AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z');

-- `contact_string_attr` / `Order number` → `contactStringAttr` / `orderNumber`.
CREATE OR REPLACE MACRO kus_camel(n) AS array_to_string(list_transform(
    list_filter(regexp_split_to_array(lower(n), '[^a-z0-9]+'), lambda x: x <> ''),
    lambda x, i: CASE WHEN i = 1 THEN x ELSE upper(x[1]) || x[2:] END), '');

-- One custom value as Kustomer takes it, typed by the suffix of its
-- declared name: a date is an ISO time, text at most 1,024 characters.
CREATE OR REPLACE MACRO kus_value(name, v) AS CASE
    WHEN name LIKE '%At' THEN to_json(kus_time(to_timestamp(TRY_CAST(json_extract_string(v, '$') AS BIGINT))))
    WHEN name LIKE '%Str' THEN to_json(left(json_extract_string(v, '$'), 1024))
    ELSE v END;

-- An inline image becomes a visible placeholder naming its file, in the
-- order the body shows them: the bytes are attached to the same message or
-- note (int_part_files). Kustomer serves attachments only through
-- short-lived signed links (kustomer-docs-2026.md, attachments: "Upload
-- and download go through short-lived signed URLs";
-- https://developer.kustomer.com/docs/guides/attachments), so no lasting
-- URL can stand in a body, and Intercom's own link expires.
CREATE OR REPLACE MACRO ic_inline_placeholders(body, names) AS CASE
    WHEN body IS NULL OR strpos(body, '<img') = 0 THEN body
    ELSE array_to_string(list_transform(string_split(body, '<img'), lambda s, i: CASE WHEN i = 1 THEN s
        ELSE '[image: ' || coalesce(names[i - 1], 'image') || ', attached]'
             || CASE WHEN strpos(s, '>') > 0 THEN substr(s, strpos(s, '>') + 1) ELSE '' END END), '') END;

-- An Intercom locale (`en`, `pt-BR`) → the language code of a Kustomer
-- knowledge-base version (`en_us`: the chat SDK's `lang`; seeds/
-- kb_languages.csv, editable), else the locale in lower case with `_`.
CREATE OR REPLACE MACRO kus_kb_lang(locale) AS coalesce(
    (SELECT l.kustomer_lang FROM kb_languages l WHERE l.intercom_locale = locale),
    lower(replace(locale, '-', '_')));

-- `s` with each pair's `a` replaced by its `b`, in list order.
CREATE OR REPLACE MACRO kus_replace_all(s, pairs) AS list_reduce(
    list_prepend(s, list_transform(pairs, lambda p: p.a || chr(31) || p.b)),
    lambda acc, x: replace(acc, split_part(x, chr(31), 1), split_part(x, chr(31), 2)));

-- An article body with each inline image's link (`images`: [{src,
-- sha256}], downloaded at extraction) replaced by `ferry-image:<sha256>`:
-- the load puts the image itself there (a data: URI), and the text stays
-- the same from one extraction to the next although Intercom signs each
-- link anew. The body writes `&` in a link as `&amp;`.
CREATE OR REPLACE MACRO kus_kb_body(html, images) AS kus_replace_all(html, flatten(list_transform(images,
    lambda i: [{a: i.src, b: 'ferry-image:' || i.sha256}, {a: replace(i.src, '&', '&amp;'), b: 'ferry-image:' || i.sha256}])));

-- The slug of a knowledge-base version: the one of its Intercom URL
-- (`…/articles/<id>-<slug>`), else its title in lower case with `-`.
CREATE OR REPLACE MACRO kus_kb_slug(url, title) AS coalesce(
    nullif(regexp_extract(url, '/articles/[0-9]+-([^/?#]+)', 1), ''),
    nullif(array_to_string(list_filter(regexp_split_to_array(lower(title), '[^a-z0-9]+'), lambda x: x <> ''), '-'), ''),
    'article');
