-- out_salesforce_custom_fields: the custom fields the org needs, which an
-- admin creates (Setup → Object Manager; ferry's data calls cannot).

-- Per custom object: the fixed fields every klass object gets, then one
-- per klass property. The external-id field is
-- destination.external_id_field (Kustomer_Id__c by default). Per standard
-- object: the custom attributes of customers (Contact and Lead),
-- companies (Account) and conversations (Case), one field each ("custom
-- attribute → custom field, 1:1", the route's mapping), typed by
-- Kustomer's suffix (Num, At, Bool, Txt; the rest text); and what those
-- objects have no field for: Kustomer's own externalId, tags (names
-- joined by ", "), a customer's locale, a conversation's channel.
CREATE OR REPLACE TABLE out_salesforce_custom_fields AS
SELECT object, field, type, length, reference_to, label, kustomer_key, position FROM (
    SELECT object, 'Kustomer_Id__c' AS field, 'Text (External ID, Unique)' AS type, 255 AS length,
           NULL::VARCHAR AS reference_to, 'Kustomer Id' AS label, NULL::VARCHAR AS kustomer_key, -4 AS position
    FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Data__c', 'Long Text Area', 131072, NULL, 'Kustomer record (JSON)', NULL, -3 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Contact__c', 'Lookup', NULL, 'Contact', 'Contact', NULL, -2 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Lead__c', 'Lookup', NULL, 'Lead', 'Lead', NULL, -1 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Account__c', 'Lookup', NULL, 'Account', 'Account', NULL, 0 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Kustomer_Description__c', 'Long Text Area', 32768, NULL, 'Description', NULL, 1 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Kustomer_External_Id__c', 'Text', 255, NULL, 'Kustomer externalId', NULL, 2 FROM out_salesforce_custom_objects
    UNION ALL SELECT object, 'Kustomer_Tags__c', 'Long Text Area', 32768, NULL, 'Tags', NULL, 3 FROM out_salesforce_custom_objects
    UNION ALL
    -- A conversation's reference to a KObject is a Lookup to its klass's
    -- object, set by a second pass once the records exist
    -- (load/case_record_links.sql); a customer's or company's stays the
    -- Kustomer id as text.
    SELECT o.sobject, sf_api_name(a.attribute, 37) || '__c',
           CASE WHEN a.object = 'conversations' AND tobj.object IS NOT NULL THEN 'Lookup'
                WHEN a.attribute LIKE '%Num' THEN 'Number' WHEN a.attribute LIKE '%At' THEN 'Date/Time'
                WHEN a.attribute LIKE '%Bool' THEN 'Checkbox' WHEN a.attribute LIKE '%Txt' THEN 'Long Text Area' ELSE 'Text' END,
           CASE WHEN a.object = 'conversations' AND tobj.object IS NOT NULL THEN NULL
                WHEN a.attribute LIKE '%Num' THEN 18 WHEN a.attribute LIKE '%At' OR a.attribute LIKE '%Bool' THEN NULL
                WHEN a.attribute LIKE '%Txt' THEN 131072 ELSE 255 END,
           CASE WHEN a.object = 'conversations' THEN tobj.object END,
           left(a.attribute, 40), a.attribute, 1000 + row_number() OVER (PARTITION BY o.sobject ORDER BY a.attribute)
    FROM (SELECT DISTINCT object, attribute FROM int_custom_attributes
          -- customerTypeStr has its field already (Customer_Type__c, the Contact/Lead rule).
          WHERE object IN ('customers', 'companies', 'conversations') AND NOT (object = 'customers' AND attribute = 'customerTypeStr')) a
    JOIN (VALUES ('customers', 'Contact'), ('customers', 'Lead'), ('companies', 'Account'), ('conversations', 'Case')) AS o(object, sobject)
      USING (object)
    LEFT JOIN int_kobject_reference_targets t ON t.object = a.object AND t.klass_id IS NULL AND t.attribute = a.attribute
    LEFT JOIN out_salesforce_custom_objects tobj ON tobj.source_id = t.target_klass_id
    UNION ALL
    SELECT o.sobject, f.field, f.type, f.length, NULL, f.label, NULL, f.pos
    FROM (VALUES ('Contact'), ('Lead'), ('Account'), ('Case')) AS o(sobject),
         (VALUES ('Kustomer_External_Id__c', 'Text', 255, 'Kustomer externalId', 1),
                 ('Kustomer_Tags__c', 'Long Text Area', 32768, 'Kustomer tags', 2),
                 ('Kustomer_Locale__c', 'Text', 40, 'Kustomer locale', 3),
                 ('Kustomer_Channel__c', 'Text', 255, 'Kustomer channel', 4)) AS f(field, type, length, label, pos)
    WHERE (f.field NOT IN ('Kustomer_Locale__c') OR o.sobject IN ('Contact', 'Lead'))
      AND (f.field <> 'Kustomer_Tags__c' OR o.sobject <> 'Case')
      AND (f.field <> 'Kustomer_Channel__c' OR o.sobject = 'Case')
    UNION ALL
    SELECT object, field,
           CASE WHEN target_object IS NOT NULL THEN 'Lookup'
                ELSE CASE kustomer_type WHEN 'number' THEN 'Number' WHEN 'date' THEN 'Date/Time' WHEN 'boolean' THEN 'Checkbox'
                                        WHEN 'text' THEN 'Long Text Area' ELSE 'Text' END END,
           CASE WHEN target_object IS NOT NULL THEN NULL
                ELSE CASE kustomer_type WHEN 'number' THEN 18 WHEN 'text' THEN 131072 WHEN 'string' THEN 255 END END,
           target_object, label, kustomer_key, pos
    FROM int_klass_fields
)
ORDER BY object, position;
