-- Intercom teams → Kustomer teams: found by name (GET /v1/teams), else
-- created (destination.teams = "create") with the members whose agent
-- was matched to a Kustomer user, else held.
SELECT t.source_id, t.name AS external_id, NULL::VARCHAR AS hold,
       to_json({name: t.name, displayName: t.name,
                members: coalesce((SELECT list(u.dest_id ORDER BY u.dest_id) FROM ferry_loaded('users') u
                                   WHERE list_contains(t.admin_ids, u.source_id)), [])})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_kustomer_teams t WHERE ferry_pending('teams', t.source_id)
ORDER BY t.source_id
