-- stg_message_contents (Kustomer staging): one row per Kustomer record of full message contents read from links.related.

CREATE OR REPLACE TABLE stg_message_contents AS
SELECT id AS message_id, kustomer_content_html(json) AS html, kustomer_content_text(json) AS text
FROM raw_kustomer_message_contents;
