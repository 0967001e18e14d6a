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
    UNION ALL SELECT arg_min(source_id, hash(source_id)), 'status ' || status, 2 FROM loaded GROUP BY status
    UNION ALL SELECT source_id, 'random', 3 FROM loaded
)
SELECT p.source_id, l.dest_id, arg_min(p.stratum, p.prio) AS stratum
FROM picks p JOIN loaded l USING (source_id)
GROUP BY p.source_id, l.dest_id
ORDER BY min(p.prio), hash(p.source_id)
LIMIT getvariable('verify_sample');

-- What each sampled ticket should look like in Zendesk.
CREATE OR REPLACE TABLE verify_expected_tickets AS
SELECT s.source_id, s.dest_id, s.stratum, t.subject, t.status, t.priority,
       list_sort(coalesce(t.tags, []::VARCHAR[])) AS tags,
       r.dest_id AS requester_id, a.dest_id AS assignee_id, g.dest_id AS group_id,
       floor(epoch(CAST(t.created_at AS TIMESTAMP)))::BIGINT AS created_epoch,
       t.requester_source_id
FROM verify_sample s JOIN out_zendesk_tickets t USING (source_id)
LEFT JOIN (SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'users') r ON r.source_id = t.requester_source_id
LEFT JOIN (SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'agents') a ON a.source_id = t.assignee_source_id
LEFT JOIN (SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'groups') g ON g.source_id = t.group_source_id;

CREATE OR REPLACE TABLE verify_expected_comments AS
SELECT c.ticket_source_id, c.position, c.source_id AS comment_source_id,
       CASE WHEN c.author_kind = 'customer' THEN cu.dest_id ELSE ag.dest_id END AS author_id,
       c.public, floor(epoch(CAST(c.created_at AS TIMESTAMP)))::BIGINT AS created_epoch,
       coalesce(c.html_body, c.body) AS body, c.html_body IS NOT NULL AS is_html,
       (SELECT coalesce(list({sha256: a.sha256, size: a.size_bytes} ORDER BY a.sha256), [])
          FROM stg_attachments a WHERE list_contains(c.attachment_ids, a.attachment_id)) AS attachments
FROM out_zendesk_comments c
JOIN verify_sample s ON s.source_id = c.ticket_source_id
LEFT JOIN (SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'users') cu ON cu.source_id = c.author_source_id
LEFT JOIN (SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'agents') ag ON ag.source_id = c.author_source_id
ORDER BY c.ticket_source_id, c.position;

-- The requesters of sampled tickets: name and email as sent.
CREATE OR REPLACE TABLE verify_expected_users AS
SELECT DISTINCT u.source_id, m.dest_id, u.name, lower(u.email) AS email
FROM verify_expected_tickets t
JOIN out_zendesk_users u ON u.source_id = t.requester_source_id
JOIN ferry_id_map m ON m.dest = 'zendesk' AND m.dest_object = 'users' AND m.source_id = u.source_id;
