-- out_zendesk_custom_object_fields: klass properties → custom object fields,
-- and on every object (each part of a wide klass) two lookup fields: the
-- record's user and organization (official spec, CustomObjectField: type
-- "lookup", relationship_target_type "zen:user" / "zen:organization"), so
-- a record links its customer and company as the Kustomer KObject does;
-- and three fields for what every KObject has beside its klass's
-- attributes: its description, Kustomer's own externalId and its tags.

CREATE OR REPLACE TABLE out_zendesk_custom_object_fields AS
SELECT zd_object_key(f.klass_name, f.part_no) AS object_key, zd_field_key(f.kustomer_key) AS key, f.kustomer_key,
       CASE WHEN tk.klass_id IS NOT NULL THEN 'lookup'
            ELSE CASE f.kustomer_type WHEN 'number' THEN 'decimal' WHEN 'date' THEN 'date' WHEN 'boolean' THEN 'checkbox'
                                      WHEN 'text' THEN 'textarea' ELSE 'text' END END AS type,
       f.title, f.pos AS position,
       -- A reference to another KObject: a lookup to the custom object of
       -- its klass (its first part holds the record's external id).
       CASE WHEN tk.klass_id IS NOT NULL THEN 'zen:custom_object:' || zd_object_key(tk.name, 1) END AS relationship_target_type
FROM int_klass_fields f
LEFT JOIN stg_klasses tk ON tk.klass_id = f.target_klass_id
UNION ALL
SELECT o.key, l.key, NULL, 'lookup', l.title, 100000 + l.n, l.target
FROM out_zendesk_custom_objects o,
     (VALUES (1, 'kustomer_customer', 'Customer', 'zen:user'),
             (2, 'kustomer_company', 'Company', 'zen:organization')) AS l(n, key, title, target)
UNION ALL
SELECT o.key, f.key, NULL, f.type, f.title, 100010 + f.n, NULL
FROM out_zendesk_custom_objects o,
     (VALUES (1, 'kustomer_description', 'textarea', 'Description'),
             (2, 'kustomer_external_id', 'text', 'Kustomer externalId'),
             (3, 'kustomer_tags', 'text', 'Tags')) AS f(n, key, type, title);
