-- out_salesforce_queues: teams → Queues for Cases (Group Type=Queue +
-- QueueSobject). Group.Name holds 40 characters; DeveloperName 80 and is
-- unique among Groups: teams whose names fold to the same one get _2, _3…

CREATE OR REPLACE TABLE out_salesforce_queues AS
WITH named AS (
    SELECT team_id, left(coalesce(nullif(trim(name), ''), 'Kustomer team ' || team_id), 40) AS name,
           sf_api_name(coalesce(nullif(trim(name), ''), 'Kustomer team ' || team_id), 70) AS base, created_at
    FROM stg_teams WHERE NOT deleted
)
SELECT team_id AS source_id, name,
       base || CASE WHEN n > 1 THEN '_' || n ELSE '' END AS developer_name
FROM (SELECT *, row_number() OVER (PARTITION BY lower(base) ORDER BY created_at, team_id) AS n FROM named);
