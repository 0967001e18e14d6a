-- Custom object records over Zendesk's size limit: loaded trimmed (their
-- accounting bucket is `output`), kept whole here.
SELECT * FROM int_archive_kobjects ORDER BY source_id, object_key
