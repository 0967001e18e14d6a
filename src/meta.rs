//! The meta tables of `ferry.duckdb`. Their names and columns are a contract:
//! tests, the README and users' SQL rely on them.

use duckdb::Connection;

use crate::error::{FerryError, Result};

/// The ledgers' schema, one version a file (`sql/engine/meta/NNN_*.sql`),
/// in order. A version is applied once and recorded in `ferry_schema`;
/// never edit a released one: add the next.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "001_ledgers.sql",
        include_str!("../sql/engine/meta/001_ledgers.sql"),
    ),
    (
        2,
        "002_delta_counts.sql",
        include_str!("../sql/engine/meta/002_delta_counts.sql"),
    ),
    (
        3,
        "003_hosted_files.sql",
        include_str!("../sql/engine/meta/003_hosted_files.sql"),
    ),
];

/// The table that records which schema versions a workspace has.
const SCHEMA_DDL: &str = "CREATE TABLE IF NOT EXISTS ferry_schema (
    version       INTEGER PRIMARY KEY,
    file          VARCHAR NOT NULL,
    checksum      VARCHAR NOT NULL,
    applied_at    TIMESTAMPTZ NOT NULL,
    ferry_version VARCHAR NOT NULL
);";

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
    ("ferry_schema", "the schema versions of these ledgers this workspace has, and which ferry applied each"),
    ("ferry_changes", "every change a delta load found (changed or deleted in the source) and what became of it"),
];

/// Brings the meta tables to this ferry's schema version: applies each
/// version the workspace lacks, in order, each in its own transaction.
/// A workspace at a later version than this ferry knows is refused:
/// reading ledgers whose meaning changed would misreport what was done.
pub fn ensure(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_DDL)?;
    let (have, by): (i32, Option<String>) = conn.query_row(
        "SELECT coalesce(max(version), 0), arg_max(ferry_version, version) FROM ferry_schema",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if have > latest {
        return Err(FerryError::Other(format!(
            "this workspace's ledgers are at schema version {have}, written by ferry {}; this ferry ({}) knows versions up to {latest}. Use that ferry or a newer one; nothing was changed",
            by.unwrap_or_else(|| "?".into()),
            env!("CARGO_PKG_VERSION")
        )));
    }
    for (version, file, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        conn.execute_batch("BEGIN TRANSACTION")?;
        let applied = conn.execute_batch(sql).and_then(|_| {
            conn.execute(
                "INSERT INTO ferry_schema VALUES (?, ?, ?, now(), ?)",
                duckdb::params![
                    version,
                    file,
                    crate::transform::scripts::checksum(sql),
                    env!("CARGO_PKG_VERSION")
                ],
            )
        });
        match applied {
            Ok(_) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(FerryError::Other(format!(
                    "upgrading the workspace's ledgers to schema version {version} ({file}) failed: {e}; nothing was changed"
                )));
            }
        }
    }
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
    "ferry_schema",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(conn: &Connection) -> Vec<i32> {
        let mut stmt = conn
            .prepare("SELECT version FROM ferry_schema ORDER BY version")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|v| v.unwrap())
            .collect()
    }

    #[test]
    fn every_version_is_applied_once_and_a_newer_workspace_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        ensure(&conn).unwrap();
        let all: Vec<i32> = MIGRATIONS.iter().map(|m| m.0).collect();
        assert_eq!(versions(&conn), all);
        ensure(&conn).unwrap();
        assert_eq!(versions(&conn), all, "a second open applies nothing");

        // A workspace from before versioning: tables without the later
        // columns and no ferry_schema. It gains them.
        let old = Connection::open_in_memory().unwrap();
        old.execute_batch(MIGRATIONS[0].2).unwrap();
        old.execute_batch("ALTER TABLE ferry_load_phases DROP COLUMN IF EXISTS changed")
            .unwrap();
        ensure(&old).unwrap();
        let has: i64 = old
            .query_row(
                "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'ferry_load_phases' AND column_name = 'changed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has, 1);

        // Written by a later ferry: refused, untouched.
        conn.execute(
            "INSERT INTO ferry_schema VALUES (99, '099_later.sql', 'x', now(), '9.9.9')",
            [],
        )
        .unwrap();
        let err = ensure(&conn).unwrap_err().to_string();
        assert!(
            err.contains("schema version 99") && err.contains("9.9.9"),
            "{err}"
        );
    }
}
