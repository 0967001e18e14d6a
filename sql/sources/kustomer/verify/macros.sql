-- verify (Kustomer, every route): the rules verify applies to the raw
-- Kustomer records (raw_kustomer_*, read with json_extract, independently
-- of staging), written once for every route's verify SQL.

-- A customer's person: customers sharing their first email
-- (case-insensitive) are one person, the oldest (then the smallest id);
-- a customer without an email is its own person.
CREATE OR REPLACE MACRO kustomer_verify_person() AS TABLE
SELECT id AS customer_id,
       CASE WHEN email IS NULL OR email = '' THEN id
            ELSE first_value(id) OVER (PARTITION BY email ORDER BY coalesce(created, created_at), id) END AS person_id
FROM (SELECT id, created_at, lower(trim(json_extract_string(json, '$.attributes.emails[0].email'))) AS email,
             TRY_CAST(json_extract_string(json, '$.attributes.createdAt') AS TIMESTAMPTZ) AS created
      FROM raw_kustomer_customers);

-- Inline images, for a destination that attaches them to their message
-- (the body shows "[image <file>: attached to this message]"): per
-- message, the images ferry has bytes for ({src, file_name} to replace,
-- {name, size} as files); the file is the name the link ends in.
CREATE OR REPLACE MACRO kustomer_verify_inline_images() AS TABLE
SELECT json_extract_string(json, '$.message_id') AS message_id,
       list({src: json_extract_string(json, '$.src'),
             file_name: coalesce(nullif(regexp_extract(json_extract_string(json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image')})
           FILTER (WHERE sha256 IS NOT NULL) AS hosted,
       list({name: coalesce(nullif(regexp_extract(json_extract_string(json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image'),
             size: size_bytes}) FILTER (WHERE sha256 IS NOT NULL) AS files
FROM raw_kustomer_inline_images GROUP BY 1;

-- The images the extract could not fetch (its quarantine), per message:
-- "[image <file>: gone from Kustomer before the migration]" on every route.
CREATE OR REPLACE MACRO kustomer_verify_gone_images() AS TABLE
SELECT json_extract_string(json, '$.message_id') AS message_id,
       list({src: json_extract_string(json, '$.src'),
             file_name: coalesce(nullif(regexp_extract(json_extract_string(json, '$.src'), '([^/?#]+)([?#]|$)', 1), ''), 'image')}) AS gone
FROM ferry_quarantine WHERE source = 'kustomer' AND object = 'inline_images' GROUP BY 1;
