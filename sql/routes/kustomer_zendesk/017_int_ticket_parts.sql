-- int_ticket_parts: how many tickets each conversation becomes.

-- Conversations over the per-ticket limit become parts of limit-1 comments:
-- each part gets one more (internal) comment linking the parts.
CREATE OR REPLACE TABLE int_ticket_parts AS
WITH lim AS (SELECT CAST(setting('max_comments_per_ticket') AS BIGINT) AS n)
SELECT conversation_id, max(total) AS comments,
       CASE WHEN max(total) > lim.n THEN CAST(ceil(max(total) / (lim.n - 1)) AS BIGINT) ELSE 1 END AS part_count,
       any_value(lim.n) AS lim
FROM int_comment_order, lim GROUP BY conversation_id, lim.n;
