//! The SQL transform engine: versioned DuckDB scripts run in order, each in
//! its own transaction, recorded in `ferry_sql_ledger` with its checksum;
//! seeds loaded as tables first, checks run last.

pub mod checks;
pub mod plan;
pub mod renamed;
pub mod scripts;
pub mod seeds;

use std::path::Path;
use std::time::Instant;

use duckdb::{params, Connection};

use crate::error::{FerryError, Result};
use plan::Plan;
use scripts::{Script, ScriptSet};

/// Result of one script.
pub struct Applied {
    pub file: String,
    pub duration_ms: u64,
    pub rows: i64,
}

/// Table names a script creates (`CREATE [OR REPLACE] TABLE name`), for
/// the ledger's row count.
pub fn created_tables(sql: &str) -> Vec<String> {
    let lower = sql.to_lowercase();
    let mut out = Vec::new();
    for (i, _) in lower.match_indices("create ") {
        let rest = &lower[i + 7..];
        let rest = rest
            .trim_start()
            .strip_prefix("or replace ")
            .unwrap_or(rest.trim_start());
        let rest = rest
            .trim_start()
            .strip_prefix("temp ")
            .unwrap_or(rest.trim_start());
        if let Some(rest) = rest.trim_start().strip_prefix("table ") {
            let rest = rest
                .trim_start()
                .strip_prefix("if not exists ")
                .unwrap_or(rest.trim_start());
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Runs one script in a transaction. On error nothing it did remains and
/// the error names the file and DuckDB's message (with its LINE).
fn apply(conn: &Connection, s: &Script, run_id: &str) -> Result<Applied> {
    let started = Instant::now();
    conn.execute(
        "INSERT INTO ferry_sql_ledger VALUES (?, ?, ?, now(), NULL, NULL, 'dirty', ?)",
        params![s.version, s.name, s.checksum, run_id],
    )?;
    conn.execute_batch("BEGIN TRANSACTION")?;
    if let Err(e) = conn.execute_batch(&s.sql) {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(FerryError::Other(format!(
            "{} failed, nothing of it was applied and the previous tables are intact:\n{}",
            s.shown_path.as_deref().unwrap_or(&s.file),
            duck_message(&e.to_string())
        )));
    }
    crate::chaos::crash_point("transform.script");
    conn.execute_batch("COMMIT")?;
    let mut rows = 0i64;
    for t in created_tables(&s.sql) {
        // Whoever opens ferry.duckdb (DuckDB CLI, Python) can ask a table
        // where it was built; a script's own COMMENT ON wins.
        let has_own: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = ? AND comment IS NOT NULL",
                [&t],
                |r| r.get(0),
            )
            .unwrap_or(true);
        let _ = (!has_own).then(|| {
            conn.execute(
                &format!(
                    "COMMENT ON TABLE {t} IS '{}'",
                    format!(
                        "built by {} (ferry transform, script {:03}); see docs/tables.md",
                        s.file, s.version
                    )
                    .replace('\'', "''")
                ),
                [],
            )
        });
        rows += conn
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap_or(0);
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    conn.execute(
        "UPDATE ferry_sql_ledger SET status = 'applied', duration_ms = ?, rows = ?
         WHERE version = ? AND run_id = ? AND status = 'dirty'",
        params![duration_ms as i64, rows, s.version, run_id],
    )?;
    Ok(Applied {
        file: s.file.clone(),
        duration_ms,
        rows,
    })
}

/// DuckDB's message without the list of candidate functions (which can run
/// to dozens of lines), keeping its lines: the `LINE n:` quote and the
/// caret under the failing token only make sense as DuckDB laid them out.
pub fn duck_message(msg: &str) -> String {
    let (head, tail) = match msg.find("Candidate functions") {
        Some(i) => (
            &msg[..i],
            msg[i..].find("LINE ").map(|j| &msg[i + j..]).unwrap_or(""),
        ),
        None => (msg, ""),
    };
    format!("{head}\n{tail}")
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the plan: seeds, then the scripts from `rerun_from` on.
pub fn run(
    conn: &Connection,
    workspace: &Path,
    set: &ScriptSet,
    plan: &Plan,
    run_id: &str,
    mut on_step: impl FnMut(&Applied),
) -> Result<Vec<Applied>> {
    let Some(from) = plan.rerun_from else {
        return Ok(Vec::new());
    };
    seeds::load(conn, workspace, &set.seeds)?;
    conn.execute(
        "INSERT INTO ferry_sql_ledger VALUES (0, 'seeds', ?, now(), 0, ?, 'applied', ?)",
        params![set.seeds_checksum(), set.seeds.len() as i64, run_id],
    )?;
    let mut out = Vec::new();
    for s in &set.scripts[from..] {
        let a = apply(conn, s, run_id)?;
        on_step(&a);
        out.push(a);
    }
    Ok(out)
}

/// Applies DuckDB resource settings from `ferry.toml` so big transforms
/// spill to disk instead of running out of memory.
pub fn configure(
    conn: &Connection,
    workspace: &Path,
    memory_limit: &str,
    threads: usize,
) -> Result<()> {
    let tmp = workspace.join(".duckdb-spill");
    conn.execute_batch(&format!(
        "SET memory_limit = '{}'; SET temp_directory = '{}'; SET threads = {}; SET preserve_insertion_order = false;",
        memory_limit.replace('\'', ""),
        tmp.to_string_lossy().replace('\'', "''"),
        threads.max(1)
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_created_tables() {
        let sql = "CREATE OR REPLACE TABLE stg_a AS SELECT 1; create table if not exists b (x int);\nCREATE TEMP TABLE c AS SELECT 1; CREATE VIEW v AS SELECT 1;";
        assert_eq!(created_tables(sql), vec!["stg_a", "b", "c"]);
    }
}
