-- int_conversation_disposition (Kustomer, every route): which
-- conversations load, which are excluded (deleted, spam) and which are
-- archived (done before `archive_done_before`), by the route's
-- transform_settings, with the reason each record carries in
-- ferry_accounting and `ferry archive --set`.

CREATE OR REPLACE TABLE int_conversation_disposition AS
SELECT conversation_id,
       CASE WHEN deleted AND setting('exclude_deleted') = 'true' THEN 'excluded'
            WHEN spam AND setting('exclude_spam') = 'true' THEN 'excluded'
            WHEN status = 'done' AND setting('archive_done_before') IS NOT NULL
                 AND coalesce(done_at, updated_at) < CAST(setting('archive_done_before') AS TIMESTAMPTZ) THEN 'archived'
            ELSE 'load' END AS disposition,
       CASE WHEN deleted AND setting('exclude_deleted') = 'true' THEN 'deleted in Kustomer'
            WHEN spam AND setting('exclude_spam') = 'true' THEN 'spam'
            WHEN status = 'done' AND setting('archive_done_before') IS NOT NULL
                 AND coalesce(done_at, updated_at) < CAST(setting('archive_done_before') AS TIMESTAMPTZ)
                 THEN 'done before ' || setting('archive_done_before') END AS reason
FROM stg_conversations;
