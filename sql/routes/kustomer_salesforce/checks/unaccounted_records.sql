-- Source records in no bucket (output, merged, archived, excluded), or in two.
WITH src AS (
    SELECT 'companies' AS object, id FROM raw_kustomer_companies UNION ALL SELECT 'customers', id FROM raw_kustomer_customers
    UNION ALL SELECT 'users', id FROM raw_kustomer_users UNION ALL SELECT 'teams', id FROM raw_kustomer_teams
    UNION ALL SELECT 'tags', id FROM raw_kustomer_tags UNION ALL SELECT 'conversations', id FROM raw_kustomer_conversations
    UNION ALL SELECT 'messages', id FROM raw_kustomer_messages UNION ALL SELECT 'notes', id FROM raw_kustomer_notes
    UNION ALL SELECT 'attachments', id FROM raw_kustomer_attachments UNION ALL SELECT 'klasses', id FROM raw_kustomer_klasses
    UNION ALL SELECT 'kobjects', id FROM raw_kustomer_kobjects
), acc AS (SELECT object, source_id, count(*) AS buckets FROM ferry_accounting GROUP BY ALL)
SELECT s.object, s.id, coalesce(a.buckets, 0) AS buckets
FROM src s LEFT JOIN acc a ON a.object = s.object AND a.source_id = s.id
WHERE coalesce(a.buckets, 0) <> 1;
