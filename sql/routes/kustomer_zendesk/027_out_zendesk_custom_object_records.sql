-- out_zendesk_custom_object_records: KObjects → custom object records
-- (records over the size limit are trimmed; int_archive_kobjects keeps
-- them whole, with the reason).

CREATE OR REPLACE TABLE out_zendesk_custom_object_records AS
SELECT p.kobject_id || CASE WHEN p.part_count > 1 THEN ':' || p.part_no ELSE '' END AS source_id,
       p.kobject_id, p.object_key,
       p.kobject_id || CASE WHEN p.part_count > 1 THEN ':' || p.part_no ELSE '' END AS external_id,
       coalesce(nullif(trim(p.title), ''), p.kobject_id) AS name,
       CASE WHEN a.source_id IS NULL THEN p.fields ELSE
           to_json(map_from_entries(list_transform(json_keys(p.fields), lambda k: {'key': k, 'value':
               CASE WHEN json_type(json_extract(p.fields, '$."' || k || '"')) = 'VARCHAR'
                         AND length(json_extract_string(p.fields, '$."' || k || '"')) > 1000
                    THEN to_json(left(json_extract_string(p.fields, '$."' || k || '"'), 1000))
                    ELSE json_extract(p.fields, '$."' || k || '"') END}))) END AS fields,
       a.source_id IS NOT NULL AS trimmed,
       cc.canonical_id AS user_source_id,
       co.canonical_id AS organization_source_id,
       p.created_at
FROM int_kobject_parts p
LEFT JOIN int_archive_kobjects a ON a.source_id = p.kobject_id AND a.object_key = p.object_key
LEFT JOIN int_customer_canonical cc ON cc.customer_id = p.customer_id
LEFT JOIN int_company_canonical co ON co.company_id = p.company_id;
