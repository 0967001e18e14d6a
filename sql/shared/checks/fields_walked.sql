-- Every extracted object's attribute paths were walked: an object the
-- source's staging/NNN_int_source_fields.sql does not list would have
-- its fields accounted for by nobody. Fix: add its line there.
SELECT DISTINCT object FROM ferry_extracted
WHERE object NOT IN (SELECT object FROM int_source_fields);
