-- int_source_fields (every source, every route): the attribute paths the
-- extracted records actually carry, per object, with how many records
-- carry each and how many carry a non-empty value (not null, "", [] or
-- {}). Read from the landed JSON itself (the raw views), not from
-- what staging chose to read: a path nobody mapped shows up here, and
-- int_field_ledger holds it against the declarations.
--
-- A path is the keys from the record's root joined by dots
-- (`attributes.custom.loyaltyTierStr`, `custom_attributes.plan`); an array
-- is one path (its items are the array's value), an empty object one
-- value. One example value per path is kept (cut at 80 characters; a
-- string over 40 characters shows its first 24) for whoever declares it.
--
-- json_tree parses each record once and streams its nodes; the grouping
-- holds a few hundred paths. (A recursive walk held every record's values
-- at once and ran a 2,000-customer org out of a 128 MB memory limit; one
-- json_extract per level parsed each record once per key; and one query
-- over every object's raw view at once ran out of that limit too.) So
-- this file defines the walk of ONE object, `source_fields(object,
-- raw_view)`, and each source's staging/NNN_int_source_fields.sql fills
-- the table object by object, then builds int_field_ledger
-- (shared/003_macros_field_ledger.sql).
CREATE OR REPLACE MACRO source_fields(obj, raw_view) AS TABLE
WITH nodes AS (
    SELECT obj AS object, n.fullkey, n.type AS t, n.value AS v
    FROM (
        -- Strings are shortened before the walk: the walk needs a value's
        -- presence, not its text, and json_tree copies every object's
        -- text into its node (a 2,000-customer org's messages ran out of
        -- a 128 MB memory limit). One pass over every string token, left
        -- to right, so a match always starts at a string's opening quote:
        -- a string holding <img> becomes "<img" (the #inline_images count
        -- needs only that), a string up to 40 characters stays, a longer
        -- one keeps its first 24. (Shortening only long strings let a match
        -- start at a closing quote and swallow structure: deep arrays.)
        SELECT regexp_replace(json,
                   '"(?:[^"\\]|\\.)*?(<img)(?:[^"\\]|\\.)*"|"((?:[^"\\]|\\.){0,40})"|"((?:[^"\\]|\\.){0,24})(?:[^"\\]|\\.)*"',
                   '"\1\2\3"', 'g') AS json
        FROM query_table(raw_view)
    ) x, json_tree(x.json) AS n
    -- The record itself is no path; a node inside an array is part of
    -- the array's value; a non-empty object is only its keys.
    WHERE n.fullkey <> '$' AND NOT contains(n.fullkey, '[')
      AND (n.type <> 'OBJECT' OR n.value::VARCHAR = '{}')
), counted AS (
    SELECT object, fullkey,
           count(*) AS records,
           count(*) FILTER (WHERE t <> 'NULL' AND v::VARCHAR NOT IN ('""', '[]', '{}')) AS non_empty,
           mode(t) AS json_type,
           left(any_value(v::VARCHAR) FILTER (WHERE t <> 'NULL' AND v::VARCHAR NOT IN ('""', '[]', '{}')), 80) AS example,
           -- Inline images are content of their own, counted apart.
           count(*) FILTER (WHERE t IN ('VARCHAR', 'ARRAY') AND v::VARCHAR ILIKE '%<img%') AS with_images,
           any_value(v::VARCHAR) FILTER (WHERE t IN ('VARCHAR', 'ARRAY') AND v::VARCHAR ILIKE '%<img%') AS image_example
    FROM nodes
    GROUP BY ALL
)
-- A body that holds `<img>` is counted again under `<path>#inline_images`,
-- so a route declares what becomes of the images (re-hosted, or not
-- carried yet) apart from the text.
SELECT object,
       replace(substr(fullkey, 3), '"', '') || CASE WHEN img THEN '#inline_images' ELSE '' END AS path,
       CASE WHEN img THEN with_images ELSE records END AS records,
       CASE WHEN img THEN with_images ELSE non_empty END AS non_empty,
       CASE WHEN img THEN 'HTML <img>' ELSE json_type END AS json_type,
       CASE WHEN img THEN image_example ELSE example END AS example
FROM counted, unnest([false, true]) AS i(img)
WHERE NOT img OR with_images > 0;

CREATE OR REPLACE TABLE int_source_fields (
    object VARCHAR, path VARCHAR, records BIGINT, non_empty BIGINT, json_type VARCHAR, example VARCHAR
);
