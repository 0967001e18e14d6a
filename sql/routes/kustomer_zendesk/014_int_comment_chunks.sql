-- int_comment_chunks: each comment body cut into the pieces one Zendesk
-- comment holds (macros zd_comment_cut_*, private to this file).

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
CREATE OR REPLACE MACRO zd_comment_cut_fit(body, pos, lim) AS
    CASE WHEN strlen(substring(body, pos, lim)) <= lim THEN lim
         WHEN strlen(substring(body, pos, greatest(1, CAST(floor(lim * 0.97 * length(substring(body, pos, lim)) / strlen(substring(body, pos, lim))) AS BIGINT)))) <= lim
              THEN greatest(1, CAST(floor(lim * 0.97 * length(substring(body, pos, lim)) / strlen(substring(body, pos, lim))) AS BIGINT))
         ELSE greatest(1, lim // 4) END;

CREATE OR REPLACE MACRO zd_comment_cut_len(body, pos, lim, html) AS
    CASE WHEN html AND pos + zd_comment_cut_fit(body, pos, lim) <= length(body)
              AND strpos(reverse(substring(body, pos, zd_comment_cut_fit(body, pos, lim))), '>')
                  BETWEEN 1 AND zd_comment_cut_fit(body, pos, lim) // 2
         THEN zd_comment_cut_fit(body, pos, lim) - strpos(reverse(substring(body, pos, zd_comment_cut_fit(body, pos, lim))), '>') + 1
         ELSE zd_comment_cut_fit(body, pos, lim) END;

-- Bodies over the limit: split into consecutive comments (default) or
-- moved to an attached file (long_body_mode = attachment).
CREATE OR REPLACE TABLE int_comment_chunks AS
WITH RECURSIVE lim AS (
    SELECT CAST(setting('max_comment_bytes') AS BIGINT) - CAST(setting('comment_byte_margin') AS BIGINT) AS n,
           setting('long_body_mode') AS mode
), src AS (
    SELECT s.*, length(s.body) AS chars, strlen(s.body) AS bytes, lim.n, lim.mode
    FROM int_comment_source s, lim
    WHERE s.conversation_id IN (SELECT conversation_id FROM int_conversation_disposition WHERE disposition = 'load')
), cuts(source_id, chunk_no, pos, len) AS (
    SELECT source_id, 1, 1, zd_comment_cut_len(body, 1, n, is_html) FROM src WHERE bytes > n AND mode = 'split'
    UNION ALL
    SELECT c.source_id, c.chunk_no + 1, c.pos + c.len, zd_comment_cut_len(s.body, c.pos + c.len, s.n, s.is_html)
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
