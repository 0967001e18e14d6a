-- int_excluded_users: Kustomer users that match no Enchant user (users
-- are matched by email: the API cannot create users), with why.

CREATE OR REPLACE TABLE int_excluded_users AS
SELECT user_id AS source_id,
       CASE WHEN user_type = 'machine' THEN 'API/machine user' WHEN deleted THEN 'deleted in Kustomer'
            ELSE 'no email' END AS reason
FROM stg_users WHERE user_type = 'machine' OR deleted OR email IS NULL;
