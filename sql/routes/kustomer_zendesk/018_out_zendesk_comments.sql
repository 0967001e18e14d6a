-- out_zendesk_comments: messages and notes of the conversations that load →
-- Zendesk comments in source-timestamp order, bodies over the byte limit
-- split, conversations over the comment limit split into linked parts.

-- Position in the ticket is arithmetic, not a window: `seq` numbers a
-- conversation's comments 1..n without gaps and part p holds seq values
-- (p-1)*(lim-1)+1 .. p*(lim-1), its link comment last. (A window over all
-- comments joined back by id was most of this script's time and memory.)
CREATE OR REPLACE TABLE out_zendesk_comments AS
WITH placed AS (
    SELECT o.*, p.part_count, p.lim,
           CASE WHEN p.part_count > 1 THEN (o.seq - 1) // (p.lim - 1) + 1 ELSE 1 END AS part_no
    FROM int_comment_order o JOIN int_ticket_parts p USING (conversation_id)
), real AS (
    SELECT CASE WHEN chunk_count > 1 THEN source_id || '#' || chunk_no ELSE source_id END AS source_id,
           kind AS source_kind, source_id AS source_record_id, conversation_id,
           zd_ticket_source_id(conversation_id, part_no, part_count) AS ticket_source_id,
           part_no, seq, author_kind, author_source_id, public,
           -- HTML stays HTML in every piece of a split body (in `body` it
           -- would show as markup).
           CASE WHEN is_html AND NOT moved_to_attachment THEN NULL ELSE text END AS body,
           CASE WHEN is_html AND NOT moved_to_attachment THEN text END AS html_body,
           created_at,
           CASE WHEN chunk_no = 1 THEN attachment_ids ELSE []::VARCHAR[] END AS attachment_ids,
           CASE WHEN chunk_no = 1 AND moved_to_attachment THEN ['message-' || source_id || '.html'] ELSE []::VARCHAR[] END AS generated_files,
           CASE WHEN is_html THEN regexp_extract_all(text, '<img[^>]+src="([^"]+)"', 1) ELSE []::VARCHAR[] END AS inline_image_urls,
           -- The inline images this piece of the body shows (stg_inline_images,
           -- bytes downloaded): uploaded with the comment, their src
           -- rewritten to Zendesk's URL by the load (load/tickets.sql).
           CASE WHEN is_html AND NOT moved_to_attachment
                THEN coalesce(list_transform(list_filter(img.images, lambda x: strpos(text, x.src) > 0), lambda x: x.id), [])
                ELSE [] END::VARCHAR[] AS inline_image_ids,
           chunk_no, chunk_count, false AS synthetic,
           seq - (part_no - 1) * (lim - 1) AS position
    FROM placed
    LEFT JOIN (SELECT message_id, list({id: image_id, src: src} ORDER BY position) AS images
               FROM stg_inline_images WHERE sha256 IS NOT NULL GROUP BY message_id) img
           ON img.message_id = placed.source_id AND placed.kind = 'message'
), links AS (
    SELECT conversation_id || '-part' || part_no || '#link' AS source_id, 'link' AS source_kind, NULL AS source_record_id,
           conversation_id, zd_ticket_source_id(conversation_id, part_no, part_count) AS ticket_source_id, part_no,
           max(seq) + 0.5 AS seq, 'agent' AS author_kind, NULL AS author_source_id, false AS public,
           'This Kustomer conversation (' || conversation_id || ') has more comments than one Zendesk ticket holds. '
           || 'It was imported as ' || part_count || ' linked tickets; this is part ' || part_no || ' of ' || part_count
           || '. Other parts: ' || array_to_string(list_transform(list_filter(range(1, part_count + 1), lambda x: x <> part_no),
                                                                  lambda x: conversation_id || '-part' || x), ', ') AS body,
           NULL AS html_body, max(created_at) AS created_at, []::VARCHAR[] AS attachment_ids, []::VARCHAR[] AS generated_files,
           []::VARCHAR[] AS inline_image_urls, []::VARCHAR[] AS inline_image_ids, 1 AS chunk_no, 1 AS chunk_count, true AS synthetic,
           max(seq) - (part_no - 1) * (lim - 1) + 1 AS position
    FROM placed WHERE part_count > 1
    GROUP BY conversation_id, part_no, part_count, lim
)
SELECT * EXCLUDE (seq) FROM (SELECT * FROM real UNION ALL BY NAME SELECT * FROM links);
