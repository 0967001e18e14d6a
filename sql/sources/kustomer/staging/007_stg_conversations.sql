-- stg_conversations (Kustomer staging): one row per Kustomer record of conversations.

CREATE OR REPLACE TABLE stg_conversations AS
SELECT id AS conversation_id,
       s.relationships.customer.data.id AS customer_id,
       clean_text(s.attributes.name) AS subject,
       s.attributes.status AS status,
       TRY_CAST(s.attributes.priority AS INTEGER) AS priority,
       s.attributes.channels[1] AS channel,
       coalesce(s.attributes.tags, []) AS tag_ids,
       coalesce(s.attributes.assignedUsers, []) AS assigned_user_ids,
       coalesce(s.attributes.assignedTeams, []) AS assigned_team_ids,
       s.attributes.custom AS custom,
       s.attributes.externalId AS kustomer_external_id,
       coalesce(TRY_CAST(s.attributes.deleted AS BOOLEAN), false) AS deleted,
       coalesce(TRY_CAST(s.attributes.spam AS BOOLEAN), false) AS spam,
       coalesce(TRY_CAST(s.attributes.lastDone.createdAt AS TIMESTAMPTZ),
                TRY_CAST(s.attributes.firstDone.createdAt AS TIMESTAMPTZ)) AS done_at,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"name": "VARCHAR", "status": "VARCHAR", "priority": "JSON", "channels": ["VARCHAR"],
                       "tags": ["VARCHAR"], "assignedUsers": ["VARCHAR"], "assignedTeams": ["VARCHAR"],
                       "custom": "JSON", "externalId": "VARCHAR", "deleted": "JSON", "spam": "JSON",
                       "lastDone": {"createdAt": "VARCHAR"}, "firstDone": {"createdAt": "VARCHAR"}},
        "relationships": {"customer": {"data": {"id": "VARCHAR"}}}}') AS s
      FROM raw_kustomer_conversations);
