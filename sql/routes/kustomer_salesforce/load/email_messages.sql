-- Messages → EmailMessages on their Case (Bulk API 2.0 upsert by external
-- id), in thread order, MessageDate = the original time, Status 1 (Read)
-- inbound / 3 (Sent) outbound. EmailMessage is only writable at insert,
-- so every field is final here; a body over the limit was split into
-- parts by the transform ("(part 2 of 3)" in the Subject). The Subject
-- is the message's own, else the Case's.
SELECT m.source_id, m.source_id AS external_id,
       NULL::VARCHAR AS hold,
       to_json({ParentId: t.dest_id,
                Incoming: m.direction = 'in',
                -- An email's own envelope (Kustomer attributes.meta) when it
                -- has one, else the customer and the agent.
                FromAddress: coalesce(nullif(trim(sm.email_from), ''), CASE WHEN m.direction = 'in' THEN cu.email ELSE m.author_email END),
                FromName: left(CASE WHEN m.direction = 'in' THEN coalesce(nullif(trim(concat_ws(' ', cu.first_name, cu.last_name)), ''), cu.email)
                                    ELSE coalesce(m.author_name, m.author_email) END, 1000),
                ToAddress: left(coalesce(nullif(array_to_string(sm.email_to, '; '), ''), CASE WHEN m.direction = 'in' THEN NULL ELSE cu.email END), 4000),
                Subject: left(coalesce(nullif(trim(sm.subject), ''), cs.subject) || CASE WHEN m.n_parts > 1 THEN ' (part ' || m.part || ' of ' || m.n_parts || ')' ELSE '' END, 3000),
                TextBody: CASE WHEN NOT m.is_html THEN m.body END,
                HtmlBody: CASE WHEN m.is_html THEN m.body END,
                MessageDate: sf_time(m.created_at),
                -- With audit fields (describe: EmailMessage.CreatedDate
                -- createable) the original time is its CreatedDate too.
                CreatedDate: CASE WHEN getvariable('sf_audit_email_messages') THEN sf_time(m.created_at) END,
                -- The message's own channel (a conversation may mix them; the
                -- Case's is Origin and Kustomer_Channel__c) as a header line.
                Headers: 'X-Kustomer-Channel: ' || m.channel,
                Status: CASE WHEN m.direction = 'in' THEN '1' ELSE '3' END})::VARCHAR AS payload,
       NULL::VARCHAR AS path_arg
FROM out_salesforce_messages m
JOIN ferry_loaded('cases') t ON t.source_id = m.conversation_id
JOIN out_salesforce_cases cs ON cs.source_id = m.conversation_id
LEFT JOIN int_customer_people cu ON cu.source_id = cs.customer_source_id
LEFT JOIN stg_messages sm ON sm.message_id = m.item_id
WHERE m.kind = 'message' AND ferry_pending('email_messages', m.source_id)
ORDER BY m.conversation_id, m.position, m.part
