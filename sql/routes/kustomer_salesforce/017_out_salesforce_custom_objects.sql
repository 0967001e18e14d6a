-- out_salesforce_custom_objects: klasses → custom objects `<klass>__c`.
-- Salesforce's data API cannot create a schema: out_salesforce_custom_fields
-- is the field list an admin creates (Setup → Object Manager, or as
-- metadata), and `ferry load --dry-run` compares it with describe and
-- names what is missing. Rows of an object that is not there yet are
-- held, never refused.

CREATE OR REPLACE TABLE out_salesforce_custom_objects AS
SELECT klass_id AS source_id, sf_api_name(name, 37) || '__c' AS object,
       left(coalesce(display_name, name, klass_id), 40) AS label
FROM stg_klasses;
