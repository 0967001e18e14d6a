//! `ferry load --dry-run`: every phase's payloads built and checked
//! against the destination's content rules, and the requests counted,
//! without one request. Phases run in load order, each seeing what the
//! earlier ones would create, so a fresh workspace's estimate counts the
//! messages of tickets that do not exist yet.

use duckdb::Connection;

use super::phase::Phase;
use super::query::{query_rows, LoadSql, Vars};
use crate::connector::Destination;
use crate::error::Result;

/// What one phase would do.
#[derive(Debug, Clone)]
pub struct DryRunPhase {
    pub phase: String,
    pub rows: u64,
    /// Rows that would be held back (waiting on a reference).
    pub held: u64,
    pub requests: u64,
    /// Records loaded earlier whose payload changed since (a delta load).
    pub changed: u64,
    /// Records loaded earlier that are gone from the source.
    pub deleted: u64,
    /// Which destination call each kind of record needs.
    pub calls: Vec<String>,
    /// The first few problems, each naming its record.
    pub problems: Vec<String>,
}

/// Builds and checks every payload of `phases`.
pub fn dry_run(
    conn: &Connection,
    sql: &LoadSql,
    vars: &Vars,
    dest: &dyn Destination,
    phases: &[&'static Phase],
) -> Result<Vec<DryRunPhase>> {
    let mut out = Vec::new();
    conn.execute_batch("DROP TABLE IF EXISTS temp.ferry_dry_loaded")?;
    for phase in phases {
        let (mut n, mut held) = (0u64, 0u64);
        let mut problems = Vec::new();
        let mut created = Vec::new();
        let phase_vars = Vars {
            dry_projection: phase.dry_run_projects_parents,
            ..vars.clone()
        };
        query_rows(conn, sql, &phase_vars, phase, None, |row| {
            n += 1;
            // Content is checked whatever the hold: a dry run happens before
            // anything is loaded, so every reference is still pending.
            let checked = serde_json::from_str(&row.payload)
                .map_err(|e| format!("payload is not JSON: {e}"))
                .and_then(|v| dest.validate(phase, &v, row.path_arg.as_deref()));
            let problem = match (&row.hold, checked) {
                (_, Err(p)) => Some(p),
                (Some(h), Ok(())) if !h.ends_with("is not loaded") => Some(h.clone()),
                _ => None,
            };
            if row.hold.is_some() {
                held += 1;
            } else if problem.is_none() {
                created.push((row.source_id.clone(), stand_in_id(phase, &row.payload, n)));
            }
            if let Some(p) = problem {
                if problems.len() < 5 {
                    problems.push(format!("{}: {p}", row.source_id));
                }
            }
            true
        })?;
        project(conn, phase, &created)?;
        let found = super::changes::detect(conn, sql, vars, phase, true)?;
        let deleted = found
            .rows
            .iter()
            .filter(|r| r.kind == super::changes::ChangeKind::Deleted)
            .count() as u64;
        let changed = found.rows.len() as u64 - deleted;
        // The call each kind of record found needs.
        let mut calls = Vec::new();
        if n > held {
            calls.push(format!(
                "new: {}",
                phase.call.path.replace("{}", "{parent}")
            ));
        }
        if let (Some(c), true) = (phase.changes, changed > 0) {
            calls.push(format!("changed: {}", c.update));
        }
        if deleted > 0 {
            calls.push(format!("deleted: {}", dest.deletion_action(phase)));
        }
        out.push(DryRunPhase {
            phase: phase.name.to_string(),
            rows: n,
            held,
            // One request per change (a changed and a deleted record alike).
            requests: phase.requests_for(n - held) + changed + deleted,
            changed,
            deleted,
            calls,
            problems,
        });
    }
    Ok(out)
}

/// The id a record the dry run would create stands in with for the later
/// phases: the value the payload sets where the destination's id is a
/// field of the record (a custom object's `key`), else a number no real
/// record has.
fn stand_in_id(phase: &Phase, payload: &str, n: u64) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| match &v[phase.call.id_field] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(x) => Some(x.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| (900_000_000_000_000 + n).to_string())
}

/// Records what `phase` would create in `ferry_dry_loaded` (a temp table:
/// nothing of a dry run stays in the workspace).
fn project(conn: &Connection, phase: &Phase, created: &[(String, String)]) -> Result<()> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    for chunk in created.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(src, dest)| {
                format!(
                    "({}, {}, {}, now())",
                    quote(phase.name),
                    quote(src),
                    quote(dest)
                )
            })
            .collect();
        conn.execute_batch(&format!(
            "INSERT INTO temp.ferry_dry_loaded VALUES {}",
            values.join(", ")
        ))?;
    }
    Ok(())
}
