-- int_klass_fields: every klass property with its Salesforce field, and
-- for a reference to another KObject (Kustomer's `Id` suffix) the klass it
-- points at, as the data shows it (a klass's metadata types the property
-- `id` without naming the target): that field is a Lookup to the custom
-- object of the klass.

-- Kustomer types → Salesforce field types: number → Number(18, 2 decimals),
-- date → Date/Time, boolean → Checkbox, text → Long Text Area (131,072),
-- a reference whose target is known → Lookup, anything else → Text(255).
CREATE OR REPLACE TABLE int_klass_fields AS
SELECT k.klass_id, o.object, f.key AS kustomer_key, f.pos,
       coalesce(json_extract_string(k.properties, '$."' || f.key || '".type'), 'string') AS kustomer_type,
       left(coalesce(json_extract_string(k.properties, '$."' || f.key || '".displayName'), f.key), 40) AS label,
       sf_api_name(f.key, 37) || '__c' AS field,
       t.target_klass_id, tobj.object AS target_object
FROM stg_klasses k
JOIN out_salesforce_custom_objects o ON o.source_id = k.klass_id
CROSS JOIN unnest(json_keys(coalesce(k.properties, '{}'::JSON))) WITH ORDINALITY AS f(key, pos)
LEFT JOIN int_kobject_reference_targets t ON t.klass_id = k.klass_id AND t.attribute = f.key
LEFT JOIN out_salesforce_custom_objects tobj ON tobj.source_id = t.target_klass_id;
