-- Kustomer users → agents, matched to existing seats by email first (an
-- existing admin or agent is linked and never changed; an existing end
-- user is held: ferry never changes a role); the rest are created.
SELECT a.source_id, NULL::VARCHAR AS external_id,
       CASE WHEN a.email IS NULL THEN 'agent has no email to match' END AS hold,
       to_json({name: a.name, email: a.email, role: 'agent', verified: true,
                skip_verify_email: true})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_zendesk_agents a
WHERE ferry_pending('agents', a.source_id)
ORDER BY a.source_id
