//! The change pass of a load: records loaded by an earlier run that
//! changed in the source since (their payload hash differs from the one
//! `ferry_id_map` recorded), and records gone from the source (loaded,
//! but no longer in the phase's output table). This is what carries a
//! cutover's delta: the engine finds the changes and records every
//! outcome in `ferry_changes`; the destination decides how each kind is
//! applied (`Destination::send_changes`).
//!
//! Updates set absolute values, so a change batch left `sent` by a crash
//! is simply looked for again: the record still differs from its recorded
//! hash and is sent once more. (New children, such as comments on an
//! imported ticket, are not changes: they are new rows of their own phase,
//! reconciled like any in-doubt creation.)

use std::sync::Arc;

use duckdb::{params, Connection};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

use super::phase::{Phase, Window};
use super::query::{phase_error, strip, LoadSql, Vars};
use super::{blocking, LoadCtx, WINDOW_ROWS};
use crate::error::{FerryError, Result};

/// Changes per committed batch, and batches in flight.
const CHANGE_BATCH: usize = 25;
const IN_FLIGHT: usize = 6;

/// What happened to a loaded record in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Its payload (the compared fields) differs from the loaded one.
    Changed,
    /// It is no longer in the phase's output table.
    Deleted,
}

impl ChangeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::Changed => "changed",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// One change to apply to a record loaded earlier.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub kind: ChangeKind,
    pub source_id: String,
    pub dest_id: String,
    /// What an update sends (`Phase::change_payload`); empty for a deletion.
    pub payload: String,
    pub old_hash: Option<String>,
    pub new_hash: Option<String>,
}

/// What the destination did with one change.
#[derive(Debug, Clone)]
pub struct Applied {
    /// `update`, `tag`, `delete`, `leave`, `skip_closed`…
    pub action: String,
    /// False: deliberately not applied (the policy says leave, the record
    /// is read-only there); `detail` says why.
    pub applied: bool,
    pub detail: Option<String>,
}

impl Applied {
    pub fn done(action: &str) -> Applied {
        Applied {
            action: action.into(),
            applied: true,
            detail: None,
        }
    }

    pub fn not_applied(action: &str, why: impl Into<String>) -> Applied {
        Applied {
            action: action.into(),
            applied: false,
            detail: Some(why.into()),
        }
    }
}

/// The outcome of one change: what was done, or (HTTP status, error body).
pub type ChangeResult = std::result::Result<Applied, (Option<u16>, String)>;

/// A phase's change pass, in figures.
#[derive(Debug, Clone, Default)]
pub struct ChangeSummary {
    pub changed: u64,
    pub deleted: u64,
    pub applied: u64,
    pub not_applied: u64,
    pub failed: u64,
    /// Changed records whose payload waits on a reference (not sent).
    pub held: u64,
}

/// What the change pass found for one phase, before anything is sent.
#[derive(Debug, Default)]
pub struct Found {
    pub rows: Vec<ChangeRow>,
    /// (source_id, why) of changed records that cannot be sent yet.
    pub held: Vec<(String, String)>,
}

