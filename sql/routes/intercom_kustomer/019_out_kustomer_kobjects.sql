-- out_kustomer_kobjects: each ticket a KObject of its customer with its
-- attributes in `data` (as Intercom names them, so the schema applies),
-- and ferry's own fields (int_klass_fields): the ticket's number,
-- category, assignee, team, whether it is shared, and its parts as text —
-- each part a line `<time> <author> (<part type>): <text> [files: …]`.

CREATE OR REPLACE TABLE out_kustomer_kobjects AS
SELECT t.ticket_id AS source_id, k.name AS klass_name, t.ticket_type_id, cc.canonical_id AS customer_source_id,
       left(coalesce(nullif(trim(t.title), ''), 'Intercom ticket ' || t.ticket_id), 256) AS title,
       t.description,
       json_merge_patch(coalesce(t.attributes, '{}'::JSON),
           to_json({intercomTicketId: t.ticket_number, intercomCategory: t.category,
                    intercomAssignee: a.name || CASE WHEN a.email IS NOT NULL THEN ' <' || a.email || '>' ELSE '' END,
                    intercomTeam: tm.name, intercomShared: t.is_shared, intercomConversation: tl.timeline})) AS attributes,
       t.state, t.created_at
FROM stg_tickets t
JOIN out_kustomer_klasses k ON k.source_id = t.ticket_type_id
JOIN int_contact_canonical cc ON cc.contact_id = t.contact_id
LEFT JOIN stg_admins a ON a.admin_id = t.admin_assignee_id
LEFT JOIN stg_teams tm ON tm.team_id = t.team_assignee_id
LEFT JOIN int_ticket_timeline tl ON tl.ticket_id = t.ticket_id;
