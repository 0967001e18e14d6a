-- Kustomer staging: one typed row per source record, each table in its
-- own file (staging/NNN_stg_<object>.sql), parsed from the verbatim JSON of
-- the raw views. Nothing is dropped here; rules come later.
--
-- Every record is parsed ONCE, into a struct (json_transform), and the
-- columns are read from that struct. Calling json_extract once per column
-- parses the document once per column, and DuckDB keeps a parse arena per
-- call site and thread: at 15 columns that is ~600 MB for conversations
-- whatever the memory_limit, which is how staging used to run out of
-- memory. Fields read with TRY_CAST are transformed as "JSON" so the cast
-- sees the same value json_extract gave it; json_transform is lenient (a
-- value of the wrong shape becomes NULL, never an error).
--
-- setting, clean_text and safe_html: shared/001_macros.sql. What a
-- destination needs (e.g. Zendesk's zd_* macros) belongs to its route.
-- This file: the macros that read a message's full content.

-- The full content of a message, where ferry read it from the record's
-- links.related (raw_kustomer_message_contents). Kustomer documents no
-- schema for it: these are the field names ferry knows (Postmark's
-- HtmlBody/TextBody for email, body for chat); `ferry probe` checks the
-- real org's shape. Keep in step with CONTENT_FIELDS in
-- src/connectors/kustomer/probe.rs.
CREATE OR REPLACE MACRO kustomer_content_html(j) AS coalesce(
    json_extract_string(j, '$.attributes.HtmlBody'), json_extract_string(j, '$.attributes.htmlBody'),
    json_extract_string(j, '$.attributes.html'));

CREATE OR REPLACE MACRO kustomer_content_text(j) AS coalesce(
    json_extract_string(j, '$.attributes.TextBody'), json_extract_string(j, '$.attributes.textBody'),
    json_extract_string(j, '$.attributes.text'), json_extract_string(j, '$.attributes.body'));

-- An HTML body without the links of its inline images that ferry has no
-- bytes for (int_gone_inline_images: list of {src, file_name}): each such
-- <img> becomes a visible placeholder naming the file, so no destination
-- keeps a link to Kustomer's CDN, which dies with the account.
CREATE OR REPLACE MACRO kustomer_drop_gone_images(html, gone) AS CASE
    WHEN html IS NULL OR gone IS NULL OR len(gone) = 0 THEN html
    ELSE regexp_replace(
        list_reduce(list_prepend(html, list_transform(gone, lambda g: g.src || chr(31) || g.file_name)),
                    lambda acc, x: replace(acc, split_part(x, chr(31), 1), 'ferry-gone:' || split_part(x, chr(31), 2))),
        '<img[^>]*src=["'']ferry-gone:([^"'']*)["''][^>]*>', '[image \1: gone from Kustomer before the migration]', 'g') END;
