-- Salesforce's datetime format for writes (ISO 8601 in UTC), and the
-- marker a CaseComment carries: CaseComment takes no custom fields, so an
-- in-doubt comment is found again by this line in its body. Keep it.
-- (Without ICU a TIMESTAMPTZ casts to its UTC wall time.)
CREATE OR REPLACE TEMP MACRO sf_time(ts) AS strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ');
CREATE OR REPLACE TEMP MACRO sf_marker(id) AS '[ferry ' || id || ']';
