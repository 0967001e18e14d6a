-- The load engine's macros, read by every route's load/*.sql (see
-- src/load/query.rs for what each means). Temporary: they live for one
-- connection and are made again by every load, dry run and status.
CREATE OR REPLACE TEMP MACRO ferry_loaded(p_phase) AS TABLE
    SELECT source_id, dest_id, loaded_at FROM ferry_id_map
    WHERE dest = getvariable('ferry_dest') AND dest_object = p_phase
    UNION ALL
    SELECT source_id, dest_id, loaded_at FROM ferry_dry_loaded
    WHERE getvariable('ferry_dry_projection') AND dest_object = p_phase;
CREATE OR REPLACE TEMP MACRO ferry_wanted(p_phase, p_id) AS
    p_id NOT IN (SELECT e.source_id FROM ferry_load_errors e WHERE e.object = p_phase
                 AND e.http_status IS NOT NULL AND NOT getvariable('ferry_retry'))
    AND (NOT getvariable('ferry_sample')
         OR p_id IN (SELECT s.source_id FROM load_sample s WHERE s.phase = p_phase));
CREATE OR REPLACE TEMP MACRO ferry_pending(p_phase, p_id) AS
    CASE WHEN getvariable('ferry_mode') = 'loaded'
         THEN p_id IN (SELECT m.source_id FROM ferry_id_map m
                       WHERE m.dest = getvariable('ferry_dest') AND m.dest_object = p_phase)
              AND (NOT getvariable('ferry_sample')
                   OR p_id IN (SELECT s.source_id FROM load_sample s WHERE s.phase = p_phase))
         ELSE p_id NOT IN (SELECT m.source_id FROM ferry_id_map m
                           WHERE m.dest = getvariable('ferry_dest') AND m.dest_object = p_phase)
              AND ferry_wanted(p_phase, p_id) END;
CREATE OR REPLACE TEMP MACRO ferry_carried(p_phase) AS TABLE
    SELECT mb.parent_source_id, mb.source_id FROM ferry_members mb
    JOIN ferry_id_map m ON m.dest = mb.dest AND m.dest_object = p_phase
         AND m.source_id = mb.parent_source_id AND m.batch_id = mb.batch_id
    WHERE mb.dest = getvariable('ferry_dest');
CREATE OR REPLACE TEMP MACRO ferry_in_window(p_id) AS
    (getvariable('ferry_window') IS NULL
     OR p_id IN (SELECT w.source_id FROM load_window w WHERE w.win = getvariable('ferry_window')));
-- The pilot of `ferry load --sample N`, one rule for every route: the
-- oldest, the newest and the longest conversation, one with files, one
-- split across records, one of each status, topped up to N by hash (the
-- same N conversations every time). `candidates` names a relation with
-- conversation_id, row_id (ties), created_at, n_items, has_files,
-- is_split, kind (the status).
CREATE OR REPLACE TEMP MACRO ferry_pilot(candidates) AS TABLE
    WITH t AS (SELECT * FROM query_table(candidates)),
    picks AS (
        SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY created_at, row_id LIMIT 1)
        UNION SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY created_at DESC, row_id LIMIT 1)
        UNION SELECT conversation_id FROM (SELECT conversation_id FROM t ORDER BY n_items DESC, row_id LIMIT 1)
        UNION SELECT conversation_id FROM (SELECT conversation_id FROM t WHERE has_files ORDER BY row_id LIMIT 1)
        UNION SELECT conversation_id FROM (SELECT conversation_id FROM t WHERE is_split ORDER BY row_id LIMIT 1)
        UNION SELECT arg_min(conversation_id, row_id) FROM t GROUP BY kind
    ), fill AS (
        SELECT conversation_id FROM (SELECT DISTINCT conversation_id FROM t
                                     WHERE conversation_id NOT IN (SELECT conversation_id FROM picks))
        ORDER BY hash(conversation_id) LIMIT greatest(getvariable('ferry_sample_n') - (SELECT count(*) FROM picks), 0)
    )
    SELECT conversation_id FROM picks UNION SELECT conversation_id FROM fill;
