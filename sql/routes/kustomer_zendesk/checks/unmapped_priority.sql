-- Kustomer priorities missing from seeds/priority_map.csv.
SELECT kustomer_priority, count(*) AS tickets FROM out_zendesk_tickets
WHERE priority IS NULL AND kustomer_priority IS NOT NULL GROUP BY ALL;
