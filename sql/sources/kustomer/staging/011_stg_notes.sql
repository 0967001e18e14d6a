-- stg_notes (Kustomer staging): one row per Kustomer record of notes.

CREATE OR REPLACE TABLE stg_notes AS
SELECT id AS note_id,
       s.relationships.conversation.data.id AS conversation_id,
       safe_html(coalesce(s.attributes.body, '')) AS body,
       s.relationships.createdBy.data.id AS created_by,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"body": "VARCHAR"},
        "relationships": {"conversation": {"data": {"id": "VARCHAR"}}, "createdBy": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_notes);
