-- Comments written after their ticket was imported (a cutover's delta
-- load): one ticket update each, in their order, to the ticket, or to the
-- follow-up ticket a closed one got for earlier delta comments. A ticket
-- update cannot set created_at, so the body opens with the original time
-- and the source record (the `[ferry <id>]` marker also lets a crashed
-- run find the comments it sent). A comment is new when its ticket's
-- import did not carry it (ferry_carried) and no earlier delta sent it.
WITH carried AS (SELECT * FROM ferry_carried('tickets')),
known AS (SELECT DISTINCT parent_source_id AS ticket_source_id FROM carried),
landed AS (
    SELECT c.ticket_source_id, arg_max(l.dest_id, l.loaded_at) AS dest_id
    FROM ferry_loaded('comments') l JOIN out_zendesk_comments c ON c.source_id = l.source_id
    GROUP BY c.ticket_source_id
),
up AS (
    SELECT f.source_id, count(f.token) AS n,
           list(f.token) FILTER (WHERE f.token IS NOT NULL) AS tokens,
           count(*) FILTER (WHERE f.token IS NULL AND zendesk_unsendable_file(f.aid)) AS skipped,
           list(f.src || chr(31) || f.url) FILTER (WHERE f.src IS NOT NULL AND f.url IS NOT NULL) AS rewrites,
           list(f.oversized) FILTER (WHERE f.oversized IS NOT NULL AND f.big_image IS NULL) AS too_big,
           list(f.big_image) FILTER (WHERE f.big_image IS NOT NULL) AS big_images
    FROM zendesk_comment_files() f
    WHERE f.ticket_source_id IN (SELECT source_id FROM ferry_loaded('tickets'))
    GROUP BY f.source_id
),
fresh AS (
    SELECT c.*,
           'Originally written ' || strftime(CAST(c.created_at AS TIMESTAMP), '%Y-%m-%d %H:%M UTC')
           || ' in Kustomer [ferry ' || c.source_id || ']' AS header
    FROM out_zendesk_comments c
    JOIN ferry_loaded('tickets') t ON t.source_id = c.ticket_source_id
    WHERE NOT EXISTS (SELECT 1 FROM carried x
                      WHERE x.parent_source_id = c.ticket_source_id AND x.source_id = c.source_id)
      AND ferry_pending('comments', c.source_id)
)
SELECT c.source_id,
       coalesce(l.dest_id, t.dest_id) || ':' || c.source_id AS external_id,
       CASE WHEN k.ticket_source_id IS NULL
                THEN 'ticket ' || c.ticket_source_id || ' was imported before ferry recorded the comments it carried: add this comment by hand'
            WHEN c.author_kind = 'customer' AND c.author_source_id IS NOT NULL AND cu.dest_id IS NULL
                THEN 'a comment author (customer) is not loaded'
            WHEN len(c.attachment_ids) + len(c.inline_image_ids) > coalesce(up.n, 0) + coalesce(up.skipped, 0)
                THEN 'an attachment upload is missing' END AS hold,
       to_json({comment: {author_id: -- A note ferry writes itself (the link between split parts), or
                 -- an agent with no Zendesk seat: the migrating admin writes it,
                 -- never Zendesk's choice (the ticket's requester).
                 coalesce(TRY_CAST(CASE WHEN c.author_kind = 'customer' THEN cu.dest_id ELSE ag.dest_id END AS UBIGINT),
                          CASE WHEN c.author_kind <> 'customer' THEN TRY_CAST(getvariable('ferry_zendesk_admin_id') AS UBIGINT) END),
                          public: c.public,
                          body: CASE WHEN c.html_body IS NULL THEN zendesk_with_file_notes(c.header || chr(10) || chr(10) || c.body, up.too_big, false) END,
                          html_body: CASE WHEN c.html_body IS NOT NULL THEN '<p><em>' || c.header || '</em></p>'
                              || zendesk_with_file_notes(kustomer_replace_images(zendesk_rehost(c.html_body, up.rewrites), up.big_images,
                                                                                 'over Zendesk''s attachment size limit: not attached'),
                                                         up.too_big, true) END,
                          uploads: coalesce(up.tokens, [])},
                -- Sent with the comment, so that an end user's comment does
                -- not reopen a solved ticket the source keeps solved.
                status: tk.status,
                -- For a follow-up, should the ticket be closed.
                requester_id: TRY_CAST(r.dest_id AS UBIGINT), subject: tk.subject,
                external_id: tk.external_id || '-followup'})::VARCHAR AS payload,
       coalesce(l.dest_id, t.dest_id) AS path_arg
FROM fresh c
JOIN ferry_loaded('tickets') t ON t.source_id = c.ticket_source_id
LEFT JOIN known k ON k.ticket_source_id = c.ticket_source_id
LEFT JOIN landed l ON l.ticket_source_id = c.ticket_source_id
LEFT JOIN up ON up.source_id = c.source_id
LEFT JOIN ferry_loaded('users') cu ON cu.source_id = c.author_source_id
LEFT JOIN ferry_loaded('agents') ag ON ag.source_id = c.author_source_id
LEFT JOIN out_zendesk_tickets tk ON tk.source_id = c.ticket_source_id
LEFT JOIN ferry_loaded('users') r ON r.source_id = tk.requester_source_id
ORDER BY c.ticket_source_id, c.position
