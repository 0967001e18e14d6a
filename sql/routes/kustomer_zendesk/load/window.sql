-- Numbers the pending tickets' upload windows into load_window: in send
-- order, a new window starts once ferry_per_window attachments are behind
-- it, so each window's tokens are used minutes after they were issued, or
-- after ferry_window_rows tickets. Both counts only grow along the send
-- order, so (upload part, ticket part) numbers the windows in that order.
CREATE OR REPLACE TABLE load_window AS
WITH n AS (
    SELECT ticket_source_id, sum(len(attachment_ids) + len(inline_image_ids)) AS n FROM out_zendesk_comments GROUP BY ALL
), o AS (
    SELECT t.source_id,
           sum(coalesce(n.n, 0)) OVER (ORDER BY zendesk_ticket_rank(t.status), t.source_id
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
           row_number() OVER (ORDER BY zendesk_ticket_rank(t.status), t.source_id) - 1 AS pos
    FROM out_zendesk_tickets t LEFT JOIN n ON n.ticket_source_id = t.source_id
    WHERE ferry_pending('tickets', t.source_id)
)
SELECT source_id,
       ((coalesce(before, 0) // getvariable('ferry_per_window')) * 1000000000
        + pos // getvariable('ferry_window_rows'))::BIGINT AS win
FROM o;
