-- `ferry load --sample N`: a pilot load of N representative conversations
-- (the oldest, the newest, the longest, one with attachments, one of each
-- status, a split one), topped up to N, with exactly the records they
-- need, as (phase, source_id) rows of load_sample. The phase queries read
-- it when ferry_sample is set.
CREATE OR REPLACE TEMP VIEW pilot_candidates AS
SELECT t.conversation_id, t.source_id AS row_id, t.created_at,
       coalesce(c.n, 0) AS n_items, coalesce(c.att, false) AS has_files, t.part_count > 1 AS is_split, t.status AS kind
FROM out_zendesk_tickets t
LEFT JOIN (SELECT ticket_source_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
           FROM out_zendesk_comments GROUP BY ALL) c ON c.ticket_source_id = t.source_id;
CREATE OR REPLACE TABLE load_sample AS
WITH convs AS (SELECT conversation_id FROM ferry_pilot('pilot_candidates')),
tickets AS (SELECT source_id, requester_source_id, organization_source_id FROM out_zendesk_tickets
            WHERE conversation_id IN (SELECT conversation_id FROM convs)),
users AS (
    SELECT requester_source_id AS u FROM tickets
    UNION SELECT author_source_id FROM out_zendesk_comments
          WHERE author_kind = 'customer' AND ticket_source_id IN (SELECT source_id FROM tickets)
)
SELECT 'tickets' AS phase, source_id FROM tickets
UNION ALL SELECT 'users', u FROM users WHERE u IS NOT NULL
UNION ALL SELECT 'organizations', organization_source_id FROM out_zendesk_users
          WHERE source_id IN (SELECT u FROM users) AND organization_source_id IS NOT NULL
UNION ALL SELECT 'organizations', organization_source_id FROM tickets WHERE organization_source_id IS NOT NULL
UNION ALL SELECT 'identities', source_id FROM out_zendesk_user_identities WHERE user_source_id IN (SELECT u FROM users)
UNION ALL SELECT 'agents', source_id FROM out_zendesk_agents
UNION ALL SELECT 'groups', source_id FROM out_zendesk_groups
UNION ALL SELECT 'group_memberships', source_id FROM out_zendesk_group_memberships
UNION ALL SELECT 'uploads', unnest(attachment_ids || inline_image_ids) FROM out_zendesk_comments WHERE ticket_source_id IN (SELECT source_id FROM tickets)
UNION ALL SELECT 'user_fields', key FROM out_zendesk_user_fields
UNION ALL SELECT 'organization_fields', key FROM out_zendesk_organization_fields
UNION ALL SELECT 'ticket_fields', key FROM out_zendesk_ticket_fields
UNION ALL SELECT 'custom_objects', source_id FROM out_zendesk_custom_objects
UNION ALL SELECT 'custom_object_records', source_id FROM out_zendesk_custom_object_records WHERE user_source_id IN (SELECT u FROM users);
