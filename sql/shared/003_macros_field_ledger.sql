-- field_ledger() (every route): what becomes of every attribute path
-- the source records carry (int_source_fields), by the declarations:
-- the route's seeds/field_map.csv first, then its source's
-- seeds/source_fields.csv (ids, timestamps and API links, declared once
-- per source). Within each, a rule for the object beats one for every
-- object (`*`), and the longer pattern beats the shorter (`*` in a path
-- matches any characters, dots included).
--
-- fate: `carried` (target: the destination field or text that holds it)
-- or `dropped` (reason: why it need not or cannot travel). A path with
-- values and no declaration is unaccounted: checks/unaccounted_fields.sql
-- fails the transform naming it, as unaccounted_records does for records.
-- Each source's staging/NNN_int_field_ledger.sql builds the table
-- int_field_ledger from it, once its int_source_fields is filled.
CREATE OR REPLACE MACRO field_ledger() AS TABLE
WITH rules AS (
    SELECT object, path AS pattern, lower(trim(fate)) AS fate, nullif(trim(target), '') AS target,
           nullif(trim(reason), '') AS reason, 'route' AS declared_in, 1 AS layer_rank FROM field_map
    UNION ALL
    SELECT object, path, lower(trim(fate)), nullif(trim(target), ''), nullif(trim(reason), ''),
           'source', 2 FROM source_fields
), matched AS (
    SELECT f.*, r.fate, r.target, r.reason, r.pattern, r.declared_in
    FROM int_source_fields f
    LEFT JOIN rules r ON (r.object = f.object OR r.object = '*') AND f.path GLOB r.pattern
    QUALIFY row_number() OVER (
        PARTITION BY f.object, f.path
        ORDER BY r.layer_rank, (r.object = '*'), length(replace(r.pattern, '*', '')) DESC, r.pattern) = 1
)
SELECT object, path, records, non_empty, json_type, example,
       fate, target, reason, pattern AS declared_by, declared_in,
       fate IS NULL AND non_empty > 0 AS unaccounted
FROM matched;
