-- 004 custom objects: klasses → custom objects `<klass>__c`, KObjects →
-- their records (upserted by the external id, looked up to their Contact
-- or Lead and Account). Salesforce's data API cannot create a schema:
-- out_sf_custom_fields is the field list an admin creates (Setup → Object
-- Manager, or as metadata), and `ferry load --dry-run` compares it with
-- describe and names what is missing. Rows of an object that is not
-- there yet are held, never refused.

CREATE OR REPLACE TABLE out_sf_custom_objects AS
SELECT klass_id AS source_id, sf_api_name(name, 37) || '__c' AS object,
       left(coalesce(display_name, name, klass_id), 40) AS label
FROM stg_klasses;

-- Kustomer types → Salesforce field types: number → Number(18, 2 decimals),
-- date → Date/Time, boolean → Checkbox, text → Long Text Area (131,072),
-- anything else → Text(255).
CREATE OR REPLACE TABLE sf_klass_fields AS
SELECT k.klass_id, o.object, f.key AS kustomer_key, f.pos,
       coalesce(json_extract_string(k.properties, '$."' || f.key || '".type'), 'string') AS kustomer_type,
       left(coalesce(json_extract_string(k.properties, '$."' || f.key || '".displayName'), f.key), 40) AS label,
       sf_api_name(f.key, 37) || '__c' AS field
FROM stg_klasses k
JOIN out_sf_custom_objects o ON o.source_id = k.klass_id,
     unnest(json_keys(coalesce(k.properties, '{}'::JSON))) WITH ORDINALITY AS f(key, pos);

-- The field list to create, per object: the fixed fields every klass
-- object gets, then one per klass property. The external-id field is
-- destination.external_id_field (Kustomer_Id__c by default).
CREATE OR REPLACE TABLE out_sf_custom_fields AS
SELECT object, field, type, length, reference_to, label, kustomer_key, position FROM (
    SELECT object, 'Kustomer_Id__c' AS field, 'Text (External ID, Unique)' AS type, 255 AS length,
           NULL::VARCHAR AS reference_to, 'Kustomer Id' AS label, NULL::VARCHAR AS kustomer_key, -4 AS position
    FROM out_sf_custom_objects
    UNION ALL SELECT object, 'Data__c', 'Long Text Area', 131072, NULL, 'Kustomer record (JSON)', NULL, -3 FROM out_sf_custom_objects
    UNION ALL SELECT object, 'Contact__c', 'Lookup', NULL, 'Contact', 'Contact', NULL, -2 FROM out_sf_custom_objects
    UNION ALL SELECT object, 'Lead__c', 'Lookup', NULL, 'Lead', 'Lead', NULL, -1 FROM out_sf_custom_objects
    UNION ALL SELECT object, 'Account__c', 'Lookup', NULL, 'Account', 'Account', NULL, 0 FROM out_sf_custom_objects
    UNION ALL
    SELECT object, field,
           CASE kustomer_type WHEN 'number' THEN 'Number' WHEN 'date' THEN 'Date/Time' WHEN 'boolean' THEN 'Checkbox'
                              WHEN 'text' THEN 'Long Text Area' ELSE 'Text' END,
           CASE kustomer_type WHEN 'number' THEN 18 WHEN 'text' THEN 131072 WHEN 'string' THEN 255 END,
           NULL, label, kustomer_key, pos
    FROM sf_klass_fields
)
ORDER BY object, position;

-- Each record's values under its Salesforce field names, in field order
-- (built from each klass's short key list, not by unnesting every value).
CREATE OR REPLACE TABLE out_sf_custom_records AS
WITH keys AS (
    SELECT klass_id, list({'k': kustomer_key, 'f': field, 't': kustomer_type} ORDER BY pos) AS keys
    FROM sf_klass_fields GROUP BY klass_id
)
SELECT ko.kobject_id AS source_id, o.object,
       left(coalesce(nullif(trim(ko.title), ''), ko.kobject_id), 80) AS name,
       left(coalesce(ko.custom, '{}'::JSON)::VARCHAR, 131072) AS data,
       coalesce(to_json(map_from_entries(list_filter(
           list_transform(k.keys, lambda x: {'key': x.f, 'value': CASE
               WHEN x.t = 'text' THEN to_json(left(json_extract_string(ko.custom, '$."' || x.k || '"'), 131072))
               WHEN x.t NOT IN ('number', 'date', 'boolean') THEN to_json(left(json_extract_string(ko.custom, '$."' || x.k || '"'), 255))
               ELSE json_extract(ko.custom, '$."' || x.k || '"') END}),
           lambda e: e.value IS NOT NULL AND e.value::VARCHAR <> 'null'))), '{}'::JSON) AS fields,
       cc.canonical_id AS customer_source_id, coalesce(kc.canonical_id, ko.company_id) AS company_id, ko.created_at
FROM stg_kobjects ko
JOIN out_sf_custom_objects o ON o.source_id = ko.klass_id
LEFT JOIN keys k ON k.klass_id = ko.klass_id
LEFT JOIN customer_canonical cc ON cc.customer_id = ko.customer_id
LEFT JOIN company_canonical kc ON kc.company_id = ko.company_id;
