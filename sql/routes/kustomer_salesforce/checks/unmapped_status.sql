-- Kustomer statuses missing from seeds/status_map.csv (a Case needs a
-- value of the org's restricted Status picklist).
SELECT kustomer_status, count(*) AS cases FROM out_salesforce_cases WHERE status IS NULL GROUP BY ALL;
