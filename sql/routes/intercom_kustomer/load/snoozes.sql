-- Conversations snoozed in Intercom until a time still ahead: snoozed in
-- Kustomer until then (PUT /v1/conversations/{id}: the update schema takes
-- `status: snoozed` and `snooze`; a create takes open or done only).
SELECT c.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold,
       to_json({status: 'snoozed', snooze: {status: 'scheduled', "time": kus_time(c.snoozed_until)}})::VARCHAR AS payload,
       l.dest_id AS path_arg
FROM out_kustomer_conversations c
JOIN ferry_loaded('conversations') l ON l.source_id = c.source_id
WHERE c.state = 'snoozed' AND c.snoozed_until > get_current_timestamp()
  AND ferry_pending('snoozes', c.source_id)
ORDER BY c.source_id
