-- int_comment_order: each conversation's comments in source-time order.

-- Order by source time (never extraction order); ties by kind and id.
-- (The window runs over keys only, then joins back: sorting rows that
-- carry whole bodies is what makes big transforms slow.)
CREATE OR REPLACE TABLE int_comment_order AS
WITH k AS (
    SELECT source_id, chunk_no,
           row_number() OVER (PARTITION BY conversation_id ORDER BY created_at, kind, source_id, chunk_no) AS seq,
           count(*) OVER (PARTITION BY conversation_id) AS total
    FROM int_comment_chunks
)
SELECT c.*, k.seq, k.total FROM int_comment_chunks c JOIN k USING (source_id, chunk_no);
