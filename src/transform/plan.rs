//! `ferry transform --plan`: which scripts changed since they last ran and
//! what will rerun (the first changed script and everything after it).

use duckdb::Connection;

use super::scripts::ScriptSet;
use crate::error::Result;

/// Why a script is in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    /// Same checksum as the last successful run.
    Unchanged,
    /// Never applied.
    New,
    /// Checksum differs from the last run.
    Changed,
    /// Its last run did not finish (crash or error).
    Dirty,
    /// Unchanged itself, but an earlier step reruns.
    Downstream,
}

/// The plan: per script, its state and whether it runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<(StepState, bool)>,
    /// Index of the first script to run; `None` = nothing to do.
    pub rerun_from: Option<usize>,
    pub reasons: Vec<String>,
}

struct Last {
    version: i32,
    checksum: String,
    status: String,
    applied_at: i64,
}

fn last_runs(conn: &Connection) -> Result<Vec<Last>> {
    let mut stmt = conn.prepare(
        "SELECT version, checksum, status, epoch_ms(applied_at) FROM ferry_sql_ledger
         QUALIFY row_number() OVER (PARTITION BY version ORDER BY applied_at DESC) = 1",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Last {
            version: r.get(0)?,
            checksum: r.get(1)?,
            status: r.get(2)?,
            applied_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
}

/// Computes the plan. `rebuild` reruns everything.
pub fn plan(conn: &Connection, set: &ScriptSet, rebuild: bool) -> Result<Plan> {
    let last = last_runs(conn)?;
    let find = |v: i32| last.iter().find(|l| l.version == v);
    let mut states = Vec::new();
    let mut reasons = Vec::new();
    let mut first: Option<usize> = None;
    for (i, s) in set.scripts.iter().enumerate() {
        let st = match find(s.version) {
            None => StepState::New,
            Some(l) if l.status != "applied" => StepState::Dirty,
            Some(l) if l.checksum != s.checksum => StepState::Changed,
            Some(_) => StepState::Unchanged,
        };
        if st != StepState::Unchanged && first.is_none() {
            first = Some(i);
        }
        states.push(st);
    }
    if let Some(i) = first {
        let why = match states[i] {
            StepState::New => "is new",
            StepState::Changed => "changed",
            StepState::Dirty => "did not finish last time",
            _ => "reruns",
        };
        reasons.push(format!("{} {why}", set.scripts[i].file));
    }
    // Seeds are version 0 in the ledger.
    match find(0) {
        Some(l) if l.checksum == set.seeds_checksum() => {}
        Some(_) => {
            reasons.push("a seed (mapping CSV) changed".into());
            first = Some(0);
        }
        None => first = Some(0),
    }
    // New raw data since the last complete transform reruns everything.
    if let Some(last_script) = set.scripts.last().and_then(|s| find(s.version)) {
        let newest_part: Option<i64> = conn.query_row(
            "SELECT epoch_ms(max(created_at)) FROM ferry_raw_parts",
            [],
            |r| r.get(0),
        )?;
        if newest_part.is_some_and(|p| p > last_script.applied_at) {
            reasons.push("raw data was extracted after the last transform".into());
            first = Some(0);
        }
    }
    if rebuild {
        reasons.push("--rebuild".into());
        first = Some(0);
    }
    let steps = states
        .into_iter()
        .enumerate()
        .map(|(i, st)| {
            let runs = first.is_some_and(|f| i >= f);
            let st = if runs && st == StepState::Unchanged {
                StepState::Downstream
            } else {
                st
            };
            (st, runs)
        })
        .collect();
    Ok(Plan {
        steps,
        rerun_from: first,
        reasons,
    })
}
