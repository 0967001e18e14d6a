-- verify: the stratified sample of loaded conversations to read back, with
-- what each should hold, derived from the raw Intercom JSON
-- (raw_intercom_*, as extracted), not from the out_kustomer_* tables the load
-- sent: the thread is the conversation's `source` then its `comment` and
-- `note` parts with a body, in order; an admin's part is `out` and names
-- the Kustomer user matched to that admin; files are every attachment and
-- inline image landed for the part, by SHA-256.
CREATE OR REPLACE TABLE verify_sample AS
WITH loaded AS (
    SELECT m.source_id, m.dest_id, r.json, r.created_at
    FROM ferry_id_map m JOIN raw_intercom_conversations r ON r.id = m.source_id
    WHERE m.dest = 'kustomer' AND m.dest_object = 'conversations'
), users AS (
    SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = 'users'
), parts AS (
    SELECT l.source_id AS conv, l.source_id || ':source' AS ext, -1 AS pos, 'message' AS kind,
           json_extract_string(l.json, '$.source.author.type') AS author_type,
           json_extract_string(l.json, '$.source.author.id') AS author_id,
           json_extract_string(l.json, '$.source.body') AS body,
           to_timestamp(CAST(json_extract(l.json, '$.created_at') AS BIGINT)) AS at
    FROM loaded l
    UNION ALL
    SELECT l.source_id, json_extract_string(p.value, '$.id'), CAST(p.key AS INTEGER),
           CASE json_extract_string(p.value, '$.part_type') WHEN 'note' THEN 'note' ELSE 'message' END,
           json_extract_string(p.value, '$.author.type'), json_extract_string(p.value, '$.author.id'),
           json_extract_string(p.value, '$.body'),
           to_timestamp(CAST(json_extract(p.value, '$.created_at') AS BIGINT))
    FROM loaded l, json_each(l.json, '$.conversation_parts.conversation_parts') p
    WHERE json_extract_string(p.value, '$.part_type') IN ('comment', 'note')
      AND coalesce(json_extract_string(p.value, '$.body'), '') <> ''
), files AS (
    SELECT json_extract_string(json, '$.conversation_id') AS conv,
           CASE WHEN split_part(id, ':', 2) = 'source' THEN json_extract_string(json, '$.conversation_id') || ':source'
                ELSE split_part(id, ':', 2) END AS ext, list(sha256 ORDER BY sha256) AS shas,
           -- Inline images, in body order, by the name their link ends in.
           list(regexp_extract(json_extract_string(json, '$.src'), '([^/?]+)(\?|$)', 1)
                ORDER BY TRY_CAST(regexp_extract(id, ':img([0-9]+)$', 1) AS INTEGER))
               FILTER (WHERE json_extract_string(json, '$.type') = 'inline_image') AS images
    FROM raw_intercom_attachments GROUP BY ALL
), expected AS (
    SELECT l.source_id, l.dest_id, l.created_at,
           CASE WHEN json_extract_string(l.json, '$.state') = 'closed' THEN 'done'
                WHEN json_extract_string(l.json, '$.state') = 'snoozed'
                     AND to_timestamp(TRY_CAST(json_extract(l.json, '$.snoozed_until') AS BIGINT)) > get_current_timestamp() THEN 'snoozed'
                ELSE 'open' END AS status,
           list({ext: p.ext, kind: p.kind,
                 direction: CASE WHEN p.author_type IN ('admin', 'bot', 'team') THEN 'out' ELSE 'in' END,
                 author: CASE WHEN p.author_type = 'admin' THEN u.dest_id END,
                 "at": strftime(CAST(p.at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z'),
                 -- Rule: each <img …> of the body is "[image: <file>, attached]",
                 -- the file attached to the same part.
                 body: CASE WHEN strpos(p.body, '<img') = 0 THEN p.body ELSE array_to_string(list_transform(
                           string_split(p.body, '<img'), lambda s, i: CASE WHEN i = 1 THEN s
                               ELSE '[image: ' || coalesce(f.images[i - 1], 'image') || ', attached]'
                                    || CASE WHEN strpos(s, '>') > 0 THEN substr(s, strpos(s, '>') + 1) ELSE '' END END), '') END,
                 source_body: p.body,
                 files: coalesce(f.shas, [])} ORDER BY p.at, p.pos) AS parts,
           count(*) AS n, bool_or(f.shas IS NOT NULL) AS has_files
    FROM loaded l JOIN parts p ON p.conv = l.source_id
    LEFT JOIN users u ON u.source_id = p.author_id
    LEFT JOIN files f ON f.conv = l.source_id AND f.ext = p.ext
    GROUP BY ALL
), strata AS (
    SELECT 'oldest' AS stratum, source_id FROM (SELECT source_id FROM expected ORDER BY created_at, source_id LIMIT 1)
    UNION ALL SELECT 'newest', source_id FROM (SELECT source_id FROM expected ORDER BY created_at DESC, source_id LIMIT 1)
    UNION ALL SELECT 'longest thread', source_id FROM (SELECT source_id FROM expected ORDER BY n DESC, source_id LIMIT 1)
    UNION ALL SELECT 'with files', source_id FROM (SELECT source_id FROM expected WHERE has_files ORDER BY source_id LIMIT 1)
    UNION ALL SELECT 'status ' || status, arg_min(source_id, source_id) FROM expected GROUP BY status
), picked AS (
    SELECT arg_min(stratum, stratum) AS stratum, source_id FROM strata GROUP BY source_id
), fill AS (
    SELECT 'random' AS stratum, source_id FROM expected WHERE source_id NOT IN (SELECT source_id FROM picked)
    ORDER BY hash(source_id) LIMIT greatest(getvariable('verify_sample') - (SELECT count(*) FROM picked), 0)
)
SELECT s.stratum, e.source_id, e.dest_id, to_json({status: e.status, parts: e.parts}) AS expected
FROM (SELECT * FROM picked UNION ALL SELECT * FROM fill) s JOIN expected e USING (source_id);

COMMENT ON TABLE verify_sample IS 'ferry verify: the conversations the last verify read back from the destination, with their stratum';
