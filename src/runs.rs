//! `ferry_runs`: one row per command run, written at start and at finish.
//! A row still `running` when the next command takes the lock belonged to a
//! process that died (kill -9, power cut): it is marked `interrupted`.

use duckdb::{params, Connection};

use crate::error::Result;

/// A new, sortable run id: UTC time plus a random suffix.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

/// Records the start of a run. `args` must not contain secrets (ferry takes
/// secrets only from the environment, so the command line never has them).
pub fn start(conn: &Connection, run_id: &str, command: &str, args: &[String]) -> Result<()> {
    conn.execute(
        "UPDATE ferry_runs SET outcome = 'interrupted', finished_at = now(),
         message = 'process ended without finishing (killed or crashed); rerun the command to resume'
         WHERE outcome = 'running'",
        [],
    )?;
    conn.execute(
        "INSERT INTO ferry_runs (run_id, command, args, started_at, outcome, ferry_version)
         VALUES (?, ?, ?, now(), 'running', ?)",
        params![
            run_id,
            command,
            serde_json::to_string(args).unwrap_or_default(),
            env!("CARGO_PKG_VERSION")
        ],
    )?;
    Ok(())
}

/// Records a run stopped on purpose (Ctrl-C, SIGTERM) after it recorded
/// everything it sent.
pub fn interrupted(conn: &Connection, run_id: &str, message: &str) -> Result<()> {
    conn.execute(
        "UPDATE ferry_runs SET finished_at = now(), outcome = 'interrupted', message = ? WHERE run_id = ?",
        params![message, run_id],
    )?;
    Ok(())
}

/// Records how a run ended.
pub fn finish(conn: &Connection, run_id: &str, ok: bool, message: &str) -> Result<()> {
    conn.execute(
        "UPDATE ferry_runs SET finished_at = now(), outcome = ?, message = ? WHERE run_id = ?",
        params![if ok { "ok" } else { "failed" }, message, run_id],
    )?;
    Ok(())
}
