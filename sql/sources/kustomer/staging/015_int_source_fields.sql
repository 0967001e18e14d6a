-- int_source_fields (Kustomer): every attribute path of every extracted
-- object, walked one object at a time (shared/002_int_source_fields.sql:
-- one query over all objects at once does not fit a small memory limit).
-- checks/fields_walked.sql fails when an extracted object is missing here.
INSERT INTO int_source_fields SELECT * FROM source_fields('users', 'raw_kustomer_users');
INSERT INTO int_source_fields SELECT * FROM source_fields('teams', 'raw_kustomer_teams');
INSERT INTO int_source_fields SELECT * FROM source_fields('tags', 'raw_kustomer_tags');
INSERT INTO int_source_fields SELECT * FROM source_fields('klasses', 'raw_kustomer_klasses');
INSERT INTO int_source_fields SELECT * FROM source_fields('companies', 'raw_kustomer_companies');
INSERT INTO int_source_fields SELECT * FROM source_fields('customers', 'raw_kustomer_customers');
INSERT INTO int_source_fields SELECT * FROM source_fields('conversations', 'raw_kustomer_conversations');
INSERT INTO int_source_fields SELECT * FROM source_fields('messages', 'raw_kustomer_messages');
INSERT INTO int_source_fields SELECT * FROM source_fields('message_contents', 'raw_kustomer_message_contents');
INSERT INTO int_source_fields SELECT * FROM source_fields('notes', 'raw_kustomer_notes');
INSERT INTO int_source_fields SELECT * FROM source_fields('kobjects', 'raw_kustomer_kobjects');
INSERT INTO int_source_fields SELECT * FROM source_fields('attachments', 'raw_kustomer_attachments');
INSERT INTO int_source_fields SELECT * FROM source_fields('inline_images', 'raw_kustomer_inline_images');
INSERT INTO int_source_fields SELECT * FROM source_fields('shortcuts', 'raw_kustomer_shortcuts');
INSERT INTO int_source_fields SELECT * FROM source_fields('slas', 'raw_kustomer_slas');
INSERT INTO int_source_fields SELECT * FROM source_fields('audit_logs', 'raw_kustomer_audit_logs');
INSERT INTO int_source_fields SELECT * FROM source_fields('customer_events', 'raw_kustomer_customer_events');