/// Finds the changed (when `compare`) and deleted records of `phase`
/// (nothing is sent).
pub fn detect(
    conn: &Connection,
    sql: &LoadSql,
    vars: &Vars,
    phase: &Phase,
    compare: bool,
) -> Result<Found> {
    let mut found = Found::default();
    let Some(changes) = phase.changes else {
        return Ok(found);
    };
    let vars = Vars {
        loaded: true,
        dry_projection: false,
        ..vars.clone()
    };
    let text = sql.get(&phase.sql_file())?;
    // An anchor phase aggregates its children per window: its loaded
    // records are cut into windows too, so memory stays flat.
    let windows: Vec<Option<i64>> = if !compare {
        Vec::new()
    } else if phase.window == Window::Anchor {
        vars.apply(conn, sql, None)?;
        conn.execute("DELETE FROM load_window", [])?;
        conn.execute(
            &format!(
                "INSERT INTO load_window SELECT source_id, (row_number() OVER (ORDER BY source_id) - 1) // {WINDOW_ROWS}
                 FROM ferry_id_map WHERE dest = ? AND dest_object = ?"
            ),
            params![vars.dest, phase.name],
        )?;
        let mut stmt = conn.prepare("SELECT DISTINCT win FROM load_window ORDER BY win")?;
        let wins = stmt
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if wins.len() <= 1 {
            vec![None]
        } else {
            wins.into_iter().map(Some).collect()
        }
    } else {
        vec![None]
    };
    for w in windows {
        vars.apply(conn, sql, w)?;
        let query = format!(
            "SELECT q.source_id, q.hold, q.payload, m.dest_id, m.payload_hash
             FROM ({}) q
             JOIN ferry_id_map m ON m.dest = '{}' AND m.dest_object = '{}' AND m.source_id = q.source_id",
            strip(text),
            vars.dest,
            phase.name
        );
        let mut stmt = conn
            .prepare(&query)
            .map_err(|e| phase_error(&format!("phase {} (changes)", phase.name), &e))?;
        for batch in stmt.stream_arrow([])? {
            let batch = batch?;
            let cols = super::query::text_columns(&batch, 5, phase)?;
            let cols: Vec<&arrow::array::StringArray> = cols
                .iter()
                .map(|c| c.as_any().downcast_ref().expect("cast to Utf8"))
                .collect();
            use arrow::array::Array;
            let text = |c: usize, i: usize| (!cols[c].is_null(i)).then(|| cols[c].value(i));
            for i in 0..batch.num_rows() {
                let source_id = text(0, i).unwrap_or_default().to_string();
                let payload = text(2, i).unwrap_or_default();
                let new_hash = phase.change_hash(payload);
                let old_hash = text(4, i).map(str::to_string);
                // A reconciled record has no recorded hash: its update is
                // sent (updates set absolute values, so that is safe).
                if old_hash.as_deref() == Some(new_hash.as_str()) {
                    continue;
                }
                if let Some(h) = text(1, i) {
                    found.held.push((source_id, h.to_string()));
                    continue;
                }
                found.rows.push(ChangeRow {
                    kind: ChangeKind::Changed,
                    source_id,
                    dest_id: text(3, i).unwrap_or_default().to_string(),
                    payload: phase.change_payload(payload),
                    old_hash,
                    new_hash: Some(new_hash),
                });
            }
        }
    }
    // A pilot load sees only its sample: everything else would look gone.
    if let (Some(output), false) = (changes.output, vars.sample) {
        let mut stmt = conn.prepare(&format!(
            "SELECT m.source_id, m.dest_id, m.payload_hash FROM ferry_id_map m
             WHERE m.dest = ? AND m.dest_object = ?
               AND m.source_id NOT IN (SELECT source_id FROM {output})
               AND m.source_id NOT IN (SELECT c.source_id FROM ferry_changes c
                                       WHERE c.dest = m.dest AND c.dest_object = m.dest_object
                                         AND c.kind = 'deleted' AND c.status IN ('applied', 'not_applied'))
             ORDER BY m.source_id"
        ))
        .map_err(|e| phase_error(&format!("phase {} (deletions)", phase.name), &e))?;
        let gone = stmt.query_map(params![vars.dest, phase.name], |r| {
            Ok(ChangeRow {
                kind: ChangeKind::Deleted,
                source_id: r.get(0)?,
                dest_id: r.get(1)?,
                payload: String::new(),
                old_hash: r.get(2)?,
                new_hash: None,
            })
        })?;
        for g in gone {
            found.rows.push(g?);
        }
    }
    Ok(found)
}

/// Finds and applies the changes of `phase`; every outcome goes to
/// `ferry_changes`, and an applied (or deliberately skipped) change's new
/// hash to `ferry_id_map`, so it is not looked at again.
pub async fn run(ctx: &Arc<LoadCtx>, phase: &'static Phase) -> Result<ChangeSummary> {
    let mut sum = ChangeSummary::default();
    if phase.changes.is_none() {
        return Ok(sum);
    }
    let c = ctx.clone();
    let found = blocking(move || {
        let db = c.db.lock().unwrap();
        // Records this run created are as they are now: only an earlier
        // run's records (or reconciled ones, whose hash is unknown) can
        // have changed. A first load skips the comparison.
        let earlier: i64 = db.query_row(
            "SELECT count(*) FROM ferry_id_map WHERE dest = ? AND dest_object = ?
             AND (payload_hash IS NULL OR NOT starts_with(coalesce(batch_id, ''), ?))",
            params![c.dest.kind(), phase.name, format!("{}-", c.run_id)],
            |r| r.get(0),
        )?;

        // A change batch left `sent` by a crash is found again below.
        db.execute(
            "UPDATE ferry_batches SET status = 'resent', finished_at = now() WHERE dest = ? AND object = ? AND status = 'sent'",
            params![c.dest.kind(), changes_object(phase)],
        )?;
        detect(&db, &c.sql, &c.vars, phase, earlier > 0)
    })
    .await?;
    sum.held = found.held.len() as u64;
    record_held(ctx, phase, found.held).await?;
    let mut in_flight = FuturesUnordered::new();
    for chunk in found.rows.chunks(CHANGE_BATCH) {
        for r in chunk {
            match r.kind {
                ChangeKind::Changed => sum.changed += 1,
                ChangeKind::Deleted => sum.deleted += 1,
            }
        }
        let seq = 1 + ctx
            .batch_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        in_flight.push(send_batch(ctx.clone(), phase, seq, chunk.to_vec()));
        while in_flight.len() >= IN_FLIGHT {
            add(&mut sum, in_flight.next().await.unwrap()?);
        }
    }
    while let Some(r) = in_flight.next().await {
        add(&mut sum, r?);
    }
    Ok(sum)
}

fn add(sum: &mut ChangeSummary, (applied, not_applied, failed): (u64, u64, u64)) {
    sum.applied += applied;
    sum.not_applied += not_applied;
    sum.failed += failed;
}

/// `ferry_batches.object` of a phase's change batches.
fn changes_object(phase: &Phase) -> String {
    format!("{}:changes", phase.name)
}

