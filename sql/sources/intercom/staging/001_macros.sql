-- Intercom staging: one typed row per source record, each table in its
-- own file (staging/NNN_stg_<object>.sql), parsed from the verbatim JSON of
-- the raw views (raw_intercom_*). Nothing is dropped here; rules come
-- later. Intercom times are epoch seconds.
-- This file: the source's macros (ic_*).

-- setting, clean_text and safe_html: shared/001_macros.sql.
CREATE OR REPLACE MACRO ic_time(v) AS to_timestamp(TRY_CAST(v AS BIGINT));

-- The text of an HTML body: tags dropped, the common entities decoded,
-- blanks folded.
CREATE OR REPLACE MACRO ic_html_text(s) AS trim(regexp_replace(
    replace(replace(replace(replace(replace(regexp_replace(coalesce(s, ''), '<[^>]*>', ' ', 'g'),
        '&nbsp;', ' '), '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&amp;', '&'), '\s+', ' ', 'g'));
