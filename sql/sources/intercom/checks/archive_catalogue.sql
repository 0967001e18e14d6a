-- Extracted objects with no full-record table in seeds/archive_datasets.csv:
-- `ferry archive --set archive|excluded` could export only their ids.
SELECT DISTINCT object FROM ferry_extracted
WHERE object NOT IN (SELECT object FROM archive_datasets);
