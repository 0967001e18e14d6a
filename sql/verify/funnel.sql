-- verify: where every extracted source record ended up.
-- One row per (object, source_id) extracted from the source, with its
-- final state:
--   loaded     created in the destination (ferry_id_map)
--   failed     the destination refused it (ferry_load_errors, with status)
--   held       not sent: a reference it needs failed or is missing
--   merged / archived / excluded   decided by the transform (ferry_accounting)
--   pending    output by the transform but never loaded: run `ferry load`
--   unaccounted  in no bucket at all: a bug, verify fails
-- Run by `ferry verify`; readable and editable like the transform scripts.

CREATE OR REPLACE TABLE verify_records AS
WITH extracted AS (
              SELECT 'users' AS object, id AS source_id FROM raw_kustomer_users
    UNION ALL SELECT 'teams', id FROM raw_kustomer_teams
    UNION ALL SELECT 'tags', id FROM raw_kustomer_tags
    UNION ALL SELECT 'klasses', id FROM raw_kustomer_klasses
    UNION ALL SELECT 'companies', id FROM raw_kustomer_companies
    UNION ALL SELECT 'customers', id FROM raw_kustomer_customers
    UNION ALL SELECT 'conversations', id FROM raw_kustomer_conversations
    UNION ALL SELECT 'messages', id FROM raw_kustomer_messages
    UNION ALL SELECT 'notes', id FROM raw_kustomer_notes
    UNION ALL SELECT 'kobjects', id FROM raw_kustomer_kobjects
    UNION ALL SELECT 'attachments', id FROM raw_kustomer_attachments
    UNION ALL SELECT 'shortcuts', id FROM raw_kustomer_shortcuts
    UNION ALL SELECT 'slas', id FROM raw_kustomer_slas
), acc AS (
    SELECT object, source_id, any_value(bucket) AS bucket, any_value(reason) AS reason
    FROM ferry_accounting GROUP BY ALL
), idm AS (
    SELECT dest_object AS phase, source_id FROM ferry_id_map WHERE dest = 'zendesk'
), errs AS (
    SELECT object AS phase, source_id,
           bool_or(http_status IS NOT NULL) AS refused,
           any_value(coalesce('HTTP ' || http_status || ': ', '') || error_body) AS why
    FROM ferry_load_errors GROUP BY ALL
), row_state AS (
    -- Load state of each destination row, per phase.
    SELECT o.phase, o.source_id,
           CASE WHEN m.source_id IS NOT NULL THEN 'loaded'
                WHEN e.refused THEN 'failed'
                WHEN e.source_id IS NOT NULL THEN 'held'
                ELSE 'pending' END AS state,
           CASE WHEN m.source_id IS NULL THEN e.why END AS why
    FROM (
                  SELECT 'organizations' AS phase, source_id FROM out_zendesk_organizations
        UNION ALL SELECT 'users', source_id FROM out_zendesk_users
        UNION ALL SELECT 'agents', source_id FROM out_zendesk_agents
        UNION ALL SELECT 'groups', source_id FROM out_zendesk_groups
        UNION ALL SELECT 'tickets', source_id FROM out_zendesk_tickets
        UNION ALL SELECT 'custom_objects', source_id FROM out_zendesk_custom_objects
        UNION ALL SELECT 'custom_object_records', source_id FROM out_zendesk_custom_object_records
        UNION ALL SELECT 'uploads', a.attachment_id FROM stg_attachments a
                  WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)
    ) o
    LEFT JOIN idm m ON m.phase = o.phase AND m.source_id = o.source_id
    LEFT JOIN errs e ON e.phase = o.phase AND e.source_id = o.source_id
), worst AS (
    -- A source record spread over several destination rows (a split
    -- conversation, a message in chunks, a wide kobject) is only as loaded
    -- as its least loaded row.
    SELECT object, source_id,
           CASE WHEN bool_and(state = 'loaded') THEN 'loaded'
                WHEN bool_or(state = 'failed') THEN 'failed'
                WHEN bool_or(state = 'held') THEN 'held'
                ELSE 'pending' END AS state,
           any_value(why) FILTER (WHERE why IS NOT NULL) AS why
    FROM (
                  SELECT 'companies' AS object, source_id, state, why FROM row_state WHERE phase = 'organizations'
        UNION ALL SELECT 'customers', source_id, state, why FROM row_state WHERE phase = 'users'
        UNION ALL SELECT 'users', source_id, state, why FROM row_state WHERE phase = 'agents'
        UNION ALL SELECT 'teams', source_id, state, why FROM row_state WHERE phase = 'groups'
        UNION ALL SELECT 'attachments', source_id, state, why FROM row_state WHERE phase = 'uploads'
        UNION ALL SELECT 'conversations', t.conversation_id, r.state, r.why
                  FROM out_zendesk_tickets t JOIN row_state r ON r.phase = 'tickets' AND r.source_id = t.source_id
        UNION ALL SELECT CASE c.source_kind WHEN 'message' THEN 'messages' ELSE 'notes' END, c.source_record_id, r.state, r.why
                  FROM out_zendesk_comments c JOIN row_state r ON r.phase = 'tickets' AND r.source_id = c.ticket_source_id
                  WHERE c.source_kind IN ('message', 'note')
        UNION ALL SELECT 'klasses', o.klass_id, r.state, r.why
                  FROM out_zendesk_custom_objects o JOIN row_state r ON r.phase = 'custom_objects' AND r.source_id = o.source_id
        UNION ALL SELECT 'kobjects', k.kobject_id, r.state, r.why
                  FROM out_zendesk_custom_object_records k JOIN row_state r ON r.phase = 'custom_object_records' AND r.source_id = k.source_id
        -- Tags travel on tickets and users: applied, nothing to create.
        UNION ALL SELECT 'tags', source_id, 'loaded', NULL FROM acc WHERE object = 'tags' AND bucket = 'output'
    ) GROUP BY ALL
)
SELECT x.object, x.source_id,
       CASE WHEN a.source_id IS NULL THEN 'unaccounted'
            WHEN a.bucket <> 'output' THEN a.bucket
            ELSE coalesce(w.state, 'pending') END AS state,
       CASE WHEN a.source_id IS NULL THEN 'in no bucket of ferry_accounting'
            WHEN a.bucket <> 'output' THEN a.reason
            WHEN w.state IS NULL OR w.state = 'pending' THEN 'output but not loaded: run `ferry load`'
            ELSE w.why END AS reason
