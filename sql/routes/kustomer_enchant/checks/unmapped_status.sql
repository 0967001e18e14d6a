-- Kustomer statuses missing from seeds/status_map.csv.
SELECT kustomer_status, count(*) AS tickets FROM out_enchant_tickets WHERE state IS NULL GROUP BY ALL;
