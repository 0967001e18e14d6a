-- verify: the stratified sample of loaded tickets to read back and compare
-- field by field. getvariable('verify_sample') is the sample size.
-- Strata first (oldest, newest, longest threads, with attachments, split
-- conversations, one per status), then a stable pseudo-random fill.

CREATE OR REPLACE TABLE verify_sample AS
WITH loaded AS (
    SELECT t.source_id, t.conversation_id, t.status, t.created_at, m.dest_id,
           coalesce(c.comments, 0) AS comments, coalesce(c.attachments, 0) AS attachments,
           t.source_id LIKE '%-part%' AS split
    FROM out_zendesk_tickets t
    JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'tickets' AND m.source_id = t.source_id
    LEFT JOIN (SELECT ticket_source_id, count(*) AS comments, sum(len(attachment_ids)) AS attachments
               FROM out_zendesk_comments GROUP BY ALL) c ON c.ticket_source_id = t.source_id
), picks AS (
              SELECT source_id, 'oldest' AS stratum, 1 AS prio FROM (SELECT * FROM loaded ORDER BY created_at, source_id LIMIT 2)
    UNION ALL SELECT source_id, 'newest', 1 FROM (SELECT * FROM loaded ORDER BY created_at DESC, source_id LIMIT 2)
    UNION ALL SELECT source_id, 'longest thread', 1 FROM (SELECT * FROM loaded ORDER BY comments DESC, source_id LIMIT 3)
    UNION ALL SELECT source_id, 'with attachments', 2 FROM (SELECT * FROM loaded WHERE attachments > 0 ORDER BY hash(source_id) LIMIT 3)
    UNION ALL SELECT source_id, 'split conversation', 2 FROM (SELECT * FROM loaded WHERE split ORDER BY source_id LIMIT 3)
    -- A cutover's delta: tickets whose fields changed, or that got
    -- comments, after their first load.
    UNION ALL SELECT source_id, 'changed after its first load', 1 FROM (
        SELECT * FROM loaded
        WHERE source_id IN (SELECT source_id FROM ferry_changes
                            WHERE dest = 'zendesk' AND dest_object = 'tickets' AND kind = 'changed' AND status = 'applied')
           OR source_id IN (SELECT c.ticket_source_id FROM out_zendesk_comments c
                            JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'comments' AND m.source_id = c.source_id)
        ORDER BY hash(source_id) LIMIT 4)
    UNION ALL SELECT arg_min(source_id, hash(source_id)), 'status ' || status, 2 FROM loaded GROUP BY status
    UNION ALL SELECT source_id, 'random', 3 FROM loaded
)
SELECT p.source_id, l.dest_id, arg_min(p.stratum, p.prio) AS stratum
FROM picks p JOIN loaded l USING (source_id)
GROUP BY p.source_id, l.dest_id
ORDER BY min(p.prio), hash(p.source_id)
LIMIT getvariable('verify_sample');

