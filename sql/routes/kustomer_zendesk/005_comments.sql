-- 005 comments: messages and notes of the conversations that load →
-- Zendesk comments in source-timestamp order, bodies over the byte limit split,
-- conversations over the comment limit split into linked parts.

-- Which conversations load, are excluded or archived: the source layer's
-- intermediate/002_conversation_disposition.sql (by seeds/transform_settings.csv).
-- Messages and notes of one conversation, one row each, with their author.
CREATE OR REPLACE TABLE comment_source AS
SELECT 'message' AS kind, m.message_id AS source_id, m.conversation_id, m.sent_at AS created_at,
       m.body, m.body ILIKE '%<html%' OR m.body ILIKE '%<p>%' OR m.body ILIKE '%<br%' AS is_html,
       true AS public,
       CASE WHEN m.direction = 'in' THEN 'customer' ELSE 'agent' END AS author_kind,
       CASE WHEN m.direction = 'in' THEN cc.canonical_id ELSE m.created_by END AS author_source_id,
       m.attachment_ids
FROM stg_messages m
LEFT JOIN stg_conversations c USING (conversation_id)
LEFT JOIN customer_canonical cc ON cc.customer_id = coalesce(c.customer_id, m.customer_id)
UNION ALL
SELECT 'note', n.note_id, n.conversation_id, n.created_at, n.body, false, false, 'agent', n.created_by, []::VARCHAR[]
FROM stg_notes n;

-- Zendesk's comment limit is one of bytes (about 64 KB, HTML included),
-- not characters: a body of accented or CJK text reaches it with far
-- fewer characters. A piece is cut at `max_comment_bytes` less
-- `comment_byte_margin` bytes (room for what Zendesk's HTML sanitizer
-- adds, e.g. `&` → `&amp;`), never inside a UTF-8 character, and an HTML
-- piece ends after a tag's `>` when one is in its second half, so no tag
-- is cut in two.
--
-- comment_cut_fit: characters from `pos` that fit in `lim` bytes. First
-- try `lim` characters (ASCII), then the share the density of that
-- stretch allows, then the worst case of 4 bytes a character.
CREATE OR REPLACE MACRO comment_cut_fit(body, pos, lim) AS
    CASE WHEN strlen(substring(body, pos, lim)) <= lim THEN lim
         WHEN strlen(substring(body, pos, greatest(1, CAST(floor(lim * 0.97 * length(substring(body, pos, lim)) / strlen(substring(body, pos, lim))) AS BIGINT)))) <= lim
              THEN greatest(1, CAST(floor(lim * 0.97 * length(substring(body, pos, lim)) / strlen(substring(body, pos, lim))) AS BIGINT))
         ELSE greatest(1, lim // 4) END;
CREATE OR REPLACE MACRO comment_cut_len(body, pos, lim, html) AS
    CASE WHEN html AND pos + comment_cut_fit(body, pos, lim) <= length(body)
              AND strpos(reverse(substring(body, pos, comment_cut_fit(body, pos, lim))), '>')
                  BETWEEN 1 AND comment_cut_fit(body, pos, lim) // 2
         THEN comment_cut_fit(body, pos, lim) - strpos(reverse(substring(body, pos, comment_cut_fit(body, pos, lim))), '>') + 1
         ELSE comment_cut_fit(body, pos, lim) END;

-- Bodies over the limit: split into consecutive comments (default) or
-- moved to an attached file (long_body_mode = attachment).
CREATE OR REPLACE TABLE comment_chunks AS
WITH RECURSIVE lim AS (
    SELECT CAST(setting('max_comment_bytes') AS BIGINT) - CAST(setting('comment_byte_margin') AS BIGINT) AS n,
           setting('long_body_mode') AS mode
), src AS (
    SELECT s.*, length(s.body) AS chars, strlen(s.body) AS bytes, lim.n, lim.mode
    FROM comment_source s, lim
    WHERE s.conversation_id IN (SELECT conversation_id FROM conversation_disposition WHERE disposition = 'load')
), cuts(source_id, chunk_no, pos, len) AS (
    SELECT source_id, 1, 1, comment_cut_len(body, 1, n, is_html) FROM src WHERE bytes > n AND mode = 'split'
    UNION ALL
    SELECT c.source_id, c.chunk_no + 1, c.pos + c.len, comment_cut_len(s.body, c.pos + c.len, s.n, s.is_html)
    FROM cuts c JOIN src s ON s.source_id = c.source_id
    WHERE c.pos + c.len <= s.chars
), split AS (
    SELECT source_id, chunk_no, pos, len, count(*) OVER (PARTITION BY source_id) AS chunk_count FROM cuts
)
SELECT src.* EXCLUDE (body, n, mode, bytes),
       coalesce(sp.chunk_count, 1) AS chunk_count,
       coalesce(sp.chunk_no, 1) AS chunk_no,
       CASE WHEN sp.source_id IS NOT NULL THEN substring(src.body, sp.pos, sp.len)
            WHEN src.bytes > src.n THEN '[This message had ' || src.chars || ' characters (' || src.bytes
                 || ' bytes), more than a Zendesk comment holds. The full text is attached as message-' || src.source_id || '.html]'
            ELSE src.body END AS text,
       src.bytes > src.n AND sp.source_id IS NULL AS moved_to_attachment
FROM src LEFT JOIN split sp ON sp.source_id = src.source_id;

-- Bodies moved to an attachment (long_body_mode = attachment).
CREATE OR REPLACE TABLE long_body_attachments AS
SELECT s.source_id, s.conversation_id, 'message-' || s.source_id || '.html' AS file_name, s.body AS content, length(s.body) AS chars
FROM comment_source s JOIN comment_chunks c ON c.source_id = s.source_id AND c.moved_to_attachment;

-- Order by source time (never extraction order); ties by kind and id.
-- (The window runs over keys only, then joins back: sorting rows that
-- carry whole bodies is what makes big transforms slow.)
CREATE OR REPLACE TABLE comment_order AS
WITH k AS (
    SELECT source_id, chunk_no,
           row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, kind, source_id, chunk_no) AS seq,
           count(*) OVER (PARTITION BY conversation_id) AS total
    FROM comment_chunks
)
SELECT c.*, k.seq, k.total FROM comment_chunks c JOIN k USING (source_id, chunk_no);

