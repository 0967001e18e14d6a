-- Conversations → imported tickets with all their comments (ticket
-- import API, 100 per job), once the requester, every customer author and
-- every upload of the ticket are there. The sixth column lists the
-- comments each ticket carries (ferry_members): a later load sends only
-- the comments written after (load/comments.sql).
WITH c AS (
    SELECT c.ticket_source_id,
           bool_or(c.author_kind = 'customer' AND c.author_source_id IS NOT NULL AND cu.dest_id IS NULL) AS missing_author,
           bool_or(len(c.attachment_ids) + len(c.inline_image_ids) > coalesce(up.n, 0) + coalesce(up.skipped, 0)) AS missing_upload,
           list({author_id: -- A note ferry writes itself (the link between split parts), or
                 -- an agent with no Zendesk seat: the migrating admin writes it,
                 -- never Zendesk's choice (the ticket's requester).
                 coalesce(TRY_CAST(CASE WHEN c.author_kind = 'customer' THEN cu.dest_id ELSE ag.dest_id END AS UBIGINT),
                          CASE WHEN c.author_kind <> 'customer' THEN TRY_CAST(getvariable('ferry_zendesk_admin_id') AS UBIGINT) END),
                 body: zendesk_with_file_notes(c.body, up.too_big, false),
                 html_body: zendesk_with_file_notes(kustomer_replace_images(zendesk_rehost(c.html_body, up.rewrites), up.big_images,
                                                                            'over Zendesk''s attachment size limit: not attached'),
                                                    up.too_big, true),
                 public: c.public,
                 created_at: strftime(CAST(c.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'),
                 uploads: coalesce(up.tokens, [])} ORDER BY c.position) AS comments,
           list(c.source_id ORDER BY c.position) AS member_ids
    FROM out_zendesk_comments c
    LEFT JOIN ferry_loaded('users') cu ON cu.source_id = c.author_source_id
    LEFT JOIN ferry_loaded('agents') ag ON ag.source_id = c.author_source_id
    LEFT JOIN (
        -- Attachments and inline images (load/macros.sql); an inline
        -- image's src is rewritten to the URL Zendesk serves it from.
        SELECT f.source_id, count(f.token) AS n,
               list(f.token) FILTER (WHERE f.token IS NOT NULL) AS tokens,
               count(*) FILTER (WHERE f.token IS NULL AND zendesk_unsendable_file(f.aid)) AS skipped,
               list(f.src || chr(31) || f.url) FILTER (WHERE f.src IS NOT NULL AND f.url IS NOT NULL) AS rewrites,
               list(f.oversized) FILTER (WHERE f.oversized IS NOT NULL AND f.big_image IS NULL) AS too_big,
               list(f.big_image) FILTER (WHERE f.big_image IS NOT NULL) AS big_images
        FROM zendesk_comment_files() f
        WHERE ferry_in_window(f.ticket_source_id)
        GROUP BY f.source_id
    ) up ON up.source_id = c.source_id
    WHERE ferry_in_window(c.ticket_source_id)
    GROUP BY c.ticket_source_id
)
SELECT t.source_id, t.external_id,
       -- A loaded ticket's changes (ferry_mode 'loaded') touch only its
       -- fields: its comments and uploads went with the import.
       CASE WHEN getvariable('ferry_mode') = 'loaded' THEN NULL
            WHEN t.requester_source_id IS NULL THEN 'ticket has no requester'
            WHEN r.dest_id IS NULL THEN 'requester ' || t.requester_source_id || ' is not loaded'
            WHEN c.missing_author THEN 'a comment author (customer) is not loaded'
            WHEN c.missing_upload THEN 'an attachment upload is missing' END AS hold,
       to_json({external_id: t.external_id, requester_id: TRY_CAST(r.dest_id AS UBIGINT),
                submitter_id: TRY_CAST(r.dest_id AS UBIGINT), assignee_id: TRY_CAST(a.dest_id AS UBIGINT),
                group_id: TRY_CAST(g.dest_id AS UBIGINT), organization_id: TRY_CAST(o.dest_id AS UBIGINT),
                subject: t.subject, status: t.status, priority: t.priority, tags: t.tags,
                created_at: strftime(CAST(t.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'),
                updated_at: strftime(CAST(t.updated_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'),
                solved_at: strftime(CAST(t.solved_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'),
                comments: c.comments,
                -- Custom attributes go to the ticket fields created for them, by
                -- id; a lookup names the record by its external id (the
                -- KObject's id, of its first part when it is split) once
                -- that record is loaded, else it stays empty.
                custom_fields: coalesce((
                    SELECT list({id: TRY_CAST(f.dest_id AS UBIGINT),
                                 value: CASE WHEN tf.type = 'lookup'
                                             THEN to_json((SELECT 'external_id:' || min(lr.source_id) FROM ferry_loaded('custom_object_records') lr
                                                           WHERE lr.source_id IN (json_extract_string(t.custom_fields, '$."' || f.source_id || '"'),
                                                                                  json_extract_string(t.custom_fields, '$."' || f.source_id || '"') || ':1')))
                                             ELSE json_extract(t.custom_fields, '$."' || f.source_id || '"') END} ORDER BY f.source_id)
                    FROM ferry_loaded('ticket_fields') f
                    LEFT JOIN out_zendesk_ticket_fields tf ON tf.key = f.source_id
                    WHERE list_contains(json_keys(coalesce(t.custom_fields, '{}'::JSON)), f.source_id)), [])
       })::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg,
       to_json(c.member_ids)::VARCHAR AS members
FROM out_zendesk_tickets t
JOIN c ON c.ticket_source_id = t.source_id
LEFT JOIN ferry_loaded('users') r ON r.source_id = t.requester_source_id
LEFT JOIN ferry_loaded('agents') a ON a.source_id = t.assignee_source_id
LEFT JOIN ferry_loaded('groups') g ON g.source_id = t.group_source_id
LEFT JOIN ferry_loaded('organizations') o ON o.source_id = t.organization_source_id
WHERE ferry_pending('tickets', t.source_id) AND ferry_in_window(t.source_id)
ORDER BY zendesk_ticket_rank(t.status), t.source_id
