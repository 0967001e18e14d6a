//! `ferry verify`: proves where every source record went.
//!
//! 1. The funnel (`sql/verify/funnel.sql`): each extracted record's final
//!    state; a record in no bucket, or output but never loaded, fails.
//!    The source's `verify/staged.sql` counts what staging read, the
//!    route's `verify/lineage.sql` says which source records each
//!    destination row carries; the funnel itself names no API.
//! 2. The destination's read-back (`Destination::verify`): counts, the
//!    existence of every created id, a sample compared field by field.
//!
//! The tables `verify_*` stay in `ferry.duckdb` for auditors' SQL; the
//! report goes to `reports/verify-<run>.json` and `.html`.

pub mod content;
pub mod fields;
pub mod html;
pub mod report;
pub mod sample;

use std::path::Path;

use duckdb::Connection;

use crate::connector::{Destination, Source};
use crate::error::Result;
use crate::load::LoadSql;
use report::*;

/// Reason groups a report lists; the rest stay in `verify_reasons`.
pub const REASONS_SHOWN: usize = 200;

/// Builds the funnel tables (the route's lineage, then the generic
/// funnel) and reads them.
pub fn funnel(
    conn: &Connection,
    sql: &LoadSql,
    dest: &str,
) -> Result<(Vec<FunnelRow>, Vec<ReasonRow>)> {
    let text = format!(
        "SET VARIABLE ferry_dest = '{dest}';\n{}\n{}\n{}\n{}\n{}",
        crate::transform::scripts::engine_file("engine/verify_macros.sql")?,
        // The source's verify rules, for every route's verify SQL (a
        // source without any has no file).
        sql.get("verify/macros.sql").unwrap_or(""),
        sql.get("verify/staged.sql")?,
        sql.get("verify/lineage.sql")?,
        crate::transform::scripts::engine_file("verify/funnel.sql")?
    );
    conn.execute_batch(&text).map_err(|e| {
        crate::error::FerryError::Other(format!(
            "verify: {} (has `ferry transform` run?)",
            crate::transform::duck_message(&e.to_string())
        ))
    })?;
    let mut stmt = conn.prepare(
        "SELECT object, extracted, coalesce(staged, 0), output, loaded, failed, held, merged, archived, excluded, pending, unaccounted FROM verify_funnel",
    )?;
    let funnel = stmt
        .query_map([], |r| {
            Ok(FunnelRow {
                object: r.get(0)?,
                extracted: r.get(1)?,
                staged: r.get(2)?,
                output: r.get(3)?,
                loaded: r.get(4)?,
                failed: r.get(5)?,
                held: r.get(6)?,
                merged: r.get(7)?,
                archived: r.get(8)?,
                excluded: r.get(9)?,
                pending: r.get(10)?,
                unaccounted: r.get(11)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // What needs action first; the report shows at most REASONS_SHOWN
    // groups and says how many it leaves to the table.
    let mut stmt = conn.prepare(&format!(
        "SELECT object, state, reason, records FROM verify_reasons
         ORDER BY needs_action_rank, records DESC, object LIMIT {REASONS_SHOWN}"
    ))?;
    let reasons = stmt
        .query_map([], |r| {
            Ok(ReasonRow {
                object: r.get(0)?,
                state: r.get(1)?,
                reason: r.get(2)?,
                records: r.get(3)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((funnel, reasons))
}

/// Per phase: the latest recorded figures of each load phase.
pub fn phase_timings(conn: &Connection) -> Result<Vec<PhaseTiming>> {
    let mut stmt = conn.prepare(
        "SELECT run_id, phase, rows, created, failed, requests, throttled, seconds, coalesce(tier_per_minute, 0)
         FROM ferry_load_phases QUALIFY row_number() OVER (PARTITION BY phase ORDER BY finished_at DESC) = 1
         ORDER BY finished_at",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let requests: i64 = r.get(5)?;
            let seconds: f64 = r.get(7)?;
            let tier: i64 = r.get(8)?;
            Ok(PhaseTiming {
                run_id: r.get(0)?,
                phase: r.get(1)?,
                rows: r.get(2)?,
                created: r.get(3)?,
                failed: r.get(4)?,
                requests,
                throttled: r.get(6)?,
                seconds,
                tier_per_minute: tier,
                budget_used_pct: if seconds > 0.0 && tier > 0 {
                    requests as f64 / seconds * 60.0 / tier as f64 * 100.0
                } else {
                    0.0
                },
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Source rules that must be rebuilt by hand: whatever of them was
/// extracted, by name.
pub fn manual_rules(
    conn: &Connection,
    source: &dyn Source,
    dest: &dyn Destination,
) -> Result<Vec<ManualRule>> {
    let mut out = Vec::new();
    for rule in source.manual_rules() {
        let sql = format!(
            "SELECT id, coalesce({}, id) FROM raw_{}_{} WHERE {} ORDER BY 2",
            rule.name_sql,
            source.kind(),
            rule.object,
            rule.live_sql
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, name) = row?;
            out.push(ManualRule {
                kind: rule.kind.into(),
                name,
                source_id: id,
                note: dest.rebuild_hint(rule.kind),
            });
        }
    }
    Ok(out)
}

/// Streams the source would not serve (`ferry_unavailable`).
pub fn unavailable(conn: &Connection, source: &dyn Source) -> Result<Vec<Unavailable>> {
    let mut stmt = conn.prepare(
        "SELECT object, status, reason FROM ferry_unavailable WHERE source = ? ORDER BY object",
    )?;
    let rows = stmt
        .query_map([source.kind()], |r| {
            Ok(Unavailable {
                object: r.get(0)?,
                status: r.get(1)?,
                reason: r.get(2)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Records the source gave only in part (its `incomplete_sql`): the total
/// and the first `limit`.
pub fn incomplete(
    conn: &Connection,
    source: &dyn Source,
    limit: usize,
) -> Result<(i64, Vec<Incomplete>)> {
    let Some(sql) = source.incomplete_sql() else {
        return Ok((0, Vec::new()));
    };
    // Before a transform ran, the staged tables it reads do not exist yet.
    if conn
        .prepare(&format!("SELECT * FROM ({sql}) LIMIT 0"))
        .is_err()
    {
        return Ok((0, Vec::new()));
    }
    // One table on every route, whatever the source's staged tables are
    // called, so the report can name where the full list is.
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE verify_incomplete AS SELECT * FROM ({sql}) ORDER BY 1, 2;
         COMMENT ON TABLE verify_incomplete IS 'ferry verify: source records read only in part (object, source_id, reason)';"
    ))?;
    let total: i64 = conn.query_row("SELECT count(*) FROM verify_incomplete", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(&format!(
        "SELECT object, source_id, reason FROM verify_incomplete ORDER BY 1, 2 LIMIT {limit}"
    ))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Incomplete {
                object: r.get(0)?,
                source_id: r.get(1)?,
                reason: r.get(2)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((total, rows))
}

/// Changes to loaded records: what `ferry_changes` says became of each
/// (its latest entry), and those found now that no load carried yet.
pub fn changes(
    conn: &Connection,
    sql: &LoadSql,
    dest: &dyn Destination,
) -> Result<Vec<ChangeCount>> {
    let mut stmt = conn.prepare(
        "SELECT dest_object, kind, action, status, count(*), any_value(detail)
         FROM (SELECT * FROM ferry_changes WHERE dest = ?
               QUALIFY row_number() OVER (PARTITION BY dest_object, source_id, kind ORDER BY changed_at DESC) = 1)
         GROUP BY ALL ORDER BY 1, 2, 3, 4",
    )?;
    let mut out = stmt
        .query_map([dest.kind()], |r| {
            Ok(ChangeCount {
                phase: r.get(0)?,
                kind: r.get(1)?,
                action: r.get(2)?,
                status: r.get(3)?,
                records: r.get(4)?,
                detail: r.get(5)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    // Before anything was loaded there is nothing to compare with.
    let loaded: i64 = conn.query_row(
        "SELECT count(*) FROM ferry_id_map WHERE dest = ?",
        [dest.kind()],
        |r| r.get(0),
    )?;
    if loaded == 0 {
        return Ok(out);
    }
    let vars = crate::load::Vars::read_only(dest);
    for phase in dest.phases().iter().filter(|p| p.changes.is_some()) {
        let found = crate::load::changes::detect(conn, sql, &vars, phase, true)?;
        for (kind, action) in [
            (
                crate::load::changes::ChangeKind::Changed,
                phase.changes.unwrap().update.to_string(),
            ),
            (
                crate::load::changes::ChangeKind::Deleted,
                dest.deletion_action(phase),
            ),
        ] {
            let n = found.rows.iter().filter(|r| r.kind == kind).count() as i64;
            if n > 0 {
                out.push(ChangeCount {
                    phase: phase.name.into(),
                    kind: kind.as_str().into(),
                    action,
                    status: "pending".into(),
                    records: n,
                    detail: Some("found since the last load: run `ferry load`".into()),
                });
            }
        }
    }
    Ok(out)
}

/// A few ids of records in `state`, to name them in a problem.
pub fn examples(conn: &Connection, object: &str, state: &str) -> Result<String> {
    let mut stmt = conn.prepare(
        "SELECT source_id FROM verify_records WHERE object = ? AND state = ? ORDER BY source_id LIMIT 5",
    )?;
    let ids = stmt
        .query_map([object, state], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(ids.join(", "))
}

/// Everything wrong, in words, from the parts of a report.
pub fn problems(
    conn: &Connection,
    funnel: &[FunnelRow],
    dest: &[DestinationCheck],
    sample: &SampleCheck,
    changes: &[ChangeCount],
) -> Vec<String> {
    let mut out = Vec::new();
    for c in changes {
        match c.status.as_str() {
            "failed" | "held" | "pending" => out.push(format!(
                "{}: {} {} records {} ({}): {}",
                c.phase,
                c.records,
                c.kind,
                if c.status == "pending" {
                    "not carried yet"
                } else {
                    c.status.as_str()
                },
                c.action,
                c.detail.clone().unwrap_or_default()
            )),
            _ => {}
        }
    }
    for f in funnel {
        if f.unaccounted > 0 {
            out.push(format!(
                "{}: {} records are in no bucket, e.g. {} (see verify_records WHERE state = 'unaccounted')",
                f.object,
                f.unaccounted,
                examples(conn, &f.object, "unaccounted").unwrap_or_default()
            ));
        }
        if f.pending > 0 {
            out.push(format!(
                "{}: {} records were output but never loaded, e.g. {}; run `ferry load`",
                f.object,
                f.pending,
                examples(conn, &f.object, "pending").unwrap_or_default()
            ));
        }
    }
    for d in dest {
        if !d.missing.is_empty() {
            out.push(format!(
                "{}: {} records ferry created are missing on the destination (e.g. {})",
                d.phase,
                d.missing.len(),
                d.missing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if !sample.mismatches.is_empty() {
        let first = &sample.mismatches[0];
        out.push(format!(
            "sample: {} field mismatches between what ferry sent and what the destination holds, first: {} → {} {}",
            sample.mismatches.len(),
            first.source_id,
            first.dest_id,
            first.field
        ));
    }
    out
}

/// Writes the JSON and HTML report; returns their paths.
/// Writes `verify-<run>.json` and `.html` into `reports`.
pub fn write(reports: &Path, report: &Report) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    std::fs::create_dir_all(reports)
        .map_err(|e| crate::error::FerryError::io(format!("creating {}", reports.display()), e))?;
    let json_path = reports.join(format!("verify-{}.json", report.run_id));
    let html_path = reports.join(format!("verify-{}.html", report.run_id));
    let json = serde_json::to_vec_pretty(report).expect("report serialises");
    crate::fsutil::write_atomic(&json_path, &json)?;
    crate::fsutil::write_atomic(&html_path, html::render(report).as_bytes())?;
    Ok((json_path, html_path))
}
