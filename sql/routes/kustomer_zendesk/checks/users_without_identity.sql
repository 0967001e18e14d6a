-- Users Zendesk could not identify: no email, no phone, no external id.
SELECT source_id, name FROM out_zendesk_users
WHERE email IS NULL AND phone IS NULL AND external_id IS NULL;
