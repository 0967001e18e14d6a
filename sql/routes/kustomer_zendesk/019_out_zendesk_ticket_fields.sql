-- out_zendesk_ticket_fields: Kustomer conversation custom attributes →
-- Zendesk ticket fields.

-- Conversation custom attributes → ticket fields (created before the
-- tickets; tickets reference them by Zendesk id).
-- A reference to a KObject (Kustomer's `Id` suffix) is a lookup field to
-- the custom object of the klass the data shows it pointing at (Lookup
-- Relationships: a ticket field of type "lookup" with
-- relationship_target_type "zen:custom_object:{key}"); the ticket names
-- the record by its external id once it is loaded (load/tickets.sql).
CREATE OR REPLACE TABLE out_zendesk_ticket_fields AS
WITH targets AS (
    SELECT attribute, mode(ref_klass_id) AS target_klass_id
    FROM int_custom_attributes WHERE object = 'conversations' AND ref_klass_id IS NOT NULL
    GROUP BY ALL
)
SELECT DISTINCT zd_field_key(x.k) AS key,
       CASE WHEN tk.klass_id IS NOT NULL THEN 'lookup' ELSE zd_field_type(x.k) END AS type,
       x.k AS kustomer_key,
       CASE WHEN tk.klass_id IS NOT NULL THEN 'zen:custom_object:' || zd_object_key(tk.name, 1) END AS relationship_target_type
FROM stg_conversations, unnest(json_keys(coalesce(custom, '{}'::JSON))) AS x(k)
LEFT JOIN targets t ON t.attribute = x.k
LEFT JOIN stg_klasses tk ON tk.klass_id = t.target_klass_id
-- Kustomer's own externalId (the ticket's external_id is the Kustomer id).
UNION ALL SELECT 'kustomer_external_id', 'text', 'Kustomer externalId', NULL
          WHERE EXISTS (SELECT 1 FROM stg_conversations WHERE nullif(trim(kustomer_external_id), '') IS NOT NULL)
-- The conversation's channel: a ticket's via cannot be set on import
-- (reference/zendesk-api.md), and the channel_<name> tag exists only for
-- a mapped channel (seeds/channel_via_map.csv).
UNION ALL SELECT 'kustomer_channel', 'text', 'Kustomer channel', NULL
          WHERE EXISTS (SELECT 1 FROM stg_conversations WHERE channel IS NOT NULL);
