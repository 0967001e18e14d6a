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

-- An HTML body whose <img> tags for the given images ({src, file_name})
-- are each replaced by a visible placeholder naming the file:
-- "[image <file>: <note>]". For a destination that cannot show an image
-- inside a body (the file then travels attached to the message), and for
-- the images ferry has no bytes for, so that no destination keeps a link
-- to Kustomer's CDN, which dies with the account.
CREATE OR REPLACE MACRO kustomer_replace_images(html, images, note) AS CASE
    WHEN html IS NULL OR images IS NULL OR len(images) = 0 THEN html
    ELSE regexp_replace(
        list_reduce(list_prepend(html, list_transform(images, lambda g: g.src || chr(31) || g.file_name)),
                    lambda acc, x: replace(acc, split_part(x, chr(31), 1), 'ferry-image:' || split_part(x, chr(31), 2))),
        '<img[^>]*src=["'']ferry-image:([^"'']*)["''][^>]*>', '[image \1: ' || note || ']', 'g') END;

-- The images ferry has no bytes for (int_gone_inline_images) as placeholders.
CREATE OR REPLACE MACRO kustomer_drop_gone_images(html, gone) AS
    kustomer_replace_images(html, gone, 'gone from Kustomer before the migration');