/// Held changes are re-evaluated every run: the previous list is replaced.
async fn record_held(
    ctx: &Arc<LoadCtx>,
    phase: &'static Phase,
    held: Vec<(String, String)>,
) -> Result<()> {
    let c = ctx.clone();
    blocking(move || {
        let mut db = c.db.lock().unwrap();
        let tx = db.transaction()?;
        tx.execute(
            "DELETE FROM ferry_changes WHERE dest = ? AND dest_object = ? AND status = 'held'",
            params![c.dest.kind(), phase.name],
        )?;
        let rows: Vec<Value> = held
            .iter()
            .map(|(s, why)| serde_json::json!({"s": s, "b": why}))
            .collect();
        tx.execute(
            "INSERT INTO ferry_changes
             SELECT ?, NULL, ?, ?, j.s, NULL, 'changed', 'wait', 'held', NULL, NULL, j.b, now(), NULL
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"b\":\"VARCHAR\"}]')) AS j)",
            params![c.run_id, c.dest.kind(), phase.name, serde_json::to_string(&rows).unwrap()],
        )?;
        tx.commit()?;
        Ok(())
    })
    .await
}

/// Sends one batch of changes and commits the outcomes; returns
/// (applied, not applied, failed).
async fn send_batch(
    ctx: Arc<LoadCtx>,
    phase: &'static Phase,
    seq: u32,
    rows: Vec<ChangeRow>,
) -> Result<(u64, u64, u64)> {
    let batch_id = format!("{}-{}-changes-{seq:05}", ctx.run_id, phase.name);
    {
        let c = ctx.clone();
        let batch_id = batch_id.clone();
        let items: Vec<(String, Option<String>)> =
            rows.iter().map(|r| (r.source_id.clone(), None)).collect();
        let items = serde_json::to_string(&items).unwrap();
        let n = rows.len() as i64;
        blocking(move || {
            c.db.lock().unwrap().execute(
                "INSERT INTO ferry_batches (batch_id, dest, object, size, request_hash, status, started_at, items)
                 VALUES (?, ?, ?, ?, NULL, 'sent', now(), ?)",
                params![batch_id, c.dest.kind(), changes_object(phase), n, items],
            )?;
            Ok(())
        })
        .await?;
    }
    let results = ctx.dest.send_changes(&ctx, phase, &rows).await?;
    if results.len() != rows.len() {
        return Err(FerryError::Other(format!(
            "batch {batch_id}: the destination answered {} results for {} changes",
            results.len(),
            rows.len()
        )));
    }
    crate::chaos::crash_point("load.changes_sent");
    let mut out = Vec::new();
    let (mut applied, mut not_applied, mut failed) = (0, 0, 0);
    for (r, res) in rows.iter().zip(results) {
        let (action, status, detail) = match res {
            Ok(a) if a.applied => {
                applied += 1;
                (a.action, "applied", a.detail)
            }
            Ok(a) => {
                not_applied += 1;
                (a.action, "not_applied", a.detail)
            }
            Err((code, body)) => {
                failed += 1;
                let why = match code {
                    Some(c) => format!("HTTP {c}: {body}"),
                    None => body,
                };
                ("update".to_string(), "failed", Some(why))
            }
        };
        out.push(serde_json::json!({
            "s": r.source_id, "d": r.dest_id, "k": r.kind.as_str(), "a": action, "st": status,
            "o": r.old_hash, "n": r.new_hash, "b": detail,
            "p": (!r.payload.is_empty()).then_some(&r.payload),
        }));
    }
    let out = serde_json::to_string(&out).unwrap();
    let c = ctx.clone();
    blocking(move || {
        let mut db = c.db.lock().unwrap();
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO ferry_changes
             SELECT ?, ?, ?, ?, j.s, j.d, j.k, j.a, j.st, j.o, j.n, j.b, now(), j.p
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"d\":\"VARCHAR\",\"k\":\"VARCHAR\",\"a\":\"VARCHAR\",\"st\":\"VARCHAR\",\"o\":\"VARCHAR\",\"n\":\"VARCHAR\",\"b\":\"VARCHAR\",\"p\":\"VARCHAR\"}]')) AS j)",
            params![c.run_id, batch_id, c.dest.kind(), phase.name, out],
        )?;
        // Applied or deliberately skipped: the new hash is the baseline of
        // the next comparison. A failure keeps the old one, so it is tried
        // again.
        tx.execute(
            "UPDATE ferry_id_map SET payload_hash = j.n
             FROM (SELECT x.s, x.k, x.st, x.n
                   FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"k\":\"VARCHAR\",\"st\":\"VARCHAR\",\"n\":\"VARCHAR\"}]')) AS x)) j
             WHERE j.k = 'changed' AND j.st <> 'failed'
               AND ferry_id_map.dest = ? AND ferry_id_map.dest_object = ? AND ferry_id_map.source_id = j.s",
            params![out, c.dest.kind(), phase.name],
        )?;
        tx.execute(
            "UPDATE ferry_batches SET status = ?, finished_at = now() WHERE batch_id = ?",
            params![if failed == 0 { "done" } else { "done_with_errors" }, batch_id],
        )?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    Ok((applied, not_applied, failed))
}
