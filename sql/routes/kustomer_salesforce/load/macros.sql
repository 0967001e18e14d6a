-- Salesforce's datetime format for writes (ISO 8601 in UTC), and the
-- marker a CaseComment carries: CaseComment takes no custom fields, so an
-- in-doubt comment is found again by this line in its body. Keep it.
-- (Without ICU a TIMESTAMPTZ casts to its UTC wall time.)
CREATE OR REPLACE TEMP MACRO sf_time(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ');
CREATE OR REPLACE TEMP MACRO sf_marker(id) AS '[ferry ' || id || ']';

-- A record's custom attributes (int_custom_attributes) as the custom
-- fields out_salesforce_custom_fields lists for its sObject: a number, a
-- checkbox and a date/time typed, text cut to the field's length. A field
-- the org lacks holds the record until the admin creates it (Salesforce
-- schema_gap, named by `ferry load --dry-run`).
CREATE OR REPLACE TEMP MACRO sf_custom_values(obj, sobj, id) AS (
    SELECT coalesce(to_json(map_from_entries(list({'key': f.field, 'value':
               CASE f.type WHEN 'Number' THEN to_json(TRY_CAST(a.value_text AS DOUBLE))
                           WHEN 'Checkbox' THEN to_json(TRY_CAST(a.value_text AS BOOLEAN))
                           WHEN 'Date/Time' THEN to_json(a.value_text)
                           ELSE to_json(left(a.value_text, coalesce(f.length, 255))) END} ORDER BY f.field))), '{}'::JSON)
    FROM int_custom_attributes a
    JOIN out_salesforce_custom_fields f ON f.object = sobj AND f.kustomer_key = a.attribute
    WHERE a.object = obj AND a.record_id = id AND f.type <> 'Lookup');

-- Kustomer's own externalId, tags and locale beside the custom attributes.
-- An empty value is left out, not sent as null: in a merge patch a null
-- member would delete the payload's own value.
CREATE OR REPLACE TEMP MACRO sf_with_extras(payload, obj, sobj, id, external_id, tag_ids, locale) AS
    json_merge_patch(json_merge_patch(payload, sf_custom_values(obj, sobj, id)),
        to_json(map_from_entries(list_filter([
            {'key': 'Kustomer_External_Id__c', 'value': nullif(trim(external_id), '')},
            {'key': 'Kustomer_Tags__c', 'value': nullif(array_to_string(kustomer_tag_names(tag_ids), ', '), '')},
            {'key': 'Kustomer_Locale__c', 'value': nullif(trim(locale), '')}], lambda e: e.value IS NOT NULL))));

-- The files messages carry: attachments and the inline images of their
-- bodies (stg_inline_images), one list to upload as ContentVersions.
CREATE OR REPLACE TEMP MACRO salesforce_files() AS TABLE
    SELECT attachment_id, file_name, sha256, size_bytes FROM stg_attachments
    UNION ALL
    SELECT image_id, file_name, sha256, size_bytes FROM stg_inline_images;

-- Why a record's Lookups to other records (a KObject's, a Case's) must
-- wait: a referenced KObject not in the export (`missing`: its ids), or
-- one not loaded yet (`parents`: the referenced KObject ids); else NULL.
CREATE OR REPLACE TEMP MACRO sf_lookup_hold(missing, parents) AS CASE
    WHEN missing IS NOT NULL THEN 'the KObject it references is not in the export: ' || missing
    ELSE (SELECT 'record ' || string_agg(p, ', ') || ' it references is not loaded'
          FROM unnest(parents) AS t(p)
          WHERE p NOT IN (SELECT source_id FROM ferry_loaded('custom_records'))) END;
