-- int_source_fields (Intercom): every attribute path of every extracted
-- object, walked one object at a time (shared/002_int_source_fields.sql:
-- one query over all objects at once does not fit a small memory limit).
-- checks/fields_walked.sql fails when an extracted object is missing here.
INSERT INTO int_source_fields SELECT * FROM source_fields('admins', 'raw_intercom_admins');
INSERT INTO int_source_fields SELECT * FROM source_fields('teams', 'raw_intercom_teams');
INSERT INTO int_source_fields SELECT * FROM source_fields('tags', 'raw_intercom_tags');
INSERT INTO int_source_fields SELECT * FROM source_fields('segments', 'raw_intercom_segments');
INSERT INTO int_source_fields SELECT * FROM source_fields('data_attributes', 'raw_intercom_data_attributes');
INSERT INTO int_source_fields SELECT * FROM source_fields('ticket_types', 'raw_intercom_ticket_types');
INSERT INTO int_source_fields SELECT * FROM source_fields('collections', 'raw_intercom_collections');
INSERT INTO int_source_fields SELECT * FROM source_fields('articles', 'raw_intercom_articles');
INSERT INTO int_source_fields SELECT * FROM source_fields('article_images', 'raw_intercom_article_images');
INSERT INTO int_source_fields SELECT * FROM source_fields('companies', 'raw_intercom_companies');
INSERT INTO int_source_fields SELECT * FROM source_fields('contacts', 'raw_intercom_contacts');
INSERT INTO int_source_fields SELECT * FROM source_fields('contact_notes', 'raw_intercom_contact_notes');
INSERT INTO int_source_fields SELECT * FROM source_fields('segment_members', 'raw_intercom_segment_members');
INSERT INTO int_source_fields SELECT * FROM source_fields('conversations', 'raw_intercom_conversations');
INSERT INTO int_source_fields SELECT * FROM source_fields('attachments', 'raw_intercom_attachments');
INSERT INTO int_source_fields SELECT * FROM source_fields('tickets', 'raw_intercom_tickets');
INSERT INTO int_source_fields SELECT * FROM source_fields('event_summaries', 'raw_intercom_event_summaries');
