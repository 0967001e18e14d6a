-- stg_teams (Kustomer staging): one row per Kustomer record of teams.

CREATE OR REPLACE TABLE stg_teams AS
SELECT id AS team_id,
       s.attributes.name AS name,
       coalesce(s.attributes.members, []) AS member_ids,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "members": ["VARCHAR"], "deleted": "JSON"}}') AS s
      FROM raw_kustomer_teams);
