-- int_klass_fields: every klass property with its Salesforce field.

-- Kustomer types → Salesforce field types: number → Number(18, 2 decimals),
-- date → Date/Time, boolean → Checkbox, text → Long Text Area (131,072),
-- anything else → Text(255).
CREATE OR REPLACE TABLE int_klass_fields AS
SELECT k.klass_id, o.object, f.key AS kustomer_key, f.pos,
       coalesce(json_extract_string(k.properties, '$."' || f.key || '".type'), 'string') AS kustomer_type,
       left(coalesce(json_extract_string(k.properties, '$."' || f.key || '".displayName'), f.key), 40) AS label,
       sf_api_name(f.key, 37) || '__c' AS field
FROM stg_klasses k
JOIN out_salesforce_custom_objects o ON o.source_id = k.klass_id,
     unnest(json_keys(coalesce(k.properties, '{}'::JSON))) WITH ORDINALITY AS f(key, pos);
