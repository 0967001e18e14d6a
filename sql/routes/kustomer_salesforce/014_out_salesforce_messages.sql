-- out_salesforce_messages: messages as EmailMessages (TextBody/HtmlBody at
-- most max_email_chars: longer bodies go on in continuation messages,
-- "(part 2 of 3)"), notes as private CaseComments (CommentBody at most
-- max_comment_bytes BYTES: split the same way).

-- Part size in characters: an email body's limit is in characters; a
-- comment's in bytes, and a character is at most 4 bytes, so a part of
-- max_comment_bytes/4 characters always fits (room is left for the
-- "[ferry …]" marker line). A body that fits is one part.
CREATE OR REPLACE TABLE out_salesforce_messages AS
WITH sized AS (
    SELECT t.*, coalesce(t.body, '') AS text,
           CASE WHEN t.kind = 'message' THEN CAST(setting('max_email_chars') AS INTEGER) - 200
                ELSE (CAST(setting('max_comment_bytes') AS INTEGER) - 200) // 4 END AS part_chars,
           CASE WHEN t.kind = 'message' THEN length(coalesce(t.body, '')) <= CAST(setting('max_email_chars') AS INTEGER) - 200
                ELSE strlen(coalesce(t.body, '')) <= CAST(setting('max_comment_bytes') AS INTEGER) - 200 END AS fits
    FROM int_case_thread t
), parts AS (
    SELECT s.*, CASE WHEN fits THEN 1 ELSE greatest(1, CAST(ceil(length(text) / part_chars) AS INTEGER)) END AS n_parts
    FROM sized s
)
SELECT CASE WHEN p.n_parts = 1 THEN p.item_id ELSE p.item_id || ':' || g.i END AS source_id,
       p.item_id, p.kind, p.conversation_id, p.position, g.i AS part, p.n_parts,
       CASE WHEN p.n_parts = 1 THEN p.text ELSE substr(p.text, (g.i - 1) * p.part_chars + 1, p.part_chars) END AS body,
       p.is_html, p.direction, p.channel, p.created_at, p.author_user_id, p.author_name, p.author_email,
       CASE WHEN g.i = 1 THEN p.attachment_ids ELSE []::VARCHAR[] END AS attachment_ids
FROM parts p, LATERAL (SELECT unnest(range(1, p.n_parts + 1)) AS i) g;
