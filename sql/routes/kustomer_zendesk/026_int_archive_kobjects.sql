-- int_archive_kobjects: KObjects over Zendesk's record size limit,
-- kept whole (ferry archive).

-- Records over the limit: long text values are cut to 1,000 characters in
-- Zendesk; the full record is archived.
CREATE OR REPLACE TABLE int_archive_kobjects AS
SELECT kobject_id AS source_id, object_key, fields AS full_fields,
       'record is ' || strlen(fields::VARCHAR) || ' bytes, over Zendesk''s ' || setting('max_record_bytes')
       || ' bytes per custom object record: long text trimmed in Zendesk, full record archived here' AS reason
FROM int_kobject_parts WHERE strlen(fields::VARCHAR) > CAST(setting('max_record_bytes') AS BIGINT);
