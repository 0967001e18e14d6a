-- stg_teams (Intercom staging): one row per Intercom record of teams.

CREATE OR REPLACE TABLE stg_teams AS
SELECT id AS team_id, json_extract_string(json, '$.name') AS name,
       json_extract_string(json, '$.admin_ids[*]') AS admin_ids
FROM raw_intercom_teams;
