-- Kustomer users → existing Enchant users, matched by email (GET /users),
-- and the fallback agent (destination.fallback_agent_email), who authors
-- what no matched user can.
SELECT source_id, email AS external_id, NULL::VARCHAR AS hold,
       to_json({email: email})::VARCHAR AS payload, NULL::VARCHAR AS path_arg
FROM (SELECT source_id, email FROM out_enchant_agents
      UNION ALL SELECT 'ferry:fallback', getvariable('enchant_fallback_email'))
WHERE ferry_pending('agents', source_id)
ORDER BY source_id
