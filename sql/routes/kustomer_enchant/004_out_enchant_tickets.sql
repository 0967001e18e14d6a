-- out_enchant_tickets: the ticket each loaded conversation becomes.
-- Enchant creates only email tickets, with no state, labels or times:
-- state and labels go in a PATCH after the messages.

CREATE OR REPLACE TABLE out_enchant_tickets AS
WITH conv AS (
    SELECT * FROM int_conversations_to_load
), first_message AS (
    SELECT conversation_id, arg_min(body, position) AS body FROM out_enchant_messages GROUP BY ALL
), tags AS (
    SELECT conv.conversation_id,
           list(DISTINCT lm.enchant_label_id ORDER BY lm.enchant_label_id) FILTER (WHERE nullif(trim(lm.enchant_label_id), '') IS NOT NULL) AS label_ids,
           list(DISTINCT g.name ORDER BY g.name) AS tag_names,
           list(DISTINCT g.name ORDER BY g.name) FILTER (WHERE lm.kustomer_tag IS NULL) AS unmapped
    FROM conv, unnest(conv.tag_ids) AS t(tag_id)
    JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted
    LEFT JOIN label_map lm ON lm.kustomer_tag = g.name
    GROUP BY ALL
)
SELECT c.conversation_id AS source_id,
       c.customer_source_id,
       c.assignee_user_id AS assignee_source_id,
       left(coalesce(nullif(trim(c.subject), ''),
                     nullif(trim(left(regexp_replace(fm.body, '<[^>]*>', ' ', 'g'), 120)), ''),
                     '(no subject)'), 250) AS subject,
       c.status AS kustomer_status,
       sm.enchant_state AS state,
       coalesce(tg.label_ids, []::VARCHAR[]) AS label_ids,
       coalesce(tg.tag_names, []::VARCHAR[]) AS tag_names,
       coalesce(tg.unmapped, []::VARCHAR[]) AS unmapped_tags,
       (SELECT nullif(trim(im.enchant_inbox_id), '') FROM inbox_map im
        JOIN stg_teams tm ON tm.name = im.kustomer_team WHERE tm.team_id = c.assigned_team_ids[1]) AS inbox_id,
       c.channel, c.priority, c.created_at, c.updated_at, c.done_at,
       -- Kustomer's own external id and the custom attributes, for the
       -- header note (Enchant has no ticket fields).
       concat_ws(chr(10), 'External id: ' || nullif(trim(sc.kustomer_external_id), ''),
                 kustomer_custom_lines('conversations', c.conversation_id, '')) AS details
FROM conv c
JOIN stg_conversations sc USING (conversation_id)
LEFT JOIN first_message fm USING (conversation_id)
LEFT JOIN tags tg USING (conversation_id)
LEFT JOIN status_map sm ON sm.kustomer_status = c.status;
