-- Macros of the Kustomer → Zendesk route (prefix zd_): how Kustomer
-- values become Zendesk's: tags, custom field keys, types and values,
-- dates, the source id of a ticket part, a custom object's key.

-- Zendesk tags: lowercase, spaces → underscores, letters/digits/_/-/ only.
CREATE OR REPLACE MACRO zd_tag(name) AS
    trim(regexp_replace(lower(trim(name)), '[^\p{L}\p{N}_/-]+', '_', 'g'), '_');

-- Custom attribute key without Kustomer's type suffix, snake_case.
CREATE OR REPLACE MACRO zd_field_key(k) AS
    lower(regexp_replace(regexp_replace(k, '(Str|Num|At|Bool|Txt|Url)$', ''), '([a-z0-9])([A-Z])', '\1_\2', 'g'));

-- Zendesk field type from Kustomer's suffix.
CREATE OR REPLACE MACRO zd_field_type(k) AS CASE
    WHEN k LIKE '%Num' THEN 'decimal' WHEN k LIKE '%At' THEN 'date' WHEN k LIKE '%Bool' THEN 'checkbox'
    WHEN k LIKE '%Txt' THEN 'textarea' ELSE 'text' END;

-- {"industryStr": "retail"} → {"industry": "retail"}, values keep their JSON type.
-- Zendesk field values are scalars: a nested list or object is sent as its
-- JSON text, so one odd attribute cannot make a whole bulk request invalid.
CREATE OR REPLACE MACRO zd_field_value(v) AS CASE
    WHEN json_type(v) IN ('ARRAY', 'OBJECT') THEN to_json(left(v::VARCHAR, 65535))
    ELSE v END;

-- Zendesk date fields hold a day, written YYYY-MM-DD, not a timestamp: a
-- Kustomer time becomes its UTC date. Text that is not a time is kept as
-- it is (the destination's validation names it).
CREATE OR REPLACE MACRO zd_date(v) AS CASE
    WHEN json_type(v) = 'VARCHAR' AND TRY_CAST(json_extract_string(v, '$') AS TIMESTAMPTZ) IS NOT NULL
    -- (TIMESTAMPTZ → TIMESTAMP is UTC without ICU, which the bundled DuckDB lacks)
    THEN to_json(strftime(CAST(TRY_CAST(json_extract_string(v, '$') AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d'))
    ELSE v END;

CREATE OR REPLACE MACRO zd_fields(custom) AS CASE
    WHEN custom IS NULL OR json_type(custom) <> 'OBJECT' OR len(json_keys(custom)) = 0 THEN '{}'::JSON
    ELSE to_json(map_from_entries(list_transform(json_keys(custom),
         lambda k: {'key': zd_field_key(k), 'value': CASE WHEN zd_field_type(k) = 'date'
                   THEN zd_date(json_extract(custom, '$."' || k || '"'))
                   ELSE zd_field_value(json_extract(custom, '$."' || k || '"')) END}))) END;

-- Fields ferry adds beside the custom attributes (Kustomer's own
-- externalId, a company's phones): a value merged into the fields JSON
-- under its key; an empty value adds nothing.
CREATE OR REPLACE MACRO zd_with(fields, key, value) AS CASE
    WHEN nullif(trim(CAST(value AS VARCHAR)), '') IS NULL THEN fields
    ELSE json_merge_patch(fields, json_object(CAST(key AS VARCHAR), trim(CAST(value AS VARCHAR)))) END;

CREATE OR REPLACE MACRO zd_ticket_source_id(conv, part, parts) AS CASE WHEN parts > 1 THEN conv || '-part' || part ELSE conv END;

CREATE OR REPLACE MACRO zd_object_key(name, part) AS
    regexp_replace(lower(name), '[^a-z0-9_]', '_', 'g') || CASE WHEN part > 1 THEN '_' || part ELSE '' END;
