-- stg_users (Kustomer staging): one row per Kustomer record of users (agents and machine users).

-- setting, clean_text and safe_html: shared/001_macros.sql. What a
-- destination needs (e.g. Zendesk's zd_* macros) belongs to its route.

CREATE OR REPLACE TABLE stg_users AS
SELECT id AS user_id,
       s.attributes.name AS name,
       lower(trim(s.attributes.email)) AS email,
       s.attributes.userType AS user_type,
       s.attributes.deletedAt IS NOT NULL AS deleted,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "email": "VARCHAR", "userType": "VARCHAR", "deletedAt": "VARCHAR"}}') AS s
      FROM raw_kustomer_users);