FROM (SELECT DISTINCT object, source_id FROM extracted WHERE source_id IS NOT NULL) x
LEFT JOIN acc a USING (object, source_id)
LEFT JOIN worst w USING (object, source_id);

-- Per object: the funnel.
CREATE OR REPLACE TABLE verify_funnel AS
WITH staged AS (
              SELECT 'users' AS object, count(*) AS n FROM stg_users
    UNION ALL SELECT 'teams', count(*) FROM stg_teams
    UNION ALL SELECT 'tags', count(*) FROM stg_tags
    UNION ALL SELECT 'klasses', count(*) FROM stg_klasses
    UNION ALL SELECT 'companies', count(*) FROM stg_companies
    UNION ALL SELECT 'customers', count(*) FROM stg_customers
    UNION ALL SELECT 'conversations', count(*) FROM stg_conversations
    UNION ALL SELECT 'messages', count(*) FROM stg_messages
    UNION ALL SELECT 'notes', count(*) FROM stg_notes
    UNION ALL SELECT 'kobjects', count(*) FROM stg_kobjects
    UNION ALL SELECT 'attachments', count(*) FROM stg_attachments
)
SELECT r.object,
       count(*) AS extracted,
       any_value(s.n) AS staged,
       count(*) FILTER (WHERE state IN ('loaded', 'failed', 'held', 'pending')) AS output,
       count(*) FILTER (WHERE state = 'loaded') AS loaded,
       count(*) FILTER (WHERE state = 'failed') AS failed,
       count(*) FILTER (WHERE state = 'held') AS held,
       count(*) FILTER (WHERE state = 'merged') AS merged,
       count(*) FILTER (WHERE state = 'archived') AS archived,
       count(*) FILTER (WHERE state = 'excluded') AS excluded,
       count(*) FILTER (WHERE state = 'pending') AS pending,
       count(*) FILTER (WHERE state = 'unaccounted') AS unaccounted
FROM verify_records r LEFT JOIN staged s USING (object)
GROUP BY r.object ORDER BY r.object;

-- Failures, held rows and other decisions by reason.
CREATE OR REPLACE TABLE verify_reasons AS
-- Per-record details (which email, which survivor) are cut so that
-- reasons group; verify_records keeps them in full.
SELECT object, state,
       regexp_replace(coalesce(reason, '(no reason recorded)'), ' \S+ → \S+$', '') AS reason,
       count(*) AS records
FROM verify_records WHERE state <> 'loaded'
GROUP BY ALL ORDER BY records DESC;
