-- Each email's sender and recipient as EmailMessageRelation (sObject
-- Collections; matched first by message, type and address, so a relation
-- Salesforce made itself from the addresses is adopted, not doubled).
-- Held: the email, or the Contact/Lead it names, not loaded yet.
SELECT r.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN e.dest_id IS NULL THEN 'email ' || r.message_row || ' is not loaded'
            WHEN r.party IN ('contact', 'lead') AND coalesce(c.dest_id, l.dest_id) IS NULL
                 THEN r.party || ' ' || r.party_source_id || ' is not loaded' END AS hold,
       to_json({EmailMessageId: e.dest_id,
                RelationId: CASE r.party WHEN 'contact' THEN c.dest_id WHEN 'lead' THEN l.dest_id ELSE u.dest_id END,
                RelationAddress: left(r.address, 255), RelationType: r.relation_type})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_email_relations r
LEFT JOIN ferry_loaded('email_messages') e ON e.source_id = r.message_row
LEFT JOIN ferry_loaded('contacts') c ON r.party = 'contact' AND c.source_id = r.party_source_id
LEFT JOIN ferry_loaded('leads') l ON r.party = 'lead' AND l.source_id = r.party_source_id
LEFT JOIN ferry_loaded('agents') u ON r.party = 'user' AND u.source_id = r.party_source_id
WHERE ferry_pending('email_relations', r.source_id)
ORDER BY r.source_id
