-- int_excluded_attributes: archived attributes are not declared (their
-- values stay in the raw JSON).

CREATE OR REPLACE TABLE int_excluded_attributes AS
SELECT attribute_id AS source_id,
       CASE WHEN archived THEN 'archived in Intercom: not declared in Kustomer (values kept in the raw JSON)'
            WHEN NOT custom THEN 'a standard Intercom attribute: carried by the customer''s own fields'
            WHEN model NOT IN ('contact', 'company') THEN 'a ' || model || ' attribute: no Kustomer resource takes it'
            ELSE 'data type ' || data_type || ' has no Kustomer suffix (seeds/attribute_types.csv)' END AS reason
FROM stg_data_attributes WHERE attribute_id NOT IN (SELECT source_id FROM out_kustomer_metadata);
