-- An external id used twice in one output: the loader matches by it.
SELECT 'organizations' AS output, external_id, count(*) AS n FROM out_zendesk_organizations GROUP BY ALL HAVING count(*) > 1
UNION ALL SELECT 'users', external_id, count(*) FROM out_zendesk_users GROUP BY ALL HAVING count(*) > 1
UNION ALL SELECT 'tickets', external_id, count(*) FROM out_zendesk_tickets GROUP BY ALL HAVING count(*) > 1
UNION ALL SELECT 'custom_object_records', object_key || '/' || external_id, count(*) FROM out_zendesk_custom_object_records GROUP BY ALL HAVING count(*) > 1
UNION ALL SELECT 'user emails', email, count(*) FROM out_zendesk_users WHERE email IS NOT NULL GROUP BY ALL HAVING count(*) > 1;
