-- Schema version 2: columns added after the first workspaces were
-- created — the reconciliation list of a batch, and a load phase's delta
-- counts (changed, deleted, and what became of the changes). IF NOT
-- EXISTS: a workspace from before versioning may already have them.
ALTER TABLE ferry_batches ADD COLUMN IF NOT EXISTS items VARCHAR;
ALTER TABLE ferry_load_phases ADD COLUMN IF NOT EXISTS changed BIGINT;
ALTER TABLE ferry_load_phases ADD COLUMN IF NOT EXISTS deleted BIGINT;
ALTER TABLE ferry_load_phases ADD COLUMN IF NOT EXISTS changes_applied BIGINT;
ALTER TABLE ferry_load_phases ADD COLUMN IF NOT EXISTS changes_not_applied BIGINT;
ALTER TABLE ferry_load_phases ADD COLUMN IF NOT EXISTS changes_failed BIGINT;
