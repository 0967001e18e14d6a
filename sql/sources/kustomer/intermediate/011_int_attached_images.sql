-- int_attached_images: for a destination that attaches each inline image
-- to its message (Salesforce, Enchant: neither gives a file a URL every
-- email body can show), per message: the images ferry has bytes for, in
-- the order the body shows them (`hosted` {src, file_name} and their
-- `image_ids`), and the ones it has none for (`gone`). The body is then
-- kustomer_attached_body(): each hosted <img> "[image <file>: attached to
-- this message]", each gone one "[image <file>: gone from Kustomer before
-- the migration]".
CREATE OR REPLACE TABLE int_attached_images AS
WITH images AS (
    SELECT message_id, list({src: src, file_name: file_name} ORDER BY position) AS hosted,
           list(image_id ORDER BY position) AS image_ids
    FROM stg_inline_images WHERE sha256 IS NOT NULL GROUP BY message_id
), gone AS (
    SELECT message_id, list({src: src, file_name: file_name}) AS gone
    FROM int_gone_inline_images GROUP BY message_id
)
SELECT message_id, i.hosted, coalesce(i.image_ids, []) AS image_ids, g.gone
FROM images i FULL JOIN gone g USING (message_id);

CREATE OR REPLACE MACRO kustomer_attached_body(body, hosted, gone) AS
    kustomer_replace_images(kustomer_drop_gone_images(body, gone), hosted, 'attached to this message');
