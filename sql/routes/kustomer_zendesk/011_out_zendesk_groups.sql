-- out_zendesk_groups: Kustomer teams → Zendesk groups (renamable in
-- seeds/team_group_map.csv).

CREATE OR REPLACE TABLE out_zendesk_groups AS
SELECT t.team_id AS source_id,
       coalesce(nullif(trim(m.zendesk_group), ''), t.name) AS name
FROM stg_teams t
LEFT JOIN team_group_map m ON m.kustomer_team = t.name
WHERE t.team_id NOT IN (SELECT source_id FROM int_excluded_teams);
