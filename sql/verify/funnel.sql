-- verify: where every extracted source record ended up.
-- One row per (object, source_id) extracted from the source, with its
-- final state:
--   loaded     created in the destination (ferry_id_map)
--   failed     the destination refused it (ferry_load_errors, with status)
--   held       not sent: a reference it needs failed or is missing
--   merged / archived / excluded   decided by the transform (ferry_accounting)
--   pending    output by the transform but never loaded: run `ferry load`
--   unaccounted  in no bucket at all: a bug, verify fails
-- Generic: it reads the extracted records (view ferry_extracted), the
-- transform's decisions (ferry_accounting), the id map and the load
-- errors of this destination (variable ferry_dest), and what the route's
-- verify/lineage.sql says its destination rows carry (verify_rows,
-- verify_lineage, verify_staged). Run by `ferry verify`.

CREATE OR REPLACE TABLE verify_records AS
WITH extracted AS (
    SELECT object, source_id FROM ferry_extracted
), acc AS (
    SELECT object, source_id, any_value(bucket) AS bucket, any_value(reason) AS reason
    FROM ferry_accounting GROUP BY ALL
), idm AS (
    SELECT dest_object AS phase, source_id FROM ferry_id_map WHERE dest = getvariable('ferry_dest')
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
    FROM verify_rows o
    LEFT JOIN idm m ON m.phase = o.phase AND m.source_id = o.source_id
    LEFT JOIN errs e ON e.phase = o.phase AND e.source_id = o.source_id
), worst AS (
    -- A source record spread over several destination rows is only as
    -- loaded as its least loaded row; one carried inside other records
    -- (phase NULL) is loaded once output.
    SELECT object, source_id,
           CASE WHEN bool_and(state = 'loaded') THEN 'loaded'
                WHEN bool_or(state = 'failed') THEN 'failed'
                WHEN bool_or(state = 'held') THEN 'held'
                ELSE 'pending' END AS state,
           any_value(why) FILTER (WHERE why IS NOT NULL) AS why
    FROM (
        SELECT l.object, l.source_id,
               CASE WHEN l.phase IS NULL THEN 'loaded' ELSE r.state END AS state,
               r.why
        FROM verify_lineage l
        LEFT JOIN row_state r ON r.phase = l.phase AND r.source_id = l.row_id
        WHERE l.phase IS NULL OR r.state IS NOT NULL
    ) GROUP BY ALL
)
SELECT *,
       -- The reason without what names one record (ids, emails, numbers,
       -- "x → y" survivors), so that records with the same reason group:
       -- GROUP BY reason_group, not reason.
       regexp_replace(regexp_replace(regexp_replace(regexp_replace(
           coalesce(reason, '(no reason recorded)'),
           ' \S+ → \S+$', ''),
           '[0-9a-fA-F]{12,}[^\s,;:)]*', '{id}', 'g'),
           '[^\s@(<"]+@[^\s@,;:)>"]+', '{email}', 'g'),
           '[0-9]{4,}', '{n}', 'g') AS reason_group
FROM (
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
LEFT JOIN worst w USING (object, source_id)
);

-- Per object: the funnel.
CREATE OR REPLACE TABLE verify_funnel AS
WITH staged AS (SELECT object, n FROM verify_staged)
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

-- Failures, held rows and other decisions by reason: what needs action
-- (failed, held, unaccounted, pending) first. Per-record details (ids,
-- emails, survivors) are cut so that reasons group (reason_group);
-- verify_records keeps them in full, example_source_id names one.
CREATE OR REPLACE TABLE verify_reasons AS
SELECT object, state, reason_group AS reason, count(*) AS records,
       min(source_id) AS example_source_id,
       CASE state WHEN 'failed' THEN 0 WHEN 'held' THEN 1 WHEN 'unaccounted' THEN 2
                  WHEN 'pending' THEN 3 ELSE 4 END AS needs_action_rank
FROM verify_records WHERE state <> 'loaded'
GROUP BY object, state, reason_group
ORDER BY needs_action_rank, records DESC, object;

COMMENT ON TABLE verify_records IS 'ferry verify: every extracted source record with its final state (loaded, failed, held, merged, archived, excluded, pending, unaccounted), reason and reason_group';
COMMENT ON TABLE verify_funnel IS 'ferry verify: per object, extracted → staged → output → loaded / failed / held / merged / archived / excluded / pending / unaccounted';
COMMENT ON TABLE verify_reasons IS 'ferry verify: records not loaded, grouped by reason; needs_action_rank orders what needs action first; example_source_id';
