-- int_excluded_teams: Kustomer teams that become no Queue, with why.

-- Group.Name holds 40 characters; DeveloperName 80 and is unique among
-- Groups: teams whose names fold to the same one get _2, _3…
CREATE OR REPLACE TABLE int_excluded_teams AS
SELECT team_id AS source_id, 'team deleted in Kustomer' AS reason FROM stg_teams WHERE deleted;