-- Conversations over the per-ticket limit become parts of limit-1 comments:
-- each part gets one more (internal) comment linking the parts.
CREATE OR REPLACE TABLE ticket_parts AS
WITH lim AS (SELECT CAST(setting('max_comments_per_ticket') AS BIGINT) AS n)
SELECT conversation_id, max(total) AS comments,
       CASE WHEN max(total) > lim.n THEN CAST(ceil(max(total) / (lim.n - 1)) AS BIGINT) ELSE 1 END AS part_count,
       any_value(lim.n) AS lim
FROM comment_order, lim GROUP BY conversation_id, lim.n;

CREATE OR REPLACE MACRO ticket_source_id(conv, part, parts) AS CASE WHEN parts > 1 THEN conv || '-part' || part ELSE conv END;

-- Position in the ticket is arithmetic, not a window: `seq` numbers a
-- conversation's comments 1..n without gaps and part p holds seq values
-- (p-1)*(lim-1)+1 .. p*(lim-1), its link comment last. (A window over all
-- comments joined back by id was most of this script's time and memory.)
CREATE OR REPLACE TABLE out_zendesk_comments AS
WITH placed AS (
    SELECT o.*, p.part_count, p.lim,
           CASE WHEN p.part_count > 1 THEN (o.seq - 1) // (p.lim - 1) + 1 ELSE 1 END AS part_no
    FROM comment_order o JOIN ticket_parts p USING (conversation_id)
), real AS (
    SELECT CASE WHEN chunk_count > 1 THEN source_id || '#' || chunk_no ELSE source_id END AS source_id,
           kind AS source_kind, source_id AS source_record_id, conversation_id,
           ticket_source_id(conversation_id, part_no, part_count) AS ticket_source_id,
           part_no, seq, author_kind, author_source_id, public,
           -- HTML stays HTML in every piece of a split body (in `body` it
           -- would show as markup).
           CASE WHEN is_html AND NOT moved_to_attachment THEN NULL ELSE text END AS body,
           CASE WHEN is_html AND NOT moved_to_attachment THEN text END AS html_body,
           created_at,
           CASE WHEN chunk_no = 1 THEN attachment_ids ELSE []::VARCHAR[] END AS attachment_ids,
           CASE WHEN chunk_no = 1 AND moved_to_attachment THEN ['message-' || source_id || '.html'] ELSE []::VARCHAR[] END AS generated_files,
           CASE WHEN is_html THEN regexp_extract_all(text, '<img[^>]+src="([^"]+)"', 1) ELSE []::VARCHAR[] END AS inline_image_urls,
           chunk_no, chunk_count, false AS synthetic,
           seq - (part_no - 1) * (lim - 1) AS position
    FROM placed
), links AS (
    SELECT conversation_id || '-part' || part_no || '#link' AS source_id, 'link' AS source_kind, NULL AS source_record_id,
           conversation_id, ticket_source_id(conversation_id, part_no, part_count) AS ticket_source_id, part_no,
           max(seq) + 0.5 AS seq, 'agent' AS author_kind, NULL AS author_source_id, false AS public,
           'This Kustomer conversation (' || conversation_id || ') has more comments than one Zendesk ticket holds. '
           || 'It was imported as ' || part_count || ' linked tickets; this is part ' || part_no || ' of ' || part_count
           || '. Other parts: ' || array_to_string(list_transform(list_filter(range(1, part_count + 1), lambda x: x <> part_no),
                                                                  lambda x: conversation_id || '-part' || x), ', ') AS body,
           NULL AS html_body, max(created_at) AS created_at, []::VARCHAR[] AS attachment_ids, []::VARCHAR[] AS generated_files,
           []::VARCHAR[] AS inline_image_urls, 1 AS chunk_no, 1 AS chunk_count, true AS synthetic,
           max(seq) - (part_no - 1) * (lim - 1) + 1 AS position
    FROM placed WHERE part_count > 1
    GROUP BY conversation_id, part_no, part_count, lim
)
SELECT * EXCLUDE (seq) FROM (SELECT * FROM real UNION ALL BY NAME SELECT * FROM links);
