-- Every attribute path the source records carry with a value is declared
-- carried or dropped (int_field_ledger). Fix: add a row for the path (or
-- a pattern covering it) to the route's seeds/field_map.csv — `ferry sql
-- eject seeds/field_map.csv` — saying where it goes or why it stays.
SELECT object, path, non_empty AS records_with_a_value, example
FROM int_field_ledger WHERE unaccounted ORDER BY object, path;
