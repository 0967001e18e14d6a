//! The meta tables of `ferry.duckdb`. Their names and columns are a contract:
//! tests, the README and users' SQL rely on them.

use duckdb::Connection;

use crate::error::Result;

/// DDL for every meta table; idempotent so every command can run it.
pub const META_DDL: &str = include_str!("../sql/engine/meta.sql");

/// What each meta table holds, as `COMMENT ON TABLE`: the DuckDB CLI
/// (`.tables`, `duckdb_tables()`) and Python show it to whoever opens
/// `ferry.duckdb` without the README.
const META_COMMENTS: &[(&str, &str)] = &[
    ("ferry_runs", "every ferry command run: arguments (never secrets), outcome, message"),
    ("ferry_extract_state", "per source stream: high-water mark, cursor, pages landed, done"),
    ("ferry_raw_parts", "each Parquet part landed under raw/, with its stream and row count"),
    ("ferry_unavailable", "source streams the API would not serve (404/403), with why"),
    ("ferry_quarantine", "source records refused at landing (no id, wrong types), with the reason"),
    ("ferry_sql_ledger", "the SQL scripts each transform and load ran, by checksum"),
    ("ferry_id_map", "every record ferry put in the destination: source id → destination id, batch, payload hash"),
    ("ferry_load_errors", "rows the destination refused (http_status) or that are held back (http_status NULL), with why"),
    ("ferry_batches", "every request batch the loader sent: sent, done, reconciled after a crash"),
    ("ferry_load_phases", "per load run and phase: rows, created, failed, held, requests, 429s, seconds"),
    ("ferry_rolled_back", "id map rows of records ferry rollback deleted, with rolled_back_at"),
    ("ferry_matched", "source people linked to users the destination already had: how matched, role, action, what differs"),
    ("ferry_members", "children carried inside a parent record (a ticket's comments), by batch"),
    ("ferry_changes", "every change a delta load found (changed or deleted in the source) and what became of it"),
];

/// Creates the meta tables if they are missing.
pub fn ensure(conn: &Connection) -> Result<()> {
    conn.execute_batch(META_DDL)?;
    let comments: String = META_COMMENTS
        .iter()
        .map(|(t, c)| format!("COMMENT ON TABLE {t} IS '{}';", c.replace('\'', "''")))
        .collect();
    conn.execute_batch(&comments)?;
    Ok(())
}

/// Names of all meta tables, for `ferry init` output and tests.
pub const META_TABLES: &[&str] = &[
    "ferry_runs",
    "ferry_extract_state",
    "ferry_raw_parts",
    "ferry_unavailable",
    "ferry_quarantine",
    "ferry_sql_ledger",
    "ferry_id_map",
    "ferry_load_errors",
    "ferry_batches",
    "ferry_load_phases",
    "ferry_rolled_back",
    "ferry_matched",
    "ferry_members",
    "ferry_changes",
];
