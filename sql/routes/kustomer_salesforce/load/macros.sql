-- Salesforce's datetime format for writes (ISO 8601 in UTC), and the
-- marker a CaseComment carries: CaseComment takes no custom fields, so an
-- in-doubt comment is found again by this line in its body. Keep it.
-- (Without ICU a TIMESTAMPTZ casts to its UTC wall time.)
CREATE OR REPLACE TEMP MACRO sf_time(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ');
CREATE OR REPLACE TEMP MACRO sf_marker(id) AS '[ferry ' || id || ']';

-- The files messages carry: attachments and the inline images of their
-- bodies (stg_inline_images), one list to upload as ContentVersions.
CREATE OR REPLACE TEMP MACRO salesforce_files() AS TABLE
    SELECT attachment_id, file_name, sha256, size_bytes FROM stg_attachments
    UNION ALL
    SELECT image_id, file_name, sha256, size_bytes FROM stg_inline_images;
