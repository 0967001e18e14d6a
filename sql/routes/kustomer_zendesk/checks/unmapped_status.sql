-- Kustomer statuses missing from seeds/status_map.csv.
SELECT kustomer_status, count(*) AS tickets FROM out_zendesk_tickets WHERE status IS NULL GROUP BY ALL;
