-- `ferry load --sample N`: a pilot load of N representative conversations
-- (the oldest, the newest, the longest, one with attachments, one of each
-- status, a split one), topped up to N, with exactly the records they
-- need, as (phase, source_id) rows of load_sample. The phase queries read
-- it when ferry_sample is set.
CREATE OR REPLACE TABLE load_sample AS
WITH t AS (
    SELECT t.*, coalesce(c.n, 0) AS n_comments, coalesce(c.att, false) AS has_att
    FROM out_zendesk_tickets t
    LEFT JOIN (SELECT ticket_source_id, count(*) AS n, bool_or(len(attachment_ids) > 0) AS att
               FROM out_zendesk_comments GROUP BY ALL) c ON c.ticket_source_id = t.source_id
), picks AS (
    SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY created_at, source_id LIMIT 1)
    UNION SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY created_at DESC, source_id LIMIT 1)
    UNION SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY n_comments DESC, source_id LIMIT 1)
    UNION SELECT conversation_id FROM (SELECT conversation_id FROM t WHERE has_att ORDER BY source_id LIMIT 1)
    UNION SELECT conversation_id FROM (SELECT conversation_id FROM t WHERE part_count > 1 ORDER BY source_id LIMIT 1)
    UNION SELECT arg_min(conversation_id, source_id) FROM t GROUP BY status
), fill AS (
    SELECT conversation_id FROM (SELECT DISTINCT conversation_id FROM t WHERE conversation_id NOT IN (SELECT conversation_id FROM picks))
    ORDER BY hash(conversation_id) LIMIT greatest(getvariable('ferry_sample_n') - (SELECT count(*) FROM picks), 0)
), convs AS (SELECT conversation_id FROM picks UNION SELECT conversation_id FROM fill),
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
UNION ALL SELECT 'uploads', unnest(attachment_ids) FROM out_zendesk_comments WHERE ticket_source_id IN (SELECT source_id FROM tickets)
UNION ALL SELECT 'user_fields', key FROM out_zendesk_user_fields
UNION ALL SELECT 'organization_fields', key FROM out_zendesk_organization_fields
UNION ALL SELECT 'ticket_fields', key FROM out_zendesk_ticket_fields
UNION ALL SELECT 'custom_objects', source_id FROM out_zendesk_custom_objects
UNION ALL SELECT 'custom_object_records', source_id FROM out_zendesk_custom_object_records WHERE user_source_id IN (SELECT u FROM users);
