-- out_salesforce_email_relations: who sent each email and, for an agent's
-- email, the customer it went to, as EmailMessageRelation rows (object
-- reference: RelationType FromAddress / ToAddress, RelationId a Contact,
-- Lead or User, RelationAddress the address), so the email shows on the
-- person's record, not only as FromAddress text. A customer's is the
-- Case's person (a Contact or a Lead); an agent's is the matched User, an
-- agent with none is named by address alone (RelationId empty, as the
-- reference allows). A party with no email address has no relation (the
-- load matches a relation by message, type and address).
CREATE OR REPLACE TABLE out_salesforce_email_relations AS
WITH msgs AS (
    SELECT m.source_id AS message_row, m.direction, m.author_user_id, m.author_email,
           cs.customer_source_id, p.sobject AS person_sobject, p.email AS person_email
    FROM out_salesforce_messages m
    JOIN out_salesforce_cases cs ON cs.source_id = m.conversation_id
    LEFT JOIN int_customer_people p ON p.source_id = cs.customer_source_id
    WHERE m.kind = 'message'
), rel AS (
    SELECT message_row || ':from' AS source_id, message_row, 'FromAddress' AS relation_type,
           CASE WHEN direction = 'in' THEN person_sobject ELSE 'user' END AS party,
           CASE WHEN direction = 'in' THEN customer_source_id ELSE author_user_id END AS party_source_id,
           lower(trim(CASE WHEN direction = 'in' THEN person_email ELSE author_email END)) AS address
    FROM msgs
    UNION ALL
    SELECT message_row || ':to', message_row, 'ToAddress', person_sobject, customer_source_id, lower(trim(person_email))
    FROM msgs WHERE direction = 'out'
)
SELECT * FROM rel WHERE nullif(address, '') IS NOT NULL;
