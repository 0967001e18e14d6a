-- Messages and notes of loaded tickets, one request each, in thread order
-- (Enchant stamps each with its arrival time). Customer messages are
-- inbound replies; agent messages are notes with their author and time in
-- the header, or, only with agent_messages = "reply" and a sandbox inbox,
-- outbound replies (which email the customer). A new message on a ticket
-- loaded earlier (a cutover) is sent the same way.
WITH files AS (
    SELECT m.source_id, count(*) AS n, list(u.dest_id) FILTER (WHERE u.dest_id IS NOT NULL) AS ids,
           count(u.dest_id) AS uploaded,
           count(*) FILTER (WHERE u.dest_id IS NULL AND (a.sha256 IS NULL OR a.size_bytes > getvariable('enchant_max_bytes'))) AS unsendable,
           string_agg(coalesce(a.file_name, x.aid) || ' (' || coalesce(a.size_bytes, 0) || ' bytes)', ', ')
               FILTER (WHERE u.dest_id IS NULL AND (a.sha256 IS NULL OR a.size_bytes > getvariable('enchant_max_bytes'))) AS left_out
    FROM out_enchant_messages m, unnest(m.attachment_ids) AS x(aid)
    LEFT JOIN enchant_files() a ON a.attachment_id = x.aid
    LEFT JOIN ferry_loaded('attachments') u ON u.source_id = x.aid
    GROUP BY m.source_id
), msg AS (
    SELECT m.*, t.dest_id AS ticket_id, cu.email AS customer_email, cu.first_name || ' ' || cu.last_name AS customer_name,
           ag.dest_id AS agent_id, f.ids AS file_ids, f.n, f.uploaded, f.unsendable, f.left_out,
           enchant_message_header(m)
           || CASE WHEN f.left_out IS NOT NULL THEN ' · not attached: ' || f.left_out ELSE '' END AS header
    FROM out_enchant_messages m
    JOIN ferry_loaded('tickets') t ON t.source_id = m.conversation_id
    LEFT JOIN out_enchant_tickets tk ON tk.source_id = m.conversation_id
    LEFT JOIN out_enchant_customers cu ON cu.source_id = tk.customer_source_id
    LEFT JOIN ferry_loaded('agents') ag ON ag.source_id = m.author_user_id
    LEFT JOIN files f ON f.source_id = m.source_id
    WHERE ferry_pending('messages', m.source_id)
)
SELECT source_id, ticket_id AS external_id,
       CASE WHEN coalesce(n, 0) > coalesce(uploaded, 0) + coalesce(unsendable, 0) THEN 'an attachment upload is missing'
            WHEN author_kind = 'agent' AND coalesce(agent_id, enchant_fallback_id()) IS NULL THEN 'no Enchant user for the author, and the fallback agent is not matched' END AS hold,
       CASE
         WHEN author_kind = 'customer' AND customer_email IS NOT NULL THEN
           to_json({type: 'reply', direction: 'in', from_name: coalesce(nullif(trim(customer_name), ''), customer_email), "from": customer_email,
                    body: CASE WHEN is_html THEN '<p><em>' || enchant_escape(header) || '</em></p>' || body ELSE header || chr(10) || chr(10) || body END,
                    htmlized: is_html, attachment_ids: coalesce(file_ids, [])})
         WHEN author_kind = 'agent' AND kind = 'message' AND getvariable('enchant_agent_replies') AND agent_id IS NOT NULL AND customer_email IS NOT NULL THEN
           to_json({type: 'reply', direction: 'out', user_id: agent_id, "to": customer_email,
                    body: CASE WHEN is_html THEN '<p><em>' || enchant_escape(header) || '</em></p>' || body ELSE header || chr(10) || chr(10) || body END,
                    htmlized: is_html, attachment_ids: coalesce(file_ids, [])})
         ELSE
           -- A note: agent messages, notes, and customer messages with no
           -- email to send them from.
           to_json({type: 'note', user_id: coalesce(agent_id, enchant_fallback_id()),
                    body: CASE WHEN is_html THEN '<p><em>' || enchant_escape(header) || '</em></p>' || body ELSE header || chr(10) || chr(10) || body END,
                    htmlized: is_html, attachment_ids: coalesce(file_ids, [])})
       END::VARCHAR AS payload,
       ticket_id AS path_arg
FROM msg
ORDER BY conversation_id, position
