-- out_salesforce_topics: tags → Topics (tags_as = topics).

-- Topic names hold 99 characters and are unique in any case: tags that
-- differ only in case become one Topic (the load matches by name).
CREATE OR REPLACE TABLE out_salesforce_topics AS
SELECT tag_id AS source_id, left(trim(name), 99) AS name
FROM stg_tags
WHERE NOT deleted AND setting('tags_as') = 'topics' AND nullif(trim(name), '') IS NOT NULL;
