-- out_salesforce_cases: each conversation that loads (the source layer's
-- int_conversation_disposition) as a Case. EmailMessage is writable
-- only at insert: everything is decided here, before the load.

CREATE OR REPLACE TABLE out_salesforce_cases AS
WITH conv AS (
    SELECT * FROM int_conversations_to_load
), tags AS (
    SELECT conv.conversation_id, string_agg(DISTINCT g.name, '; ' ORDER BY g.name) AS tag_names
    FROM conv, unnest(conv.tag_ids) AS t(tag_id)
    JOIN stg_tags g ON g.tag_id = t.tag_id AND NOT g.deleted
    GROUP BY ALL
)
SELECT c.conversation_id AS source_id,
       c.customer_source_id,
       CASE WHEN ct.source_id IS NOT NULL THEN ct.source_id END AS contact_source_id,
       ct.account_source_id,
       CASE WHEN ld.source_id IS NOT NULL THEN ld.email END AS supplied_email,
       CASE WHEN ld.source_id IS NOT NULL THEN left(concat_ws(' ', ld.first_name, ld.last_name), 80) END AS supplied_name,
       c.assignee_user_id AS owner_source_id,
       -- No matched user: the Case waits in its team's Queue.
       c.assigned_team_ids[len(c.assigned_team_ids)] AS owner_queue_source_id,
       left(coalesce(nullif(trim(c.subject), ''), '(no subject)'), 255) AS subject,
       c.status AS kustomer_status,
       sm.case_status AS status,
       coalesce(pm.case_priority, 'Medium') AS priority,
       om.case_origin AS origin,
       CASE WHEN setting('tags_as') = 'text' THEN tg.tag_names END AS tag_names,
       c.channel, c.created_at, c.updated_at,
       CASE WHEN c.status = 'done' THEN coalesce(c.done_at, c.updated_at) END AS closed_at
FROM conv c
LEFT JOIN out_salesforce_contacts ct ON ct.source_id = c.customer_source_id
LEFT JOIN out_salesforce_leads ld ON ld.source_id = c.customer_source_id
LEFT JOIN tags tg USING (conversation_id)
LEFT JOIN status_map sm ON sm.kustomer_status = c.status
LEFT JOIN priority_map pm ON pm.kustomer_priority = CAST(c.priority AS VARCHAR)
LEFT JOIN origin_map om ON om.kustomer_channel = c.channel;
