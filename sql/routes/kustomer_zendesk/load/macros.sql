-- Macros of the Kustomer → Zendesk load queries, on top of the engine's
-- ferry_loaded(phase), ferry_wanted(phase, id), ferry_pending(phase, id)
-- and ferry_in_window(id). Run before every phase query.

-- Upload tokens still fresh enough to use: issued after
-- ferry_token_cutoff (now minus upload_token_minutes; Zendesk's expire
-- after about an hour).
CREATE OR REPLACE TEMP MACRO zendesk_fresh_uploads() AS TABLE
    SELECT source_id, dest_id FROM ferry_loaded('uploads')
    WHERE loaded_at > getvariable('ferry_token_cutoff')
    -- A dry run's projected uploads count for the comments phase too,
    -- which does not project its parents (the tickets carry its rows);
    -- only a dry run fills ferry_dry_loaded.
    UNION
    SELECT source_id, dest_id FROM temp.ferry_dry_loaded WHERE dest_object = 'uploads';

-- A file over the account's attachment size limit (pre-flight reads
-- `limits.attachment_size` from the Account Settings API into
-- zendesk_attachment_limit): never uploaded, whatever missing_files says —
-- holding a whole ticket for one file is worse than a note naming it.
CREATE OR REPLACE TEMP MACRO zendesk_file_size(aid) AS
    (SELECT max(size_bytes) FROM (SELECT size_bytes FROM stg_attachments WHERE attachment_id = aid
                                  UNION ALL SELECT size_bytes FROM stg_inline_images WHERE image_id = aid));
CREATE OR REPLACE TEMP MACRO zendesk_over_limit(size) AS
    coalesce(size > TRY_CAST(getvariable('zendesk_attachment_limit') AS BIGINT), false);
CREATE OR REPLACE TEMP MACRO zendesk_oversized_file(aid) AS zendesk_over_limit(zendesk_file_size(aid));

-- A comment's text with a visible line for each file left out for its
-- size (`notes`: 'name (size)'), as HTML or as plain text.
CREATE OR REPLACE TEMP MACRO zendesk_with_file_notes(text, notes, html) AS CASE
    WHEN text IS NULL OR notes IS NULL OR len(notes) = 0 THEN text
    WHEN html THEN text || '<p><em>' || array_to_string(list_transform(notes, lambda n:
            '[file ' || replace(replace(replace(n, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
            || ' not attached: over Zendesk''s attachment size limit; kept in the migration workspace]'), '<br>') || '</em></p>'
    ELSE text || chr(10) || chr(10) || array_to_string(list_transform(notes, lambda n:
            '[file ' || n || ' not attached: over Zendesk''s attachment size limit; kept in the migration workspace]'), chr(10)) END;

-- A file that can never be uploaded, when `[destination] missing_files =
-- "skip"` lets a ticket go without it: no bytes were downloaded (or the
-- attachment record was never extracted), or Zendesk refused the upload
-- for good (a 4xx such as 413 too large; not 408/429, worth retrying).
CREATE OR REPLACE TEMP MACRO zendesk_unsendable_file(aid) AS
    zendesk_oversized_file(aid) OR
    (coalesce(getvariable('ferry_skip_missing_files'), false) AND
     (aid NOT IN (SELECT attachment_id FROM stg_attachments WHERE sha256 IS NOT NULL
                  UNION ALL SELECT image_id FROM stg_inline_images WHERE sha256 IS NOT NULL)
      OR aid IN (SELECT source_id FROM ferry_load_errors WHERE object = 'uploads'
                 AND http_status BETWEEN 400 AND 499 AND http_status NOT IN (408, 429))));

-- The order tickets are sent in: `--order open-first` puts live tickets
-- first, then the history. Windows follow the same order.
CREATE OR REPLACE TEMP MACRO zendesk_ticket_rank(ticket_status) AS
    CASE WHEN getvariable('ferry_open_first') AND ticket_status NOT IN ('new', 'open', 'pending', 'hold')
         THEN 1 ELSE 0 END;

-- A comment's HTML with its inline images' links rewritten to the files
-- Zendesk hosts (`rewrites`: 'src<US>url' pairs, from the uploads' content_url
-- recorded in ferry_hosted_files). Zendesk shows an inline image as an
-- attachment of the comment referenced by an <img> in html_body.
CREATE OR REPLACE TEMP MACRO zendesk_rehost(html, rewrites) AS CASE
    WHEN html IS NULL OR rewrites IS NULL OR len(rewrites) = 0 THEN html
    ELSE list_reduce(list_prepend(html, rewrites),
                     lambda acc, x: replace(acc, split_part(x, chr(31), 1), split_part(x, chr(31), 2))) END;

-- The comments' files to upload and reference: attachments and inline
-- images, with the fresh upload token, and for an inline image its src
-- and the URL Zendesk serves it from; a file over the size limit as
-- `oversized` ('name (size)'), and for an inline image `big_image`
-- ({src, file_name}: its <img> becomes a placeholder naming it).
CREATE OR REPLACE TEMP MACRO zendesk_comment_files() AS TABLE
    SELECT c2.source_id, c2.ticket_source_id, x.aid, u.dest_id AS token,
           i.src, h.url,
           -- (the sizes are at hand: no lookup by id)
           CASE WHEN zendesk_over_limit(coalesce(i.size_bytes, a.size_bytes))
                THEN coalesce(i.file_name, a.file_name, 'attachment') || ' (' || format_bytes(coalesce(i.size_bytes, a.size_bytes)) || ')' END AS oversized,
           CASE WHEN zendesk_over_limit(i.size_bytes) AND i.src IS NOT NULL THEN {src: i.src, file_name: i.file_name} END AS big_image
    FROM out_zendesk_comments c2, unnest(c2.attachment_ids || c2.inline_image_ids) AS x(aid)
    LEFT JOIN zendesk_fresh_uploads() u ON u.source_id = x.aid
    LEFT JOIN stg_inline_images i ON i.image_id = x.aid
    LEFT JOIN stg_attachments a ON a.attachment_id = x.aid
    LEFT JOIN ferry_hosted_files h ON h.dest = 'zendesk' AND h.dest_object = 'uploads'
                                  AND h.source_id = x.aid AND h.dest_id = u.dest_id;
