-- Kustomer channels missing from seeds/channel_via_map.csv.
SELECT kustomer_channel, count(*) AS tickets FROM out_zendesk_tickets
WHERE channel IS NULL AND kustomer_channel IS NOT NULL GROUP BY ALL;
