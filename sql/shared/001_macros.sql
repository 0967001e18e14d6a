-- 001 macros (shared): what the SQL of every source and route uses.
-- Routes keep their own macros under their own prefix (zd_, sf_, en_, kus_).

-- A value of the route's transform_settings seed; empty counts as unset.
CREATE OR REPLACE MACRO setting(k) AS (SELECT nullif(trim(value), '') FROM transform_settings WHERE key = k);
-- Control characters (NUL, BEL, …) are not text; destinations refuse or mangle them.
CREATE OR REPLACE MACRO clean_text(s) AS regexp_replace(s, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g');
-- Active content never travels: <script> elements and on* event handlers
-- are removed (the raw JSON keeps the original for auditors). A security
-- filter: one definition, so a fix reaches every route at once.
CREATE OR REPLACE MACRO safe_html(s) AS regexp_replace(
    regexp_replace(clean_text(s), '(?is)<script\b.*?</script\s*>', '', 'g'),
    '(?i)\s+on[a-z]+\s*=\s*("[^"]*"|''[^'']*''|[^\s>]+)', '', 'g');
