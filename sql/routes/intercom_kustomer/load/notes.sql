-- Notes of loaded conversations, 100 a bulk request. external_id is the
-- conversation's Kustomer id: notes have no lookup by external id, so an
-- in-doubt note is found among its conversation's notes.
WITH files AS (
    SELECT n.source_id, count(*) AS k, count(u.dest_id) AS uploaded,
           list({_id: u.dest_id, name: regexp_replace(a.file_name, '[/\\]', '_', 'g'), contentType: a.content_type, contentLength: a.size_bytes})
               FILTER (WHERE u.dest_id IS NOT NULL) AS refs
    FROM out_kustomer_notes n, unnest(n.attachment_ids) AS x(aid)
    JOIN stg_attachments a ON a.attachment_id = x.aid
    LEFT JOIN ferry_loaded('attachments') u ON u.source_id = x.aid
    GROUP BY n.source_id
)
SELECT n.source_id, c.dest_id AS external_id,
       CASE WHEN coalesce(f.k, 0) > coalesce(f.uploaded, 0) THEN 'an attachment upload is missing'
            WHEN length(n.body) > 10240 THEN 'the note is ' || length(n.body) || ' characters; Kustomer takes 10,240'
            WHEN n.author_admin_id IS NOT NULL AND u.dest_id IS NULL AND getvariable('kus_hold_unmatched')
                 THEN 'its author (Intercom admin ' || n.author_admin_id || ') has no Kustomer user (destination.unmatched_agents = "hold")' END AS hold,
       to_json({externalId: n.source_id, conversation: c.dest_id, body: n.body,
                createdAt: kus_time(n.created_at), importedAt: kus_now(), createdBy: u.dest_id,
                attachments: coalesce(f.refs, [])})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_notes n
JOIN ferry_loaded('conversations') c ON c.source_id = n.conversation_source_id
LEFT JOIN ferry_loaded('users') u ON u.source_id = n.author_admin_id
LEFT JOIN files f ON f.source_id = n.source_id
WHERE ferry_pending('notes', n.source_id)
ORDER BY n.conversation_source_id, n.position
