-- verify, source part: records staged per source object (verify_staged:
-- object, n), for every route from this source. The route's
-- verify/lineage.sql says which destination rows carry them; the generic
-- funnel (sql/verify/funnel.sql) joins the two.

CREATE OR REPLACE TEMP TABLE verify_staged AS
          SELECT 'users' AS object, count(*) AS n FROM stg_users
UNION ALL SELECT 'teams', count(*) FROM stg_teams
UNION ALL SELECT 'tags', count(*) FROM stg_tags
UNION ALL SELECT 'klasses', count(*) FROM stg_klasses
UNION ALL SELECT 'companies', count(*) FROM stg_companies
UNION ALL SELECT 'customers', count(*) FROM stg_customers
UNION ALL SELECT 'conversations', count(*) FROM stg_conversations
UNION ALL SELECT 'messages', count(*) FROM stg_messages
UNION ALL SELECT 'message_contents', count(*) FROM stg_message_contents
UNION ALL SELECT 'notes', count(*) FROM stg_notes
UNION ALL SELECT 'kobjects', count(*) FROM stg_kobjects
UNION ALL SELECT 'attachments', count(*) FROM stg_attachments;
