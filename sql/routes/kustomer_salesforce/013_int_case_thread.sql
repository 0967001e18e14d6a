-- int_case_thread: messages and notes of loaded conversations, in
-- thread order, each split into the parts its field can hold.

-- Messages and notes of loaded conversations, in thread order; each one
-- split into the parts its field can hold.
-- Inline images travel as files of their message (ContentVersions on the
-- Case, linked to the EmailMessage; int_attached_images of the source
-- layer, with its placeholder rule): a ContentVersion's download link is a
-- page of the org that needs a Salesforce session, not an image an email
-- body can show everywhere.
CREATE OR REPLACE TABLE int_case_thread AS
WITH src AS (
    SELECT 'message' AS kind, m.message_id AS item_id, m.conversation_id, m.sent_at AS created_at,
           kustomer_attached_body(m.body, i.hosted, i.gone) AS body,
           m.direction, m.channel, m.created_by AS author_user_id,
           m.attachment_ids || coalesce(i.image_ids, []) AS attachment_ids, coalesce(i.image_ids, []) AS inline_image_ids
    FROM stg_messages m
    LEFT JOIN int_attached_images i USING (message_id)
    UNION ALL
    SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, NULL, 'note', n.created_by, []::VARCHAR[], []::VARCHAR[]
    FROM stg_notes n
)
SELECT s.*, row_number() OVER (PARTITION BY s.conversation_id ORDER BY s.created_at, s.kind, s.item_id) AS position,
       s.body ILIKE '%<html%' OR s.body ILIKE '%<p>%' OR s.body ILIKE '%<br%' OR s.body ILIKE '%<div%' AS is_html,
       u.name AS author_name, u.email AS author_email
FROM src s
JOIN int_conversation_disposition d ON d.conversation_id = s.conversation_id AND d.disposition = 'load'
LEFT JOIN stg_users u ON u.user_id = s.author_user_id;
