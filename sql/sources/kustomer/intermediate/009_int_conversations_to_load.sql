-- int_conversations_to_load (Kustomer, every route): the staged
-- conversations whose disposition is `load`, with the customer that
-- carries them after the merge (customer_source_id) and the assignee by
-- the route's `assignee_rule` setting: the last assigned user (`last`,
-- the default) or the first.

CREATE OR REPLACE TABLE int_conversations_to_load AS
SELECT c.*, cc.canonical_id AS customer_source_id,
       CASE WHEN setting('assignee_rule') = 'first' THEN c.assigned_user_ids[1]
            ELSE c.assigned_user_ids[len(c.assigned_user_ids)] END AS assignee_user_id
FROM stg_conversations c
JOIN int_conversation_disposition d ON d.conversation_id = c.conversation_id AND d.disposition = 'load'
LEFT JOIN int_customer_canonical cc ON cc.customer_id = c.customer_id;
