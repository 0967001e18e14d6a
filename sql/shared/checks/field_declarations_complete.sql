-- A declaration says what it means: `carried` names its target,
-- `dropped` its reason; no other fate exists.
SELECT object, path, fate, target, reason, 'seeds/field_map.csv' AS file FROM field_map
WHERE lower(trim(fate)) NOT IN ('carried', 'dropped')
   OR (lower(trim(fate)) = 'carried' AND nullif(trim(target), '') IS NULL)
   OR (lower(trim(fate)) = 'dropped' AND nullif(trim(reason), '') IS NULL)
UNION ALL
SELECT object, path, fate, target, reason, 'seeds/source_fields.csv' FROM source_fields
WHERE lower(trim(fate)) NOT IN ('carried', 'dropped')
   OR (lower(trim(fate)) = 'carried' AND nullif(trim(target), '') IS NULL)
   OR (lower(trim(fate)) = 'dropped' AND nullif(trim(reason), '') IS NULL);
