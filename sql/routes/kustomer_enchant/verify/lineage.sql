-- verify, route part: which destination rows the route outputs, and which
-- source records each carries (see sql/verify/funnel.sql).
CREATE OR REPLACE TEMP TABLE verify_rows AS
          SELECT 'agents' AS phase, source_id FROM out_enchant_agents
UNION ALL SELECT 'customers', source_id FROM out_enchant_customers
UNION ALL SELECT 'tickets', source_id FROM out_enchant_tickets
UNION ALL SELECT 'ticket_state', source_id FROM out_enchant_tickets
UNION ALL SELECT 'messages', source_id FROM out_enchant_messages
UNION ALL SELECT 'kobject_notes', source_id FROM out_enchant_kobject_notes
UNION ALL SELECT 'attachments', a.attachment_id FROM stg_attachments a
          WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_enchant_messages)
UNION ALL SELECT DISTINCT 'attachments', x.image_id FROM (SELECT unnest(inline_image_ids) AS image_id FROM out_enchant_messages) x;

-- A conversation is loaded once its ticket exists and its state is set.
CREATE OR REPLACE TEMP TABLE verify_lineage AS
          SELECT 'users' AS object, source_id, 'agents' AS phase, source_id AS row_id FROM out_enchant_agents
UNION ALL SELECT 'customers', source_id, 'customers', source_id FROM out_enchant_customers
UNION ALL SELECT 'conversations', source_id, 'tickets', source_id FROM out_enchant_tickets
UNION ALL SELECT 'conversations', source_id, 'ticket_state', source_id FROM out_enchant_tickets
UNION ALL SELECT CASE kind WHEN 'message' THEN 'messages' ELSE 'notes' END, source_id, 'messages', source_id FROM out_enchant_messages
UNION ALL SELECT 'attachments', a.attachment_id, 'attachments', a.attachment_id FROM stg_attachments a
          WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_enchant_messages)
UNION ALL SELECT DISTINCT 'inline_images', x.image_id, 'attachments', x.image_id
          FROM (SELECT unnest(inline_image_ids) AS image_id FROM out_enchant_messages) x
UNION ALL SELECT 'kobjects', unnest(kobject_ids), 'kobject_notes', source_id FROM out_enchant_kobject_notes
UNION ALL SELECT 'tags', source_id, NULL, NULL FROM ferry_accounting WHERE object = 'tags' AND bucket = 'output';
