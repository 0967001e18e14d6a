-- int_field_ledger (Intercom): what becomes of each attribute path, by the
-- route's and the source's declarations (shared/003_macros_field_ledger.sql).
CREATE OR REPLACE TABLE int_field_ledger AS SELECT * FROM field_ledger();
