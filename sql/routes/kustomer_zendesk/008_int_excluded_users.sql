-- int_excluded_users: Kustomer users that are no agent in Zendesk.
-- Machine users (API keys) are not people: excluded with a reason.

CREATE OR REPLACE TABLE int_excluded_users AS
SELECT user_id AS source_id, 'machine user (API key), not an agent' AS reason
FROM stg_users WHERE user_type = 'machine';
