-- Messages of loaded conversations, 100 a bulk request, in thread order:
-- original times (createdAt, sentAt), direction, the matched agent as
-- createdBy, the text as preview and the HTML in meta.html, files by
-- their uploaded ids. A new message on a conversation loaded earlier (a
-- cutover) goes the same way.
WITH files AS (
    SELECT m.source_id, count(*) AS n, count(u.dest_id) AS uploaded,
           list({_id: u.dest_id, name: regexp_replace(a.file_name, '[/\\]', '_', 'g'), contentType: a.content_type, contentLength: a.size_bytes})
               FILTER (WHERE u.dest_id IS NOT NULL) AS refs
    FROM out_kustomer_messages m, unnest(m.attachment_ids) AS x(aid)
    JOIN stg_attachments a ON a.attachment_id = x.aid
    LEFT JOIN ferry_loaded('attachments') u ON u.source_id = x.aid
    GROUP BY m.source_id
)
SELECT m.source_id, m.source_id AS external_id,
       CASE WHEN coalesce(f.n, 0) > coalesce(f.uploaded, 0) THEN 'an attachment upload is missing'
            WHEN m.author_admin_id IS NOT NULL AND u.dest_id IS NULL AND getvariable('kus_hold_unmatched')
                 THEN 'its author (Intercom admin ' || m.author_admin_id || ') has no Kustomer user (destination.unmatched_agents = "hold")' END AS hold,
       to_json({externalId: m.source_id, conversation: c.dest_id, customer: cu.dest_id, channel: m.channel,
                app: getvariable('kus_message_app'), direction: m.direction, preview: m.preview, subject: m.subject,
                meta: {html: m.body, authorName: m.author_name, authorEmail: m.author_email},
                sentAt: kus_time(m.created_at), createdAt: kus_time(m.created_at), importedAt: kus_now(),
                createdBy: u.dest_id, attachments: coalesce(f.refs, [])})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_messages m
JOIN ferry_loaded('conversations') c ON c.source_id = m.conversation_source_id
JOIN ferry_loaded('customers') cu ON cu.source_id = m.customer_source_id
LEFT JOIN ferry_loaded('users') u ON u.source_id = m.author_admin_id
LEFT JOIN files f ON f.source_id = m.source_id
WHERE ferry_pending('messages', m.source_id)
ORDER BY m.conversation_source_id, m.position
