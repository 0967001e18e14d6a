-- Macros of the Kustomer → Zendesk load queries, on top of the engine's
-- ferry_loaded(phase), ferry_wanted(phase, id), ferry_pending(phase, id)
-- and ferry_in_window(id). Run before every phase query.

-- Upload tokens still fresh enough to use: issued after
-- ferry_token_cutoff (now minus upload_token_minutes; Zendesk's expire
-- after about an hour).
CREATE OR REPLACE TEMP MACRO zendesk_fresh_uploads() AS TABLE
    SELECT source_id, dest_id FROM ferry_loaded('uploads')
    WHERE loaded_at > getvariable('ferry_token_cutoff');

-- A file that can never be uploaded, when `[destination] missing_files =
-- "skip"` lets a ticket go without it: no bytes were downloaded (or the
-- attachment record was never extracted), or Zendesk refused the upload
-- for good (a 4xx such as 413 too large; not 408/429, worth retrying).
CREATE OR REPLACE TEMP MACRO zendesk_unsendable_file(aid) AS
    (coalesce(getvariable('ferry_skip_missing_files'), false) AND
     (aid NOT IN (SELECT attachment_id FROM stg_attachments WHERE sha256 IS NOT NULL)
      OR aid IN (SELECT source_id FROM ferry_load_errors WHERE object = 'uploads'
                 AND http_status BETWEEN 400 AND 499 AND http_status NOT IN (408, 429))));

-- The order tickets are sent in: `--order open-first` puts live tickets
-- first, then the history. Windows follow the same order.
CREATE OR REPLACE TEMP MACRO zendesk_ticket_rank(ticket_status) AS
    CASE WHEN getvariable('ferry_open_first') AND ticket_status NOT IN ('new', 'open', 'pending', 'hold')
         THEN 1 ELSE 0 END;
