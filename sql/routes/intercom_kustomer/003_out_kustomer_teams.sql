-- out_kustomer_teams: Intercom teams → Kustomer teams.

-- Teams → Kustomer teams, found by name at load (an admin may have made
-- them), else created with the members whose agent matched a user.
CREATE OR REPLACE TABLE out_kustomer_teams AS
SELECT team_id AS source_id, trim(name) AS name, coalesce(admin_ids, []) AS admin_ids
FROM stg_teams WHERE nullif(trim(name), '') IS NOT NULL;
