-- int_custom_values: every record's custom attribute values, typed.

-- Declared custom values per record: (resource, record id, custom JSON).
CREATE OR REPLACE TABLE int_custom_values AS
WITH kv AS (
    SELECT 'customer' AS resource, contact_id AS record_id, k, json_extract(custom, '$."' || k || '"') AS v
    FROM (SELECT contact_id, custom, unnest(json_keys(custom)) AS k FROM stg_contacts WHERE json_type(custom) = 'OBJECT')
    UNION ALL
    SELECT 'company', company_id, k, json_extract(custom, '$."' || k || '"')
    FROM (SELECT company_id, custom, unnest(json_keys(custom)) AS k FROM stg_companies WHERE json_type(custom) = 'OBJECT')
    UNION ALL
    SELECT 'conversation', conversation_id, k, json_extract(custom, '$."' || k || '"')
    FROM (SELECT conversation_id, custom, unnest(json_keys(custom)) AS k FROM stg_conversations WHERE json_type(custom) = 'OBJECT')
)
SELECT kv.resource, kv.record_id,
       to_json(map_from_entries(list({'key': m.name, 'value': kus_value(m.name, kv.v)} ORDER BY m.name))) AS custom
FROM kv JOIN out_kustomer_metadata m ON m.resource = kv.resource AND m.intercom_name = kv.k
WHERE kv.v IS NOT NULL AND json_type(kv.v) <> 'NULL'
GROUP BY ALL;
