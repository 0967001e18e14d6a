-- out_salesforce_custom_fields: the fields each custom object needs.

-- The field list to create, per object: the fixed fields every klass
-- object gets, then one per klass property. The external-id field is
-- destination.external_id_field (Kustomer_Id__c by default).
CREATE OR REPLACE TABLE out_salesforce_custom_fields AS
SELECT object, field, type, length, reference_to, label, kustomer_key, position FROM (
    SELECT object, 'Kustomer_Id__c' AS field, 'Text (External ID, Unique)' AS type, 255 AS length,
           NULL::VARCHAR AS reference_to, 'Kustomer Id' AS label, NULL::VARCHAR AS kustomer_key, -4 AS position
    FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Data__c', 'Long Text Area', 131072, NULL, 'Kustomer record (JSON)', NULL, -3 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Contact__c', 'Lookup', NULL, 'Contact', 'Contact', NULL, -2 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Lead__c', 'Lookup', NULL, 'Lead', 'Lead', NULL, -1 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Account__c', 'Lookup', NULL, 'Account', 'Account', NULL, 0 FROM out_salesforce_custom_objects
    UNION ALL
    SELECT object, field,
           CASE kustomer_type WHEN 'number' THEN 'Number' WHEN 'date' THEN 'Date/Time' WHEN 'boolean' THEN 'Checkbox'
                              WHEN 'text' THEN 'Long Text Area' ELSE 'Text' END,
           CASE kustomer_type WHEN 'number' THEN 18 WHEN 'text' THEN 131072 WHEN 'string' THEN 255 END,
           NULL, label, kustomer_key, pos
    FROM int_klass_fields
)
ORDER BY object, position;