-- What each sampled ticket should look like in Zendesk, derived from the
-- raw Kustomer records (raw_kustomer_*, the API's JSON as extracted), not
-- from the transform's tables: a transform bug must show up here as a
-- mismatch. Only the documented rules are applied, each named in
-- verify_rules (the report lists them); the seeds (status, priority,
-- channel, agent, team maps and transform_settings) are the user's
-- declared mapping and are read as such. The id map says which
-- destination record each source record became.

CREATE OR REPLACE TABLE verify_rules AS
SELECT * FROM (VALUES
    (1, 'subject', 'conversation name, else the first message preview, else "(no subject)"; 250 characters; " (part p/n)" on split conversations'),
    (2, 'status', 'seeds/status_map.csv; a done conversation older than solved_close_after_days takes zendesk_status_when_old'),
    (3, 'priority', 'seeds/priority_map.csv'),
    (4, 'tags', 'Kustomer tag names lowercased, other characters as _; assignee_<name> for every other assigned user; kustomer_import; channel_<via> (seeds/channel_via_map.csv); kustomer_split and kustomer_split_<id> on split conversations'),
    (5, 'requester', 'customers sharing their first email (case-insensitive) are one person: the oldest'),
    (6, 'assignee, group', 'the last assigned user (assignee_rule = first: the first), the first assigned team'),
    (7, 'comments', 'messages and notes by source time (then messages before notes, then id); notes private; inbound messages by the requester, the rest by their author; body = the full content read from the message links.related (HTML, else text), else its preview, control characters, <script> elements and on* handlers removed; HTML kept as html_body; a body over the comment limit split into consecutive comments whose concatenation is the body; an inline image is a file of its comment (its bytes by SHA-256) and the <img> links it, one ferry has no bytes for (ferry_quarantine) becomes "[image <file>: gone from Kustomer before the migration]"'),
    (8, 'split conversations', 'a conversation over the per-ticket comment limit is read back across all its tickets in part order, each part ending with one internal link comment, and compared as one thread'),
    (9, 'files over the size limit', 'a file larger than the account''s attachment size limit (Account Settings limits.attachment_size, read by verify) is not attached: the comment ends with one line naming each such attachment, and such an inline image''s <img> becomes "[image <file>: over Zendesk''s attachment size limit: not attached]"')
) AS t(n, field, rule);

CREATE OR REPLACE TABLE verify_raw_conversations AS
SELECT id AS conversation_id,
       json_extract_string(json, '$.relationships.customer.data.id') AS customer_id,
       json_extract_string(json, '$.attributes.name') AS name,
       json_extract_string(json, '$.attributes.status') AS status,
       TRY_CAST(json_extract_string(json, '$.attributes.priority') AS INTEGER)::VARCHAR AS priority,
       json_extract_string(json, '$.attributes.channels[0]') AS channel,
       coalesce(json_extract_string(json, '$.attributes.tags[*]'), []) AS tag_ids,
       coalesce(json_extract_string(json, '$.attributes.assignedUsers[*]'), []) AS assigned_users,
       json_extract_string(json, '$.attributes.assignedTeams[0]') AS team_id,
       coalesce(TRY_CAST(json_extract_string(json, '$.attributes.lastDone.createdAt') AS TIMESTAMPTZ),
                TRY_CAST(json_extract_string(json, '$.attributes.firstDone.createdAt') AS TIMESTAMPTZ)) AS done_at,
       TRY_CAST(json_extract_string(json, '$.attributes.createdAt') AS TIMESTAMPTZ) AS created,
       updated_at
FROM raw_kustomer_conversations
WHERE id IN (SELECT regexp_extract(source_id, '^(.*?)(-part[0-9]+)?$', 1) FROM verify_sample);

-- Every message and note of the sampled conversations, in thread order.
CREATE OR REPLACE TABLE verify_raw_thread AS
WITH items AS (
    SELECT 'message' AS kind, m.id AS item_id,
           json_extract_string(m.json, '$.relationships.conversation.data.id') AS conversation_id,
           json_extract_string(m.json, '$.attributes.direction') AS direction,
           json_extract_string(m.json, '$.relationships.createdBy.data.id') AS created_by,
           -- The full content read from links.related (HTML, else text), else the preview.
           coalesce(json_extract_string(mc.json, '$.attributes.HtmlBody'), json_extract_string(mc.json, '$.attributes.htmlBody'),
                    json_extract_string(mc.json, '$.attributes.html'), json_extract_string(mc.json, '$.attributes.TextBody'),
                    json_extract_string(mc.json, '$.attributes.textBody'), json_extract_string(mc.json, '$.attributes.text'),
                    json_extract_string(mc.json, '$.attributes.body'),
                    json_extract_string(m.json, '$.attributes.preview'), '') AS raw_body,
           coalesce(TRY_CAST(json_extract_string(m.json, '$.attributes.sentAt') AS TIMESTAMPTZ), m.created_at) AS item_at,
           coalesce(json_extract_string(m.json, '$.relationships.attachments.data[*].id'), []) AS attachment_ids
    FROM raw_kustomer_messages m LEFT JOIN raw_kustomer_message_contents mc USING (id)
    UNION ALL
    SELECT 'note', id, json_extract_string(json, '$.relationships.conversation.data.id'), NULL,
           json_extract_string(json, '$.relationships.createdBy.data.id'),
           coalesce(json_extract_string(json, '$.attributes.body'), ''), created_at, []
    FROM raw_kustomer_notes
)
SELECT i.*,
       -- Rule 7: control characters out; <script> elements and on* handlers out;
       -- images gone from the source as placeholders.
       regexp_replace(regexp_replace(regexp_replace(kustomer_drop_gone_images(raw_body, g.gone), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g'),
                      '(?is)<script\b.*?</script\s*>', '', 'g'),
                      '(?i)\s+on[a-z]+\s*=\s*("[^"]*"|''[^'']*''|[^\s>]+)', '', 'g') AS body,
       kind = 'message' AND (raw_body ILIKE '%<html%' OR raw_body ILIKE '%<p>%' OR raw_body ILIKE '%<br%') AS is_html,
       row_number() OVER (PARTITION BY conversation_id ORDER BY item_at, kind, item_id) AS position
FROM items i
-- The images whose bytes the extract could not fetch (its quarantine).
LEFT JOIN (SELECT json_extract_string(json, '$.message_id') AS item_id,
                  list({src: json_extract_string(json, '$.src'),
                        file_name: coalesce(nullif(regexp_extract(json_extract_string(json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image')}) AS gone
           FROM ferry_quarantine WHERE source = 'kustomer' AND object = 'inline_images' GROUP BY 1) g USING (item_id)
WHERE conversation_id IN (SELECT conversation_id FROM verify_raw_conversations);

-- Rule 5, from the raw customers: a customer's person is the oldest
-- customer with the same first email.
CREATE OR REPLACE TABLE verify_raw_person AS
SELECT * FROM kustomer_verify_person();

CREATE OR REPLACE MACRO verify_dest(obj, src) AS
    (SELECT any_value(dest_id) FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = obj AND source_id = src);

CREATE OR REPLACE TABLE verify_expected_tickets AS
WITH s AS (
    SELECT s.source_id, s.dest_id, s.stratum,
           regexp_extract(s.source_id, '^(.*?)(-part([0-9]+))?$', 1) AS conversation_id,
           TRY_CAST(regexp_extract(s.source_id, '-part([0-9]+)$', 1) AS INTEGER) AS part_no
    FROM verify_sample s
), parts AS (
    -- How many tickets the conversation became, as the id map records.
    SELECT s.source_id, (SELECT count(*) FROM ferry_id_map m WHERE m.dest = 'zendesk' AND m.dest_object = 'tickets'
                          AND m.source_id LIKE s.conversation_id || '-part%') AS part_count
    FROM s
), first_preview AS (
    SELECT json_extract_string(json, '$.relationships.conversation.data.id') AS conversation_id,
           arg_min(json_extract_string(json, '$.attributes.preview'),
                   coalesce(TRY_CAST(json_extract_string(json, '$.attributes.sentAt') AS TIMESTAMPTZ), created_at)::VARCHAR || id) AS preview
    FROM raw_kustomer_messages GROUP BY 1
), tag_names AS (
    SELECT c.conversation_id,
           list(trim(regexp_replace(lower(trim(json_extract_string(t.json, '$.attributes.name'))), '[^\p{L}\p{N}_/-]+', '_', 'g'), '_')) AS tags
    FROM verify_raw_conversations c, unnest(c.tag_ids) AS x(tag_id)
    JOIN raw_kustomer_tags t ON t.id = x.tag_id
    WHERE NOT coalesce(TRY_CAST(json_extract_string(t.json, '$.attributes.deleted') AS BOOLEAN), false)
    GROUP BY 1
), assignee AS (
    SELECT conversation_id,
           CASE WHEN setting('assignee_rule') = 'first' THEN assigned_users[1] ELSE assigned_users[len(assigned_users)] END AS user_id
    FROM verify_raw_conversations
), other_assignees AS (
    SELECT c.conversation_id,
           list('assignee_' || trim(regexp_replace(lower(trim(coalesce(json_extract_string(u.json, '$.attributes.name'), x.user_id))),
                                                   '[^\p{L}\p{N}_/-]+', '_', 'g'), '_')) AS tags
    FROM verify_raw_conversations c JOIN assignee a USING (conversation_id), unnest(c.assigned_users) AS x(user_id)
    LEFT JOIN raw_kustomer_users u ON u.id = x.user_id
    WHERE x.user_id IS DISTINCT FROM a.user_id
    GROUP BY 1
)
SELECT s.source_id, s.dest_id, s.stratum,
       left(coalesce(nullif(trim(regexp_replace(c.name, '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')), ''),
                     nullif(trim(fp.preview), ''), '(no subject)'), 250)
           || CASE WHEN p.part_count > 1 THEN ' (part ' || s.part_no || '/' || p.part_count || ')' ELSE '' END AS subject,
       CASE WHEN c.status = 'done' AND epoch_ms(coalesce(c.done_at, c.updated_at))
                 < epoch_ms(now()) - CAST(setting('solved_close_after_days') AS BIGINT) * 86400000
            THEN sm.zendesk_status_when_old ELSE sm.zendesk_status END AS status,
       pm.zendesk_priority AS priority,
       list_sort(list_distinct(list_filter(coalesce(tn.tags, []), lambda x: x <> '') || coalesce(oa.tags, []) || ['kustomer_import']
           || CASE WHEN vm.zendesk_channel IS NOT NULL THEN ['channel_' || vm.zendesk_channel] ELSE [] END
           || CASE WHEN p.part_count > 1 THEN ['kustomer_split', 'kustomer_split_' || c.conversation_id] ELSE [] END)) AS tags,
       verify_dest('users', pr.person_id) AS requester_id,
       verify_dest('agents', a.user_id) AS assignee_id,
       verify_dest('groups', c.team_id) AS group_id,
       floor(epoch(CAST(coalesce(c.created, (SELECT created_at FROM raw_kustomer_conversations r WHERE r.id = c.conversation_id)) AS TIMESTAMP)))::BIGINT AS created_epoch,
       pr.person_id AS requester_source_id,
       p.part_count > 1 AS split,
       c.conversation_id
FROM s
JOIN parts p USING (source_id)
JOIN verify_raw_conversations c USING (conversation_id)
LEFT JOIN first_preview fp USING (conversation_id)
LEFT JOIN tag_names tn USING (conversation_id)
LEFT JOIN other_assignees oa USING (conversation_id)
LEFT JOIN assignee a USING (conversation_id)
LEFT JOIN verify_raw_person pr ON pr.customer_id = c.customer_id
LEFT JOIN status_map sm ON sm.kustomer_status = c.status
LEFT JOIN priority_map pm ON pm.kustomer_priority = c.priority
LEFT JOIN channel_via_map vm ON vm.kustomer_channel = c.channel;

-- The account's attachment size limit verify read from Zendesk (else the
-- documented 50 MB).
CREATE OR REPLACE TEMP MACRO verify_attachment_limit() AS
    coalesce(TRY_CAST(getvariable('zendesk_attachment_limit') AS BIGINT), 52428800);

-- Rule 7, one row per source message or note (not per Zendesk comment: a
-- split body is compared as the concatenation of its pieces).
CREATE OR REPLACE TABLE verify_expected_comments AS
SELECT t.source_id AS ticket_source_id, i.position, i.item_id AS comment_source_id,
       CASE WHEN i.kind = 'message' AND i.direction = 'in' THEN verify_dest('users', pr.person_id)
            ELSE verify_dest('agents', i.created_by) END AS author_id,
       i.kind = 'message' AS public,
       floor(epoch(CAST(i.item_at AS TIMESTAMP)))::BIGINT AS created_epoch,
       -- (rule 9) an inline image over the limit: a placeholder naming it
       kustomer_replace_images(i.body,
           (SELECT list({src: json_extract_string(g.json, '$.src'),
                         file_name: coalesce(nullif(regexp_extract(json_extract_string(g.json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image')})
            FROM raw_kustomer_inline_images g
            WHERE json_extract_string(g.json, '$.message_id') = i.item_id AND g.sha256 IS NOT NULL AND g.size_bytes > verify_attachment_limit()),
           'over Zendesk''s attachment size limit: not attached') AS body,
       i.is_html,
       (SELECT coalesce(list({sha256: a.sha256, size: a.size_bytes} ORDER BY a.sha256), [])
          FROM raw_kustomer_attachments a WHERE list_contains(i.attachment_ids, a.id)
           AND coalesce(a.size_bytes, 0) <= verify_attachment_limit()) AS attachments,
       (SELECT count(*) FROM raw_kustomer_attachments a
          WHERE list_contains(i.attachment_ids, a.id) AND a.sha256 IS NOT NULL AND a.size_bytes > verify_attachment_limit()) AS files_over_limit,
       (SELECT coalesce(list({sha256: g.sha256, size: g.size_bytes} ORDER BY g.sha256), [])
          FROM raw_kustomer_inline_images g
          WHERE json_extract_string(g.json, '$.message_id') = i.item_id AND g.sha256 IS NOT NULL
            AND g.size_bytes <= verify_attachment_limit()) AS images
FROM verify_expected_tickets t
JOIN verify_raw_conversations c ON c.conversation_id = t.conversation_id
JOIN verify_raw_thread i ON i.conversation_id = c.conversation_id
LEFT JOIN verify_raw_person pr ON pr.customer_id = c.customer_id
ORDER BY t.source_id, i.position;

-- The tickets of each sampled split conversation, in part order.
CREATE OR REPLACE TABLE verify_split_parts AS
SELECT t.conversation_id, m.source_id, m.dest_id,
       CAST(regexp_extract(m.source_id, '-part([0-9]+)$', 1) AS INTEGER) AS part_no
FROM (SELECT DISTINCT conversation_id FROM verify_expected_tickets WHERE split) t
JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'tickets' AND m.source_id LIKE t.conversation_id || '-part%'
ORDER BY t.conversation_id, part_no;

-- The requesters of sampled tickets, from the raw customer of their person.
CREATE OR REPLACE TABLE verify_expected_users AS
SELECT DISTINCT t.requester_source_id AS source_id, t.requester_id AS dest_id,
       coalesce(nullif(trim(regexp_replace(json_extract_string(r.json, '$.attributes.name'), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')), ''),
                nullif(trim(regexp_replace(json_extract_string(r.json, '$.attributes.displayName'), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]', '', 'g')), ''),
                lower(trim(json_extract_string(r.json, '$.attributes.emails[0].email'))),
                json_extract_string(r.json, '$.attributes.phones[0].phone'),
                'Kustomer customer ' || r.id) AS name,
       lower(trim(json_extract_string(r.json, '$.attributes.emails[0].email'))) AS email,
       -- A requester the account already had (ferry_matched): its name and
       -- email are the account's, left as they were (unless updated).
       mm.action AS matched
FROM verify_expected_tickets t
JOIN raw_kustomer_customers r ON r.id = t.requester_source_id
LEFT JOIN ferry_matched mm ON mm.dest = 'zendesk' AND mm.dest_object = 'users' AND mm.source_id = t.requester_source_id
WHERE t.requester_id IS NOT NULL;

COMMENT ON TABLE verify_sample IS 'ferry verify: the conversations the last verify read back from the destination, with their stratum';
COMMENT ON TABLE verify_expected_tickets IS 'ferry verify: what each sampled ticket should look like in Zendesk, from the source records read independently';
COMMENT ON TABLE verify_expected_comments IS 'ferry verify: what each sampled ticket''s comments should be, from the source records';
COMMENT ON TABLE verify_expected_users IS 'ferry verify: what each sampled ticket''s people should be, from the source records';
