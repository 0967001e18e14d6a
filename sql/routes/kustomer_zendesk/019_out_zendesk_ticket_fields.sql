-- out_zendesk_ticket_fields: Kustomer conversation custom attributes →
-- Zendesk ticket fields.

-- Conversation custom attributes → ticket fields (created before the
-- tickets; tickets reference them by Zendesk id).
CREATE OR REPLACE TABLE out_zendesk_ticket_fields AS
SELECT DISTINCT zd_field_key(k) AS key, zd_field_type(k) AS type, k AS kustomer_key
FROM stg_conversations, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS t(k);
