-- stg_attachments (Kustomer staging): one row per Kustomer record of attachments of messages.

CREATE OR REPLACE TABLE stg_attachments AS
SELECT id AS attachment_id,
       s.relationships.message.data.id AS message_id,
       s.attributes.name AS file_name,
       s.attributes.contentType AS content_type,
       TRY_CAST(s.attributes.contentLength AS BIGINT) AS content_length,
       sha256, size_bytes
FROM (SELECT id, sha256, size_bytes, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "contentType": "VARCHAR", "contentLength": "JSON"},
        "relationships": {"message": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_attachments);
