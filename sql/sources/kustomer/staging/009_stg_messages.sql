-- stg_messages (Kustomer staging): one row per Kustomer record of messages, with the full body where ferry read it.

CREATE OR REPLACE TABLE stg_messages AS
WITH m AS (
SELECT id AS message_id,
       s.relationships.conversation.data.id AS conversation_id,
       s.relationships.customer.data.id AS customer_id,
       s.attributes.direction AS direction,
       s.attributes.channel AS channel,
       clean_text(coalesce(s.attributes.subject, s.attributes.meta.subject)) AS subject,
       -- An email's envelope (attributes.meta: from, to[].email).
       s.attributes.meta."from" AS email_from,
       list_filter(list_transform(coalesce(s.attributes.meta."to", []), lambda t: t.email), lambda e: e IS NOT NULL) AS email_to,
       s.attributes.preview AS preview,
       -- An email's preview is a plain-text snippet; any preview at the
       -- 10,240-character cap may be cut: the full content is needed.
       (s.attributes.channel = 'email' OR length(coalesce(s.attributes.preview, '')) >= 10240) AS needs_content,
       s.relationships.createdBy.data.id AS created_by,
       coalesce(TRY_CAST(s.attributes.sentAt AS TIMESTAMPTZ), created_at) AS sent_at,
       coalesce(list_transform(s.relationships.attachments.data, lambda a: a.id), []::VARCHAR[]) AS attachment_ids,
       created_at, updated_at
FROM (SELECT id, created_at, updated_at, json_transform(json, '{
        "attributes": {"direction": "VARCHAR", "channel": "VARCHAR", "subject": "VARCHAR", "preview": "VARCHAR", "sentAt": "VARCHAR",
                       "meta": {"from": "VARCHAR", "to": [{"email": "VARCHAR"}], "subject": "VARCHAR"}},
        "relationships": {"conversation": {"data": {"id": "VARCHAR"}}, "customer": {"data": {"id": "VARCHAR"}},
                          "createdBy": {"data": {"id": "VARCHAR"}}, "attachments": {"data": [{"id": "VARCHAR"}]}}}') AS s
      FROM raw_kustomer_messages))
SELECT m.message_id, m.conversation_id, m.customer_id, m.direction, m.channel, m.subject, m.email_from, m.email_to,
       -- The full content when ferry has it (HTML first), else the preview.
       safe_html(coalesce(c.html, c.text, m.preview, '')) AS body,
       m.preview,
       CASE WHEN coalesce(c.html, c.text) IS NOT NULL THEN 'content'
            WHEN m.needs_content THEN 'preview_only'
            ELSE 'preview' END AS body_source,
       -- False: the comment will carry a preview that may be cut short.
       coalesce(c.html, c.text) IS NOT NULL OR NOT m.needs_content AS body_complete,
       m.created_by, m.sent_at, m.attachment_ids, m.created_at, m.updated_at
FROM m LEFT JOIN stg_message_contents c USING (message_id);
