-- KObjects → records of their klass's custom object (sObject Collections
-- upsert by external id; path_arg and attributes.type name the object).
-- Lookups by external id: the customer's Contact or Lead, the company's
-- Account. An object or field the org lacks holds the row (the load
-- checks describe first); `ferry load --dry-run` lists them.
SELECT r.source_id, r.source_id AS external_id,
       CASE WHEN ct.source_id IS NOT NULL AND c.dest_id IS NULL THEN 'contact ' || ct.source_id || ' is not loaded'
            WHEN ld.source_id IS NOT NULL AND l.dest_id IS NULL THEN 'lead ' || ld.source_id || ' is not loaded'
            WHEN ac.source_id IS NOT NULL AND a.dest_id IS NULL THEN 'account ' || ac.source_id || ' is not loaded' END AS hold,
       -- With the record's description, Kustomer's own externalId and its
       -- tags (names joined by ", "), each left out when empty.
       json_merge_patch(json_merge_patch(
           to_json({attributes: {type: r.object}, Name: r.name, Data__c: r.data,
                    "Contact__r.": ct.source_id, "Lead__r.": ld.source_id, "Account__r.": ac.source_id}),
           r.fields),
           to_json(map_from_entries(list_filter([
               {'key': 'Kustomer_Description__c', 'value': nullif(trim(k.description), '')},
               {'key': 'Kustomer_External_Id__c', 'value': nullif(trim(k.kustomer_external_id), '')},
               {'key': 'Kustomer_Tags__c', 'value': nullif(array_to_string(kustomer_tag_names(k.tag_ids), ', '), '')}],
               lambda e: e.value IS NOT NULL))))::VARCHAR AS payload,
       r.object AS path_arg
FROM out_salesforce_custom_records r
JOIN stg_kobjects k ON k.kobject_id = r.source_id
LEFT JOIN out_salesforce_contacts ct ON ct.source_id = r.customer_source_id
LEFT JOIN out_salesforce_leads ld ON ld.source_id = r.customer_source_id
LEFT JOIN out_salesforce_accounts ac ON ac.source_id = coalesce(r.company_id, ct.account_source_id)
LEFT JOIN ferry_loaded('contacts') c ON c.source_id = ct.source_id
LEFT JOIN ferry_loaded('leads') l ON l.source_id = ld.source_id
LEFT JOIN ferry_loaded('accounts') a ON a.source_id = ac.source_id
WHERE ferry_pending('custom_records', r.source_id)
ORDER BY r.object, r.created_at, r.source_id
