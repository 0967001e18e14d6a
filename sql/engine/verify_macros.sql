-- Engine macros of `ferry verify`, defined before any route's verify SQL.
--
-- The stratified sample a destination's read-back compares field by
-- field, one rule for the routes that use it: the 2 oldest conversations,
-- the 3 with the longest thread, one of each status, then the rest in
-- hash order (the same sample every time). `expected` names a relation
-- with source_id, created_at, n (items in the thread) and status; one row
-- per picked source_id with its first stratum and priority.
CREATE OR REPLACE TEMP MACRO ferry_verify_picks(expected) AS TABLE
    WITH e AS (SELECT * FROM query_table(expected)),
    picks AS (
                  SELECT source_id, 'oldest' AS stratum, 1 AS prio FROM (SELECT * FROM e ORDER BY created_at, source_id LIMIT 2)
        UNION ALL SELECT source_id, 'longest thread', 1 FROM (SELECT * FROM e ORDER BY n DESC, source_id LIMIT 3)
        UNION ALL SELECT arg_min(source_id, hash(source_id)), 'status ' || status, 2 FROM e GROUP BY status
        UNION ALL SELECT source_id, 'random', 3 FROM e
    )
    SELECT source_id, arg_min(stratum, prio) AS stratum, min(prio) AS prio FROM picks GROUP BY source_id;
