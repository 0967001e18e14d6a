-- verify, source part: records staged per source object (verify_staged:
-- object, n), for every route from this source. The route's
-- verify/lineage.sql says which destination rows carry them; the generic
-- funnel (sql/verify/funnel.sql) joins the two.

CREATE OR REPLACE TEMP TABLE verify_staged AS
          SELECT 'admins' AS object, count(*) AS n FROM stg_admins
UNION ALL SELECT 'teams', count(*) FROM stg_teams
UNION ALL SELECT 'tags', count(*) FROM stg_tags
UNION ALL SELECT 'data_attributes', count(*) FROM stg_data_attributes
UNION ALL SELECT 'ticket_types', count(*) FROM stg_ticket_types
UNION ALL SELECT 'companies', count(*) FROM stg_companies
UNION ALL SELECT 'contacts', count(*) FROM stg_contacts
UNION ALL SELECT 'contact_notes', count(*) FROM stg_contact_notes
UNION ALL SELECT 'conversations', count(*) FROM stg_conversations
UNION ALL SELECT 'attachments', count(*) FROM stg_attachments
UNION ALL SELECT 'tickets', count(*) FROM stg_tickets;
