-- int_excluded_teams: Kustomer teams that become no group, with why.

CREATE OR REPLACE TABLE int_excluded_teams AS
SELECT team_id AS source_id, 'team deleted in Kustomer' AS reason FROM stg_teams WHERE deleted;
