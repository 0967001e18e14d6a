-- out_zendesk_ticket_fields: Kustomer conversation custom attributes →
-- Zendesk ticket fields.

-- Conversation custom attributes → ticket fields (created before the
-- tickets; tickets reference them by Zendesk id).
CREATE OR REPLACE TABLE out_zendesk_ticket_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_conversations, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k)
-- Kustomer's own externalId (the ticket's external_id is the Kustomer id).
UNION ALL SELECT 'kustomer_external_id', 'text', 'Kustomer externalId'
          WHERE EXISTS (SELECT 1 FROM stg_conversations WHERE nullif(trim(kustomer_external_id), '') IS NOT NULL)
-- The conversation's channel: a ticket's via cannot be set on import
-- (reference/zendesk-api.md), and the channel_<name> tag exists only for
-- a mapped channel (seeds/channel_via_map.csv).
UNION ALL SELECT 'kustomer_channel', 'text', 'Kustomer channel'
          WHERE EXISTS (SELECT 1 FROM stg_conversations WHERE channel IS NOT NULL);
