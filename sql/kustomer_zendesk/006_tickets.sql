-- 006 tickets: Kustomer conversations → Zendesk imported tickets.

CREATE OR REPLACE TABLE out_zendesk_tickets AS
WITH conv AS (
    SELECT c.*, cc.canonical_id AS requester_source_id,
           -- Assignee rule: the last assigned user (`assignee_rule = last`) or the first.
           CASE WHEN setting('assignee_rule') = 'first' THEN c.assigned_user_ids[1]
                ELSE c.assigned_user_ids[len(c.assigned_user_ids)] END AS assignee_user_id
    FROM stg_conversations c
    JOIN conversation_disposition d ON d.conversation_id = c.conversation_id AND d.disposition = 'load'
    LEFT JOIN customer_canonical cc ON cc.customer_id = c.customer_id
), first_message AS (
    SELECT conversation_id, arg_min(preview, sent_at::VARCHAR || message_id) AS preview
    FROM stg_messages GROUP BY conversation_id
), tagged AS (
    SELECT conv.conversation_id,
           list_filter(list_transform(conv.tag_ids, lambda t: (SELECT zendesk_tag FROM stg_tags g WHERE g.tag_id = t AND NOT g.deleted)),
                       lambda t: t IS NOT NULL AND t <> '') AS source_tags,
           -- Other assignees are kept as tags assignee_<name>.
           list_transform(list_filter(conv.assigned_user_ids, lambda u: u IS DISTINCT FROM conv.assignee_user_id),
                          lambda u: 'assignee_' || zd_tag(coalesce((SELECT name FROM stg_users x WHERE x.user_id = u), u))) AS assignee_tags
    FROM conv
), parts AS (
    SELECT p.conversation_id, unnest(range(1, p.part_count + 1)) AS part_no, p.part_count FROM ticket_parts p
)
SELECT ticket_source_id(c.conversation_id, p.part_no, p.part_count) AS source_id,
       c.conversation_id,
       p.part_no, p.part_count,
       ticket_source_id(c.conversation_id, p.part_no, p.part_count) AS external_id,
       c.requester_source_id,
       c.requester_source_id AS submitter_source_id,
       (SELECT source_id FROM out_zendesk_agents a WHERE a.source_id = c.assignee_user_id) AS assignee_source_id,
       (SELECT source_id FROM out_zendesk_groups g WHERE g.source_id = c.assigned_team_ids[1]) AS group_source_id,
       u.organization_source_id,
       -- Subject, else the first message's preview, else a placeholder.
       left(coalesce(nullif(trim(c.subject), ''), nullif(trim(fm.preview), ''), '(no subject)'), 250)
           || CASE WHEN p.part_count > 1 THEN ' (part ' || p.part_no || '/' || p.part_count || ')' ELSE '' END AS subject,
       c.status AS kustomer_status,
       CASE WHEN c.status = 'done' AND coalesce(c.done_at, c.updated_at) < now() - to_days(CAST(setting('solved_close_after_days') AS INTEGER))
            THEN sm.zendesk_status_when_old ELSE sm.zendesk_status END AS status,
       c.priority AS kustomer_priority,
       pm.zendesk_priority AS priority,
       c.channel AS kustomer_channel,
       vm.zendesk_channel AS channel,
       list_sort(list_distinct(
           t.source_tags || t.assignee_tags || ['kustomer_import']
           || CASE WHEN vm.zendesk_channel IS NOT NULL THEN ['channel_' || vm.zendesk_channel] ELSE [] END
           || CASE WHEN p.part_count > 1 THEN ['kustomer_split', 'kustomer_split_' || c.conversation_id] ELSE [] END)) AS tags,
       zd_fields(c.custom) AS custom_fields,
       c.created_at,
       c.updated_at,
       CASE WHEN c.status = 'done' THEN coalesce(c.done_at, c.updated_at) END AS solved_at
FROM conv c
JOIN parts p ON p.conversation_id = c.conversation_id
JOIN tagged t ON t.conversation_id = c.conversation_id
LEFT JOIN first_message fm ON fm.conversation_id = c.conversation_id
LEFT JOIN out_zendesk_users u ON u.source_id = c.requester_source_id
LEFT JOIN status_map sm ON sm.kustomer_status = c.status
LEFT JOIN priority_map pm ON pm.kustomer_priority = CAST(c.priority AS VARCHAR)
LEFT JOIN channel_via_map vm ON vm.kustomer_channel = c.channel;

-- Conversations with no comments at all cannot be imported (Zendesk needs one).
CREATE OR REPLACE TABLE excluded_empty_conversations AS
SELECT d.conversation_id AS source_id, 'no messages or notes' AS reason
FROM conversation_disposition d
WHERE d.disposition = 'load' AND d.conversation_id NOT IN (SELECT conversation_id FROM ticket_parts);
