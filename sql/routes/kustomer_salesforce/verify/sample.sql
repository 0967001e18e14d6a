-- verify: the stratified sample of loaded Cases to read back, with what
-- each should hold. Ids, order and kinds come from the raw Kustomer JSON
-- (raw_kustomer_*, as extracted), not from the out_salesforce_* tables the load
-- sent; the body text is the staged one (rule `safe_html`).
CREATE OR REPLACE TEMP TABLE verify_expected AS
WITH images AS (
    -- Rule: each inline image of a body is a file of its message, its
    -- <img> "[image <file>: attached to this message]"; one the extract
    -- could not fetch "[image <file>: gone from Kustomer before the
    -- migration]" (verify/macros.sql of the Kustomer source).
    SELECT message_id, hosted, len(files) AS files FROM kustomer_verify_inline_images()
), gone AS (
    SELECT * FROM kustomer_verify_gone_images()
), loaded AS (
    SELECT m.source_id, m.dest_id, c.created_at,
           json_extract_string(c.json, '$.attributes.status') AS status
    FROM ferry_id_map m JOIN raw_kustomer_conversations c ON c.id = m.source_id
    WHERE m.dest = 'salesforce' AND m.dest_object = 'cases'
      -- not a Case a cutover deleted on purpose (deleted_in_source = "delete")
      AND NOT EXISTS (SELECT 1 FROM ferry_changes x WHERE x.dest = 'salesforce' AND x.dest_object = 'cases'
                      AND x.dest_id = m.dest_id AND x.action = 'delete' AND x.status = 'applied')
), msgs AS (
    SELECT 'message' AS kind, json_extract_string(r.json, '$.relationships.conversation.data.id') AS conversation_id, r.id,
           coalesce(TRY_CAST(json_extract_string(r.json, '$.attributes.sentAt') AS TIMESTAMPTZ), r.created_at) AS at,
           json_extract_string(r.json, '$.attributes.direction') = 'in' AS incoming,
           kustomer_replace_images(kustomer_drop_gone_images(s.body, g.gone), i.hosted, 'attached to this message') AS text,
           s.body AS source_html,
           (SELECT count(*) FROM raw_kustomer_attachments a WHERE json_extract_string(a.json, '$.relationships.message.data.id') = r.id)
               + coalesce(i.files, 0) AS files
    FROM raw_kustomer_messages r JOIN stg_messages s ON s.message_id = r.id
    LEFT JOIN images i ON i.message_id = r.id
    LEFT JOIN gone g ON g.message_id = r.id
    UNION ALL
    SELECT 'note', json_extract_string(r.json, '$.relationships.conversation.data.id'), r.id, r.created_at, false, s.body, s.body, 0
    FROM raw_kustomer_notes r JOIN stg_notes s ON s.note_id = r.id
)
SELECT l.source_id, l.dest_id, l.status, l.created_at,
       list({id: m.id, kind: m.kind, incoming: m.incoming, text: m.text, source_html: m.source_html, files: m.files} ORDER BY m.at, m.kind, m.id) FILTER (WHERE m.id IS NOT NULL) AS messages,
       count(m.id) AS n
FROM loaded l LEFT JOIN msgs m ON m.conversation_id = l.source_id
GROUP BY ALL;

-- The picks: engine/verify_macros.sql (ferry_verify_picks), one rule for
-- every route that samples this way.
CREATE OR REPLACE TABLE verify_sample AS
SELECT e.source_id, e.dest_id, p.stratum,
       to_json({status: (SELECT case_status FROM status_map WHERE kustomer_status = e.status),
                messages: e.messages}) AS expected
FROM ferry_verify_picks('verify_expected') p JOIN verify_expected e USING (source_id)
ORDER BY p.prio, hash(e.source_id)
LIMIT getvariable('verify_sample');

COMMENT ON TABLE verify_sample IS 'ferry verify: the conversations the last verify read back from the destination, with their stratum';
