-- Conversations → Cases (Bulk API 2.0 upsert by external id). The
-- Contact and Account by their external ids; the owner is the matched
-- User, else the Queue of its team, else the integration user. Original times go into CreatedDate /
-- ClosedDate when the integration user may set audit fields
-- (destination.audit_fields), else into Original_Created__c /
-- Original_Closed__c.
SELECT t.source_id, t.source_id AS external_id,
       CASE WHEN t.status IS NULL THEN 'Kustomer status ' || coalesce(t.kustomer_status, '(none)') || ' has no Case Status in seeds/status_map.csv'
            WHEN t.contact_source_id IS NOT NULL AND c.dest_id IS NULL THEN 'contact ' || t.contact_source_id || ' is not loaded'
            WHEN t.customer_source_id IS NOT NULL AND t.contact_source_id IS NULL AND l.dest_id IS NULL
                 AND t.customer_source_id IN (SELECT source_id FROM out_salesforce_leads) THEN 'lead ' || t.customer_source_id || ' is not loaded' END AS hold,
       sf_with_extras(to_json({Subject: t.subject, Status: t.status, Priority: t.priority, Origin: t.origin,
                "Contact.": t.contact_source_id, "Account.": t.account_source_id,
                OwnerId: coalesce(o.dest_id, q.dest_id), SuppliedEmail: t.supplied_email, SuppliedName: t.supplied_name,
                CreatedDate: CASE WHEN getvariable('sf_audit_fields') THEN sf_time(t.created_at) END,
                ClosedDate: CASE WHEN getvariable('sf_audit_fields') THEN sf_time(t.closed_at) END,
                Original_Created__c: CASE WHEN NOT getvariable('sf_audit_fields') THEN sf_time(t.created_at) END,
                Original_Closed__c: CASE WHEN NOT getvariable('sf_audit_fields') THEN sf_time(t.closed_at) END,
                Kustomer_Tags__c: t.tag_names, Kustomer_Channel__c: t.channel}),
                      'conversations', 'Case', t.source_id, s.kustomer_external_id, [], NULL)::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_cases t
JOIN stg_conversations s ON s.conversation_id = t.source_id
LEFT JOIN ferry_loaded('contacts') c ON c.source_id = t.contact_source_id
LEFT JOIN ferry_loaded('leads') l ON l.source_id = t.customer_source_id
LEFT JOIN ferry_loaded('agents') o ON o.source_id = t.owner_source_id
LEFT JOIN ferry_loaded('queues') q ON q.source_id = t.owner_queue_source_id
WHERE ferry_pending('cases', t.source_id)
ORDER BY CASE WHEN getvariable('ferry_open_first') AND t.kustomer_status <> 'done' THEN 0 ELSE 1 END, t.created_at, t.source_id
