-- out_zendesk_custom_object_fields: klass properties → custom object fields.

CREATE OR REPLACE TABLE out_zendesk_custom_object_fields AS
SELECT zd_object_key(klass_name, part_no) AS object_key, zd_field_key(kustomer_key) AS key, kustomer_key,
       CASE kustomer_type WHEN 'number' THEN 'decimal' WHEN 'date' THEN 'date' WHEN 'boolean' THEN 'checkbox'
                          WHEN 'text' THEN 'textarea' ELSE 'text' END AS type,
       title, pos AS position
FROM int_klass_fields;
