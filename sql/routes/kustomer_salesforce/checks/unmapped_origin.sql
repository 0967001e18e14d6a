-- Kustomer channels missing from seeds/origin_map.csv: a Case would load
-- with no Origin and the channel would show only in Kustomer_Channel__c.
-- Add a row (case_origin: a value of the org's Origin picklist).
SELECT channel, count(*) AS cases FROM out_salesforce_cases
WHERE channel IS NOT NULL AND origin IS NULL GROUP BY ALL;
