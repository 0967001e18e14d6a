-- verify, route part: which destination rows the route outputs, and which
-- source records each of them carries. The generic funnel
-- (sql/verify/funnel.sql) joins these with the id map and the errors.
--   verify_rows     (phase, source_id)                  every row a load phase sends
--   verify_lineage  (object, source_id, phase, row_id)  a source record carried by a row;
--                   phase NULL: it travels inside other records (loaded once output)

-- Comments written after their ticket was imported: the ticket's import
-- (its batch in ferry_members) did not carry them, so they are loaded
-- by the comments phase, one row each. (A ticket imported before ferry
-- recorded its members is taken to carry all its comments.)
CREATE OR REPLACE TEMP TABLE verify_delta_comments AS
SELECT c.source_id, c.ticket_source_id
FROM out_zendesk_comments c
JOIN ferry_id_map t ON t.dest = getvariable('ferry_dest') AND t.dest_object = 'tickets' AND t.source_id = c.ticket_source_id
WHERE EXISTS (SELECT 1 FROM ferry_members mb
              WHERE mb.dest = t.dest AND mb.batch_id = t.batch_id AND mb.parent_source_id = t.source_id)
  AND NOT EXISTS (SELECT 1 FROM ferry_members mb
                  WHERE mb.dest = t.dest AND mb.batch_id = t.batch_id AND mb.parent_source_id = t.source_id
                    AND mb.source_id = c.source_id);

CREATE OR REPLACE TEMP TABLE verify_rows AS
          SELECT 'organizations' AS phase, source_id FROM out_zendesk_organizations
UNION ALL SELECT 'users', source_id FROM out_zendesk_users
UNION ALL SELECT 'agents', source_id FROM out_zendesk_agents
UNION ALL SELECT 'groups', source_id FROM out_zendesk_groups
UNION ALL SELECT 'tickets', source_id FROM out_zendesk_tickets
UNION ALL SELECT 'comments', source_id FROM verify_delta_comments
UNION ALL SELECT 'custom_objects', source_id FROM out_zendesk_custom_objects
UNION ALL SELECT 'custom_object_records', source_id FROM out_zendesk_custom_object_records
UNION ALL SELECT 'custom_object_links', source_id FROM out_zendesk_custom_object_links
UNION ALL SELECT 'uploads', a.attachment_id FROM stg_attachments a
          WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)
UNION ALL SELECT DISTINCT 'uploads', x.image_id FROM (SELECT unnest(inline_image_ids) AS image_id FROM out_zendesk_comments) x;

-- A source record spread over several rows (a split conversation, a
-- message in chunks, a wide kobject) is only as loaded as its least
-- loaded row.
CREATE OR REPLACE TEMP TABLE verify_lineage AS
          SELECT 'companies' AS object, source_id, 'organizations' AS phase, source_id AS row_id FROM out_zendesk_organizations
UNION ALL SELECT 'customers', source_id, 'users', source_id FROM out_zendesk_users
UNION ALL SELECT 'users', source_id, 'agents', source_id FROM out_zendesk_agents
UNION ALL SELECT 'teams', source_id, 'groups', source_id FROM out_zendesk_groups
UNION ALL SELECT 'attachments', a.attachment_id, 'uploads', a.attachment_id FROM stg_attachments a
          WHERE a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)
UNION ALL SELECT DISTINCT 'inline_images', x.image_id, 'uploads', x.image_id
          FROM (SELECT unnest(inline_image_ids) AS image_id FROM out_zendesk_comments) x
UNION ALL SELECT 'conversations', conversation_id, 'tickets', source_id FROM out_zendesk_tickets
UNION ALL SELECT CASE c.source_kind WHEN 'message' THEN 'messages' ELSE 'notes' END, c.source_record_id,
                 CASE WHEN d.source_id IS NULL THEN 'tickets' ELSE 'comments' END,
                 CASE WHEN d.source_id IS NULL THEN c.ticket_source_id ELSE c.source_id END
          FROM out_zendesk_comments c LEFT JOIN verify_delta_comments d ON d.source_id = c.source_id
          WHERE c.source_kind IN ('message', 'note')
UNION ALL SELECT 'klasses', klass_id, 'custom_objects', source_id FROM out_zendesk_custom_objects
UNION ALL SELECT 'kobjects', kobject_id, 'custom_object_records', source_id FROM out_zendesk_custom_object_records
UNION ALL SELECT 'kobjects', kobject_id, 'custom_object_links', source_id FROM out_zendesk_custom_object_links
-- Tags travel on tickets and users: applied, nothing to create.
UNION ALL SELECT 'tags', source_id, NULL, NULL FROM ferry_accounting WHERE object = 'tags' AND bucket = 'output';
