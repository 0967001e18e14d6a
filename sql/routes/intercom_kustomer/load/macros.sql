-- Shared by the load queries: Kustomer's times, the load's importedAt,
-- and the Kustomer user an Intercom admin matched.
CREATE OR REPLACE TEMP MACRO kus_time(t) AS strftime(CAST(t AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z');
CREATE OR REPLACE TEMP MACRO kus_now() AS strftime(CAST(get_current_timestamp() AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.000Z');
