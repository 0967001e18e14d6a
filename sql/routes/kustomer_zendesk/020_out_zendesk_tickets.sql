-- out_zendesk_tickets: Kustomer conversations → Zendesk imported tickets.

CREATE OR REPLACE TABLE out_zendesk_tickets AS
WITH conv AS (
    SELECT c.* EXCLUDE (customer_source_id, assignee_user_id),
           c.customer_source_id AS requester_source_id, c.assignee_user_id
    FROM int_conversations_to_load c
), first_message AS (
    SELECT conversation_id, arg_min(preview, sent_at::VARCHAR || message_id) AS preview
    FROM stg_messages GROUP BY conversation_id
), source_tags AS (
    SELECT conv.conversation_id, list(zd_tag(g.name)) AS tags
    FROM conv, unnest(conv.tag_ids) AS t(tag_id)
    JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted AND zd_tag(g.name) <> ''
    GROUP BY conv.conversation_id
), assignee_tags AS (
    -- Other assignees are kept as tags assignee_<name>.
    SELECT conv.conversation_id, list('assignee_' || zd_tag(coalesce(x.name, a.user_id))) AS tags
    FROM conv, unnest(conv.assigned_user_ids) AS a(user_id)
    LEFT JOIN stg_users x ON x.user_id = a.user_id
    WHERE a.user_id IS DISTINCT FROM conv.assignee_user_id
    GROUP BY conv.conversation_id
), tagged AS (
    SELECT conv.conversation_id, coalesce(s.tags, []::VARCHAR[]) AS source_tags, coalesce(a.tags, []::VARCHAR[]) AS assignee_tags
    FROM conv LEFT JOIN source_tags s USING (conversation_id) LEFT JOIN assignee_tags a USING (conversation_id)
), parts AS (
    SELECT p.conversation_id, unnest(range(1, p.part_count + 1)) AS part_no, p.part_count FROM int_ticket_parts p
)
SELECT zd_ticket_source_id(c.conversation_id, p.part_no, p.part_count) AS source_id,
       c.conversation_id,
       p.part_no, p.part_count,
       zd_ticket_source_id(c.conversation_id, p.part_no, p.part_count) AS external_id,
       c.requester_source_id,
       c.requester_source_id AS submitter_source_id,
       (SELECT source_id FROM out_zendesk_agents a WHERE a.source_id = c.assignee_user_id) AS assignee_source_id,
       (SELECT source_id FROM out_zendesk_groups g WHERE g.source_id = c.assigned_team_ids[1]) AS group_source_id,
       u.organization_source_id,
       -- Subject, else the first message's preview, else a placeholder.
       left(coalesce(nullif(trim(c.subject), ''), nullif(trim(fm.preview), ''), '(no subject)'), 250)
           || CASE WHEN p.part_count > 1 THEN ' (part ' || p.part_no || '/' || p.part_count || ')' ELSE '' END AS subject,
       c.status AS kustomer_status,
       -- (epoch arithmetic: the bundled DuckDB has no ICU for TIMESTAMPTZ - INTERVAL)
       CASE WHEN c.status = 'done' AND epoch_ms(coalesce(c.done_at, c.updated_at))
                 < epoch_ms(now()) - CAST(setting('solved_close_after_days') AS BIGINT) * 86400000
            THEN sm.zendesk_status_when_old ELSE sm.zendesk_status END AS status,
       c.priority AS kustomer_priority,
       pm.zendesk_priority AS priority,
       c.channel AS kustomer_channel,
       vm.zendesk_channel AS channel,
       list_sort(list_distinct(
           t.source_tags || t.assignee_tags || ['kustomer_import']
           || CASE WHEN vm.zendesk_channel IS NOT NULL THEN ['channel_' || vm.zendesk_channel] ELSE [] END
           || CASE WHEN p.part_count > 1 THEN ['kustomer_split', 'kustomer_split_' || c.conversation_id] ELSE [] END)) AS tags,
       zd_with(zd_with(zd_fields(c.custom), 'kustomer_external_id', sc.kustomer_external_id),
               'kustomer_channel', c.channel) AS custom_fields,
       c.created_at,
       c.updated_at,
       CASE WHEN c.status = 'done' THEN coalesce(c.done_at, c.updated_at) END AS solved_at
FROM conv c
JOIN parts p ON p.conversation_id = c.conversation_id
JOIN tagged t ON t.conversation_id = c.conversation_id
LEFT JOIN first_message fm ON fm.conversation_id = c.conversation_id
JOIN stg_conversations sc ON sc.conversation_id = c.conversation_id
LEFT JOIN out_zendesk_users u ON u.source_id = c.requester_source_id
LEFT JOIN status_map sm ON sm.kustomer_status = c.status
LEFT JOIN priority_map pm ON pm.kustomer_priority = CAST(c.priority AS VARCHAR)
LEFT JOIN channel_via_map vm ON vm.kustomer_channel = c.channel;
