-- Notes → private CaseComments (IsPublished = false) on their Case,
-- created through sObject Collections. CaseComment takes no custom
-- fields: the body ends with its [ferry <id>] marker, by which an
-- in-doubt batch is found again.
SELECT m.source_id, t.dest_id AS external_id, NULL::VARCHAR AS hold,
       to_json({ParentId: t.dest_id, IsPublished: false,
                CommentBody: 'Note by ' || coalesce(m.author_name, m.author_email, 'unknown agent') || ' · ' || sf_time(m.created_at)
                             || CASE WHEN m.n_parts > 1 THEN ' · part ' || m.part || ' of ' || m.n_parts ELSE '' END
                             || chr(10) || chr(10) || m.body || chr(10) || sf_marker(m.source_id),
                -- Only once Salesforce Support enabled audit fields on
                -- CaseComment (describe shows CreatedDate createable).
                CreatedDate: CASE WHEN getvariable('sf_audit_case_comments') THEN sf_time(m.created_at) END})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_messages m
JOIN ferry_loaded('cases') t ON t.source_id = m.conversation_id
WHERE m.kind = 'note' AND ferry_pending('case_comments', m.source_id)
ORDER BY m.conversation_id, m.position, m.part
