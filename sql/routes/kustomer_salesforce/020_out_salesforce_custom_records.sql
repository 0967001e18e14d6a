-- out_salesforce_custom_records: KObjects → their records (upserted by
-- the external id, looked up to their Contact or Lead and Account).

-- Each record's values under its Salesforce field names, in field order
-- (built from each klass's short key list, not by unnesting every value).
CREATE OR REPLACE TABLE out_salesforce_custom_records AS
WITH keys AS (
    -- A lookup to another record is set once every record exists
    -- (load/custom_record_links.sql), not on create.
    SELECT klass_id, list({'k': kustomer_key, 'f': field, 't': kustomer_type} ORDER BY pos) FILTER (WHERE target_object IS NULL) AS keys
    FROM int_klass_fields GROUP BY klass_id
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
JOIN out_salesforce_custom_objects o ON o.source_id = ko.klass_id
LEFT JOIN keys k ON k.klass_id = ko.klass_id
LEFT JOIN int_customer_canonical cc ON cc.customer_id = ko.customer_id
LEFT JOIN int_company_canonical kc ON kc.company_id = ko.company_id;
