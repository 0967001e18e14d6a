-- Schema version 1 of the engine's ledgers in ferry.duckdb (every
-- workspace, every route). Each file in sql/engine/meta/ is one schema
-- version, applied once and recorded in ferry_schema; a workspace written
-- by a newer ferry (a version this binary does not have) is refused
-- rather than misread. Version 1 predates the ledger and is idempotent
-- (IF NOT EXISTS), so a workspace from before versioning takes it safely.

CREATE TABLE IF NOT EXISTS ferry_runs (
    run_id        VARCHAR PRIMARY KEY,
    command       VARCHAR NOT NULL,
    args          VARCHAR,            -- JSON array of the CLI arguments, never secrets
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    outcome       VARCHAR NOT NULL,   -- running | ok | failed | interrupted
    message       VARCHAR,
    ferry_version VARCHAR
);
CREATE TABLE IF NOT EXISTS ferry_extract_state (
    source         VARCHAR NOT NULL,
    object         VARCHAR NOT NULL,
    phase          VARCHAR NOT NULL,  -- archive | list | catchup | delta | parents | download | done
    cursor         VARCHAR,           -- JSON: next page link / keyset position
    high_water     TIMESTAMPTZ,       -- newest updated_at landed by a complete pass
    pass_started   TIMESTAMPTZ,       -- when the pass in progress started
    pages          BIGINT NOT NULL DEFAULT 0,
    records        BIGINT NOT NULL DEFAULT 0,
    status         VARCHAR NOT NULL,  -- running | complete | failed
    run_id         VARCHAR,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, object)
);
-- Streams the source would not serve (feature absent: 404; role missing:
-- 403), with the reason; `ferry verify` lists them.
CREATE TABLE IF NOT EXISTS ferry_unavailable (
    source      VARCHAR NOT NULL,
    object      VARCHAR NOT NULL,
    status      INTEGER NOT NULL,
    reason      VARCHAR NOT NULL,
    run_id      VARCHAR,
    noted_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, object)
);
CREATE TABLE IF NOT EXISTS ferry_raw_parts (
    source      VARCHAR NOT NULL,
    object      VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,     -- relative to the workspace
    run_id      VARCHAR NOT NULL,
    records     BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ferry_quarantine (
    run_id         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    object         VARCHAR NOT NULL,
    source_id      VARCHAR,           -- NULL when the record had no usable id
    reason         VARCHAR NOT NULL,
    location       VARCHAR,           -- the request path the record came from
    json           VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ferry_sql_ledger (
    version     INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL,
    duration_ms BIGINT,
    rows        BIGINT,
    status      VARCHAR NOT NULL,     -- applied | dirty
    run_id      VARCHAR
);
CREATE TABLE IF NOT EXISTS ferry_id_map (
    source       VARCHAR NOT NULL,
    object       VARCHAR NOT NULL,
    source_id    VARCHAR NOT NULL,
    dest         VARCHAR NOT NULL,
    dest_object  VARCHAR NOT NULL,
    dest_id      VARCHAR NOT NULL,
    batch_id     VARCHAR,
    payload_hash VARCHAR,
    loaded_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dest, dest_object, source_id)
);
CREATE TABLE IF NOT EXISTS ferry_load_errors (
    batch_id    VARCHAR,
    object      VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    http_status INTEGER,
    error_body  VARCHAR,
    attempts    INTEGER NOT NULL DEFAULT 1,
    last_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS ferry_batches (
    batch_id     VARCHAR PRIMARY KEY,
    dest         VARCHAR NOT NULL,
    object       VARCHAR NOT NULL,
    size         INTEGER NOT NULL,
    request_hash VARCHAR,
    status       VARCHAR NOT NULL,    -- pending | sent | done | failed | in_doubt
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    items        VARCHAR              -- JSON [[source_id, external_id], ...] for reconciliation
);
-- Children a create request carried inside its parent (a ticket import's
-- comments), written with the batch before it is sent: a child of a
-- parent created by that batch is in the destination and is never sent
-- again on its own, even when the batch was reconciled after a crash.
CREATE TABLE IF NOT EXISTS ferry_members (
    dest             VARCHAR NOT NULL,
    dest_object      VARCHAR NOT NULL,  -- the children's phase (comments)
    parent_source_id VARCHAR NOT NULL,
    source_id        VARCHAR NOT NULL,
    batch_id         VARCHAR NOT NULL
);
-- Every change a delta load applied to a record loaded earlier, or
-- decided not to apply, with the hashes before and after: the audit
-- trail of a cutover.
CREATE TABLE IF NOT EXISTS ferry_changes (
    run_id       VARCHAR NOT NULL,
    batch_id     VARCHAR,
    dest         VARCHAR NOT NULL,
    dest_object  VARCHAR NOT NULL,    -- the phase
    source_id    VARCHAR NOT NULL,
    dest_id      VARCHAR,
    kind         VARCHAR NOT NULL,    -- changed | deleted
    action       VARCHAR NOT NULL,    -- what the destination did: update | tag | delete | leave | skip_closed …
    status       VARCHAR NOT NULL,    -- applied | not_applied | failed | held
    old_hash     VARCHAR,
    new_hash     VARCHAR,
    detail       VARCHAR,
    changed_at   TIMESTAMPTZ NOT NULL,
    payload      VARCHAR              -- what the update sent (the changed fields), for audit
);
-- Id map rows of records `ferry rollback` deleted from the destination:
-- the audit trail of what was created and then removed.
CREATE TABLE IF NOT EXISTS ferry_rolled_back AS
    SELECT *, now() AS rolled_back_at FROM ferry_id_map WHERE false;
-- Source records linked to a record the destination already held (an
-- account's admins, agents, end users of an earlier tool), found by email
-- or external id before anything was written. Their id map row says where
-- they went; this row says ferry did not create them, so a rollback only
-- forgets them, and what differed between the two.
CREATE TABLE IF NOT EXISTS ferry_matched (
    dest        VARCHAR NOT NULL,
    dest_object VARCHAR NOT NULL,     -- the load phase (users, agents)
    source_id   VARCHAR NOT NULL,
    dest_id     VARCHAR NOT NULL,
    matched_by  VARCHAR NOT NULL,     -- external_id | email
    dest_role   VARCHAR,              -- the existing record's role (custom roles named)
    action      VARCHAR NOT NULL,     -- kept (staff: never changed) | linked | updated | held
    differs     VARCHAR,              -- fields whose values differ, source vs destination
    matched_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dest, dest_object, source_id)
);
CREATE TABLE IF NOT EXISTS ferry_load_phases (
    run_id      VARCHAR NOT NULL,
    phase       VARCHAR NOT NULL,
    rows        BIGINT NOT NULL,
    created     BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    held        BIGINT NOT NULL,
    reconciled  BIGINT NOT NULL,
    requests    BIGINT NOT NULL,
    throttled   BIGINT NOT NULL,      -- 429s received
    seconds     DOUBLE NOT NULL,
    tier_per_minute INTEGER,          -- the rate tier the limiter ran at
    finished_at TIMESTAMPTZ NOT NULL
);
