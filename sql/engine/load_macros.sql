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
