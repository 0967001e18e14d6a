//! The generic load engine: a destination's phases in order, each phase's
//! pending rows streamed from its SQL (`load/<phase>.sql` of the route),
//! batched by the phase's batch kind with several batches in flight
//! through one rate limiter, and after every batch the created ids
//! (`ferry_id_map`), failures (`ferry_load_errors`) and the batch's state
//! (`ferry_batches`) committed in one transaction. A batch still `sent`
//! after a crash is in doubt and is reconciled by external id before
//! anything is resent. The destination only shapes requests and reads
//! answers (`Destination::send`).

pub mod changes;
pub mod dry_run;
pub mod phase;
pub mod query;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use duckdb::{params, Connection};
use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::connector::Destination;
use crate::error::{FerryError, Result};
use crate::http::ApiClient;
use phase::{Phase, Window};
pub use query::{LoadSql, Vars};

/// Bulk bodies are kept under this many bytes.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Rows per window at most: a window's anchor query aggregates only its
/// own children, so the loader's memory does not grow with the history.
pub const WINDOW_ROWS: u64 = 2_000;

/// One row a phase wants to send.
#[derive(Debug, Clone)]
pub struct Row {
    pub source_id: String,
    pub external_id: Option<String>,
    pub hold: Option<String>,
    pub payload: String,
    pub path_arg: Option<String>,
    /// Source ids of the children sent inside this row (`Phase::members`).
    pub members: Vec<String>,
}

/// Outcome of one row: its destination id, or (HTTP status, error body).
/// An error without status whose body starts with
/// [`HELD_BY_DESTINATION`] is a hold the destination found (an agent with
/// no seat there): counted as held and tried again on every load.
pub type RowResult = std::result::Result<String, (Option<u16>, String)>;

/// Separates a created record's id from the URL the destination serves it
/// from, in a [`RowResult`] (see [`hosted`]).
const HOSTED_AT: char = '\u{1f}';

/// The id of a file the destination hosts, with the URL it serves it
/// from: the loader records the id in `ferry_id_map` and the URL in
/// `ferry_hosted_files`, for bodies that show the file inline.
pub fn hosted(id: &str, url: &str) -> String {
    format!("{id}{HOSTED_AT}{url}")
}

/// How a destination's hold begins (see [`RowResult`]).
pub const HELD_BY_DESTINATION: &str = "held back: ";

/// Per-phase outcome.
#[derive(Debug, Clone, Default)]
pub struct PhaseSummary {
    pub phase: String,
    pub rows: u64,
    pub created: u64,
    pub failed: u64,
    pub held: u64,
    pub reconciled: u64,
    pub requests: u64,
    /// 429s received during the phase.
    pub throttled: u64,
    pub seconds: f64,
    /// Records loaded earlier that changed or left the source.
    pub changes: changes::ChangeSummary,
}

/// Everything a load shares with the destination's requests.
pub struct LoadCtx {
    pub ws: PathBuf,
    pub run_id: String,
    /// `ferry_id_map.source`.
    pub source: &'static str,
    pub client: Arc<ApiClient>,
    pub db: Arc<Mutex<Connection>>,
    pub dest: Arc<dyn Destination>,
    pub sql: Arc<LoadSql>,
    pub vars: Vars,
    /// Batch numbers, unique in the run (a phase runs once per window);
    /// start it at 0.
    pub batch_seq: AtomicU32,
}

/// Selected phases, in load order.
pub fn selected(all: &'static [Phase], only: &Option<Vec<String>>) -> Result<Vec<&'static Phase>> {
    match only {
        None => Ok(all.iter().collect()),
        Some(names) => {
            for n in names {
                if !all.iter().any(|p| p.name == n) {
                    return Err(FerryError::Other(format!(
                        "--only: unknown phase `{n}` (phases: {})",
                        all.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            Ok(all
                .iter()
                .filter(|p| names.iter().any(|n| n == p.name))
                .collect())
        }
    }
}

/// Runs the load of the selected phases; `report` sees each summary.
pub async fn run(
    ctx: Arc<LoadCtx>,
    phases: Vec<&'static Phase>,
    mut report: impl FnMut(&PhaseSummary),
) -> Result<Vec<PhaseSummary>> {
    // Anchor phases go out window by window, each window's feeder phases
    // just before it, so that no file token waits long enough to expire.
    let anchored = phases.iter().any(|p| p.window == Window::Anchor);
    let feeders: Vec<&'static Phase> = phases
        .iter()
        .copied()
        .filter(|p| p.window == Window::Feeder)
        .collect();
    // Published outside the locked database for `ferry status` and the
    // run's log (crate::live).
    crate::live::start(&ctx.ws, &ctx.run_id, "load", phases.len());
    let publisher = { crate::live::Publisher::start(vec![ctx.client.clone()]) };
    let out = run_phases(&ctx, &phases, anchored, &feeders, &mut report).await;
    publisher.stop();
    out
}

async fn run_phases(
    ctx: &Arc<LoadCtx>,
    phases: &[&'static Phase],
    anchored: bool,
    feeders: &[&'static Phase],
    report: &mut impl FnMut(&PhaseSummary),
) -> Result<Vec<PhaseSummary>> {
    let ctx = ctx.clone();
    let mut out = Vec::new();
    for phase in phases {
        let sums = match phase.window {
            Window::Feeder if anchored => continue,
            Window::Anchor => {
                let mut group = feeders.to_vec();
                group.push(phase);
                run_group(&ctx, group, true).await?
            }
            _ => run_group(&ctx, vec![phase], false).await?,
        };
        for mut sum in sums {
            // After the phase's new records: a change may refer to them.
            if let Some(p) = phases
                .iter()
                .find(|p| p.name == sum.phase && p.changes.is_some())
            {
                let since = mark(&ctx);
                sum.changes = changes::run(&ctx, p).await?;
                charge(&ctx, &mut sum, since);
            }
            record_phase(&ctx, &sum).await?;
            report(&sum);
            out.push(sum);
        }
        if crate::stop::requested() {
            return Err(interrupted(&ctx));
        }
    }
    Ok(out)
}

/// The stop a signal asked for, with how many batches this run sent.
fn interrupted(ctx: &LoadCtx) -> FerryError {
    FerryError::Interrupted {
        batches: u64::from(ctx.batch_seq.load(Ordering::Relaxed)),
    }
}

/// Adds the requests, 429s and seconds spent since `since` to `sum`.
fn charge(ctx: &LoadCtx, sum: &mut PhaseSummary, since: (Instant, u64, u64)) {
    let (requests, throttled) = counters(ctx);
    sum.requests += requests - since.1;
    sum.throttled += throttled - since.2;
    sum.seconds += since.0.elapsed().as_secs_f64();
}

fn mark(ctx: &LoadCtx) -> (Instant, u64, u64) {
    let (r, t) = counters(ctx);
    (Instant::now(), r, t)
}

/// Runs the phases of `group` in turn, once per window when `windowed`
/// (else once over everything pending); one summary per phase.
async fn run_group(
    ctx: &Arc<LoadCtx>,
    group: Vec<&'static Phase>,
    windowed: bool,
) -> Result<Vec<PhaseSummary>> {
    let mut sums: Vec<PhaseSummary> = group
        .iter()
        .map(|p| PhaseSummary {
            phase: p.name.to_string(),
            ..Default::default()
        })
        .collect();
    for (phase, sum) in group.iter().zip(sums.iter_mut()) {
        let since = mark(ctx);
        sum.reconciled = reconcile(ctx, phase).await?;
        charge(ctx, sum, since);
    }
    let (windows, anchored_rows) = if windowed {
        number_windows(ctx).await?
    } else {
        (Vec::new(), 0)
    };
    let multi = indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    // The run as a whole above the phase's bar: phases done, share, ETA.
    let overall = multi.add(ProgressBar::with_draw_target(
        None,
        ProgressDrawTarget::hidden(),
    ));
    overall.set_style(ProgressStyle::with_template("{msg}").unwrap());
    let overall_task = {
        let overall = overall.clone();
        tokio::spawn(async move {
            loop {
                if let Some(s) = crate::live::snapshot() {
                    overall.set_message(crate::live::overall_line(&s));
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        })
    };
    let mut bars = Vec::new();
    for phase in &group {
        // Counting the anchor query would aggregate every child at once:
        // the windows already know how many rows are pending.
        let bar = if windowed && phase.window == Window::Anchor {
            new_bar(phase, anchored_rows)
        } else {
            phase_bar(ctx, phase).await?
        };
        crate::live::phase(phase.name, bar.length().unwrap_or(0));
        bars.push(multi.add(bar));
    }
    let mut held = vec![Vec::new(); group.len()];
    // One window holds everything: no need to restrict the queries.
    let windows: Vec<Option<i64>> = if windows.len() <= 1 {
        vec![None]
    } else {
        windows.into_iter().map(Some).collect()
    };
    for w in windows {
        for (i, phase) in group.iter().enumerate() {
            let since = mark(ctx);
            held[i].extend(run_phase(ctx, phase, w, &mut sums[i], &bars[i]).await?);
            charge(ctx, &mut sums[i], since);
        }
        if crate::stop::requested() {
            // The rows held so far are a partial list: the next run
            // re-evaluates them all.
            for bar in &bars {
                bar.finish_and_clear();
            }
            overall_task.abort();
            overall.finish_and_clear();
            return Err(interrupted(ctx));
        }
    }
    for ((phase, bar), (sum, held)) in group.iter().zip(&bars).zip(sums.iter_mut().zip(held)) {
        bar.finish_and_clear();
        crate::live::phase_done(phase.name);
        sum.held += held.len() as u64;
        record_held(ctx, phase, held).await?;
    }
    overall_task.abort();
    overall.finish_and_clear();
    Ok(sums)
}

/// Fills `load_window` (the route's `load/window.sql`) and returns the
/// window numbers in send order, and the pending anchor rows. A window's
/// uploads take a third of the token lifetime at the rate tier.
async fn number_windows(ctx: &Arc<LoadCtx>) -> Result<(Vec<i64>, u64)> {
    let per_window = match ctx.vars.upload_token_secs {
        Some(secs) => (ctx.client.limiter.per_minute() as f64 * secs / 60.0 / 3.0) as u64,
        None => u64::MAX / 4,
    };
    let c = ctx.clone();
    blocking(move || {
        let db = c.db.lock().unwrap();
        c.vars.apply(&db, &c.sql, None)?;
        db.execute_batch(&format!(
            "SET VARIABLE ferry_per_window = {}; SET VARIABLE ferry_window_rows = {WINDOW_ROWS};",
            per_window.max(1)
        ))?;
        db.execute_batch(c.sql.get("load/window.sql")?)
            .map_err(|e| query::phase_error("window.sql", &e))?;
        let mut stmt = db.prepare("SELECT DISTINCT win FROM load_window ORDER BY win")?;
        let wins = stmt
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<Vec<i64>, _>>()?;
        let n: i64 = db.query_row("SELECT count(*) FROM load_window", [], |r| r.get(0))?;
        Ok((wins, n as u64))
    })
    .await
}

/// Requests sent and 429s received so far by the client.
fn counters(ctx: &LoadCtx) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &ctx.client.stats;
    (s.requests.load(Relaxed), s.throttled.load(Relaxed))
}

/// A progress bar over the phase's pending rows (hidden when stderr is not
/// a terminal). Counting first costs one query, far less than a request.
async fn phase_bar(ctx: &Arc<LoadCtx>, phase: &'static Phase) -> Result<ProgressBar> {
    let c = ctx.clone();
    let total =
        blocking(move || query::count_rows(&c.db.lock().unwrap(), &c.sql, &c.vars, phase, None))
            .await?;
    Ok(new_bar(phase, total))
}

fn new_bar(phase: &Phase, total: u64) -> ProgressBar {
    // Hidden until the phase's MultiProgress adds it: a bar drawn on its
    // own first leaves a stale frame in the scrollback.
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len} {rate} eta {left}")
            .unwrap()
            // Whole rows a second, not `111.3394/s`.
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", s.per_sec());
            })
            // No estimate before the first row is done (not `eta 0s`).
            .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = if s.pos() == 0 {
                    write!(w, "-")
                } else {
                    write!(w, "{}", crate::live::duration(s.eta().as_secs()))
                };
            })
            .progress_chars("=> "),
    );
    bar.set_prefix(phase.name);
    bar
}

/// Keeps each phase's figures in `ferry_load_phases` for `verify` and `status`.
async fn record_phase(ctx: &Arc<LoadCtx>, s: &PhaseSummary) -> Result<()> {
    let c = ctx.clone();
    let s = s.clone();
    let tier = ctx.client.limiter.per_minute();
    blocking(move || {
        c.db.lock().unwrap().execute(
            "INSERT INTO ferry_load_phases (run_id, phase, rows, created, failed, held, reconciled, requests,
                 throttled, seconds, tier_per_minute, finished_at, changed, deleted, changes_applied,
                 changes_not_applied, changes_failed)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?)",
            params![
                c.run_id,
                s.phase,
                s.rows as i64,
                s.created as i64,
                s.failed as i64,
                s.held as i64,
                s.reconciled as i64,
                s.requests as i64,
                s.throttled as i64,
                s.seconds,
                tier as i64,
                s.changes.changed as i64,
                s.changes.deleted as i64,
                s.changes.applied as i64,
                s.changes.not_applied as i64,
                s.changes.failed as i64
            ],
        )?;
        Ok(())
    })
    .await
}

/// Runs DuckDB work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FerryError::Other(format!("background task failed: {e}")))?
}

/// Streams a phase's rows from a second DuckDB connection through a
/// bounded channel: memory stays flat whatever the table size.
fn stream_rows(
    ctx: &Arc<LoadCtx>,
    phase: &'static Phase,
    window: Option<i64>,
) -> Result<tokio::sync::mpsc::Receiver<Result<Row>>> {
    let conn = ctx.db.lock().unwrap().try_clone()?;
    let (sql, vars) = (ctx.sql.clone(), ctx.vars.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    std::thread::spawn(move || {
        let res = query::query_rows(&conn, &sql, &vars, phase, window, |row| {
            tx.blocking_send(Ok(row)).is_ok()
        });
        if let Err(e) = res {
            let _ = tx.blocking_send(Err(e));
        }
    });
    Ok(rx)
}

type BatchFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(u64, u64, u64)>> + Send>>;

/// Sends a phase's pending rows (of `window` when set); returns the rows
/// held back, with why.
async fn run_phase(
    ctx: &Arc<LoadCtx>,
    phase: &'static Phase,
    window: Option<i64>,
    sum: &mut PhaseSummary,
    bar: &ProgressBar,
) -> Result<Vec<(String, String)>> {
    let mut rx = stream_rows(ctx, phase, window)?;
    let mut batch: Vec<Row> = Vec::new();
    let mut bytes = 0usize;
    let mut held = Vec::new();
    let mut in_flight: FuturesUnordered<BatchFuture> = FuturesUnordered::new();
    let per_batch = phase.batching().0;
    let max_in_flight = ctx.dest.in_flight(phase);
    let mut last_arg: Option<Option<String>> = None;
    loop {
        // Asked to stop: no new batch; the ones in flight are answered
        // and recorded below, the rest stays pending for the next run.
        if crate::stop::requested() {
            break;
        }
        let next = rx.recv().await;
        let row = match next {
            Some(r) => Some(r?),
            None => None,
        };
        let flush = match &row {
            None => !batch.is_empty(),
            Some(r) => {
                let key_change = phase.one_path_arg_per_batch
                    && batch.last().is_some_and(|b: &Row| b.path_arg != r.path_arg);
                batch.len() >= per_batch || bytes + r.payload.len() > MAX_BODY || key_change
            }
        };
        if flush {
            let seq = 1 + ctx.batch_seq.fetch_add(1, Ordering::Relaxed);
            let rows = std::mem::take(&mut batch);
            bytes = 0;
            // A parent's children must arrive in order: its next batch
            // waits for the batches in flight.
            let same_parent = phase.one_path_arg_per_batch
                && last_arg.is_some()
                && rows.first().map(|r| &r.path_arg) == last_arg.as_ref();
            if same_parent {
                while let Some(res) = in_flight.next().await {
                    let (c, f, h) = res?;
                    sum.created += c;
                    sum.failed += f;
                    sum.held += h;
                    bar.inc(c + f + h);
                    crate::live::add(phase.name, c, f, h);
                }
            }
            last_arg = rows.first().map(|r| r.path_arg.clone());
            in_flight.push(Box::pin(send_batch(ctx.clone(), phase, seq, rows)));
            while in_flight.len() >= max_in_flight {
                let (c, f, h) = in_flight.next().await.unwrap()?;
                sum.created += c;
                sum.failed += f;
                sum.held += h;
                bar.inc(c + f + h);
                crate::live::add(phase.name, c, f, h);
            }
        }
        match row {
            None => break,
            Some(r) => {
                sum.rows += 1;
                if let Some(h) = &r.hold {
                    bar.inc(1);
                    crate::live::add(phase.name, 0, 0, 1);
                    crate::live::reason(phase.name, "held", h, 1);
                    held.push((r.source_id.clone(), h.clone()));
                } else {
                    bytes += r.payload.len();
                    batch.push(r);
                }
            }
        }
    }
    while let Some(res) = in_flight.next().await {
        let (c, f, h) = res?;
        sum.created += c;
        sum.failed += f;
        sum.held += h;
        bar.inc(c + f + h);
        crate::live::add(phase.name, c, f, h);
    }
    Ok(held)
}

/// Rows that cannot be sent yet: listed in `ferry_load_errors` without an
/// HTTP status, re-evaluated on every run.
async fn record_held(
    ctx: &Arc<LoadCtx>,
    phase: &'static Phase,
    held: Vec<(String, String)>,
) -> Result<()> {
    let ctx = ctx.clone();
    blocking(move || {
        let mut db = ctx.db.lock().unwrap();
        let tx = db.transaction()?;
        tx.execute(
            // Rows the destination held (their batch is named) are
            // re-evaluated when they are sent again.
            "DELETE FROM ferry_load_errors WHERE object = ? AND http_status IS NULL AND batch_id IS NULL",
            params![phase.name],
        )?;
        let rows: Vec<Value> = held
            .iter()
            .map(|(id, why)| serde_json::json!({"s": id, "b": format!("held back: {why}")}))
            .collect();
        tx.execute(
            "INSERT INTO ferry_load_errors
             SELECT NULL, ?, j.s, NULL, j.b, 0, now()
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"b\":\"VARCHAR\"}]')) AS j)",
            params![phase.name, serde_json::to_string(&rows).unwrap()],
        )?;
        tx.commit()?;
        Ok(())
    })
    .await
}

pub(crate) fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Sends one batch and commits its outcome. Returns (created, failed).
async fn send_batch(
    ctx: Arc<LoadCtx>,
    phase: &'static Phase,
    seq: u32,
    rows: Vec<Row>,
) -> Result<(u64, u64, u64)> {
    let batch_id = format!("{}-{}-{seq:05}", ctx.run_id, phase.name);
    let items: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| (r.source_id.clone(), r.external_id.clone()))
        .collect();
    let body_hash = hash(
        &rows
            .iter()
            .map(|r| r.payload.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    {
        let ctx = ctx.clone();
        let batch_id = batch_id.clone();
        let items_json = serde_json::to_string(&items).unwrap();
        let n = rows.len() as i64;
        let members: Vec<Value> = rows
            .iter()
            .flat_map(|r| {
                r.members
                    .iter()
                    .map(|m| serde_json::json!({"p": r.source_id, "s": m}))
            })
            .collect();
        let members = serde_json::to_string(&members).unwrap();
        blocking(move || {
            let mut db = ctx.db.lock().unwrap();
            let tx = db.transaction()?;
            tx.execute(
                "INSERT INTO ferry_batches (batch_id, dest, object, size, request_hash, status, started_at, items)
                 VALUES (?, ?, ?, ?, ?, 'sent', now(), ?)",
                params![batch_id, ctx.dest.kind(), phase.name, n, body_hash, items_json],
            )?;
            // Before the request: a batch found again after a crash still
            // knows which children went with it.
            if let Some(child) = phase.members {
                tx.execute(
                    "INSERT INTO ferry_members
                     SELECT ?, ?, j.p, j.s, ?
                     FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"p\":\"VARCHAR\",\"s\":\"VARCHAR\"}]')) AS j)",
                    params![ctx.dest.kind(), child, batch_id, members],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    }
    let results = ctx.dest.send(&ctx, phase, &rows).await?;
    if results.len() != rows.len() {
        return Err(FerryError::Other(format!(
            "batch {batch_id}: the destination answered {} results for {} rows",
            results.len(),
            rows.len()
        )));
    }
    crate::chaos::crash_point("load.sent");
    // The same moment in one phase only (a delta load's comments, say).
    crate::chaos::crash_point(&format!("load.sent.{}", phase.name));
    commit_results(&ctx, phase, &batch_id, &rows, results).await
}

/// Records a batch's outcome in one transaction. Set-based statements
/// (rows passed as one JSON parameter): a statement per row cost ~4 ms
/// each in DuckDB and serialised every batch behind the database lock.
async fn commit_results(
    ctx: &Arc<LoadCtx>,
    phase: &'static Phase,
    batch_id: &str,
    rows: &[Row],
    results: Vec<RowResult>,
) -> Result<(u64, u64, u64)> {
    let ctx = ctx.clone();
    let batch_id = batch_id.to_string();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let mut held = Vec::new();
    for (r, res) in rows.iter().zip(results) {
        match res {
            Ok(dest_id) => {
                let (d, u) = match dest_id.split_once(HOSTED_AT) {
                    Some((d, u)) => (d.to_string(), Some(u.to_string())),
                    None => (dest_id, None),
                };
                ok.push(serde_json::json!({"s": r.source_id, "d": d, "u": u, "h": phase.change_hash(&r.payload)}))
            }
            Err((None, body)) if body.starts_with(HELD_BY_DESTINATION) => {
                crate::live::reason(phase.name, "held", &body, 1);
                held.push(serde_json::json!({"s": r.source_id, "b": body}))
            }
            Err((status, body)) => {
                crate::live::reason(
                    phase.name,
                    "failed",
                    &format!("HTTP {}: {body}", status.unwrap_or(0)),
                    1,
                );
                bad.push(
                    serde_json::json!({"s": r.source_id, "st": status.unwrap_or(0), "b": body}),
                )
            }
        }
    }
    let all: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
    let all = serde_json::to_string(&all).unwrap();
    let (n_ok, n_bad, n_held) = (ok.len() as u64, bad.len() as u64, held.len() as u64);
    let ok = serde_json::to_string(&ok).unwrap();
    let held = serde_json::to_string(&held).unwrap();
    let bad = serde_json::to_string(&bad).unwrap();
    blocking(move || {
        let mut db = ctx.db.lock().unwrap();
        let tx = db.transaction()?;
        // A resend that replaces its id (an expired token uploaded again)
        // updates it; anything else recorded twice (a reconciled batch)
        // keeps its first id.
        let on_conflict = if phase.replaces_ids {
            "ON CONFLICT (dest, dest_object, source_id) DO UPDATE SET dest_id = excluded.dest_id, \
             batch_id = excluded.batch_id, payload_hash = excluded.payload_hash, loaded_at = excluded.loaded_at"
        } else {
            "ON CONFLICT DO NOTHING"
        };
        tx.execute(
            &format!("INSERT INTO ferry_id_map
             SELECT ?, ?, j.s, ?, ?, j.d, ?, j.h, now()
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{{\"s\":\"VARCHAR\",\"d\":\"VARCHAR\",\"h\":\"VARCHAR\"}}]')) AS j) {on_conflict}"),
            params![ctx.source, phase.object, ctx.dest.kind(), phase.name, batch_id, ok],
        )?;
        tx.execute(
            "INSERT INTO ferry_hosted_files
             SELECT ?, ?, j.s, j.d, j.u, now()
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"d\":\"VARCHAR\",\"u\":\"VARCHAR\"}]')) AS j)
             WHERE j.u IS NOT NULL
             ON CONFLICT (dest, dest_object, source_id) DO UPDATE SET dest_id = excluded.dest_id,
                 url = excluded.url, recorded_at = excluded.recorded_at",
            params![ctx.dest.kind(), phase.name, ok],
        )?;
        // A failure keeps counting attempts across runs.
        tx.execute(
            "CREATE OR REPLACE TEMP TABLE ferry_new_errors AS
             SELECT j.s AS source_id, j.st AS status, j.b AS body,
                    coalesce((SELECT max(e.attempts) FROM ferry_load_errors e WHERE e.object = ? AND e.source_id = j.s), 0) + 1 AS attempts
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"st\":\"INTEGER\",\"b\":\"VARCHAR\"}]')) AS j)",
            params![phase.name, bad],
        )?;
        tx.execute(
            "DELETE FROM ferry_load_errors WHERE object = ? AND source_id IN (SELECT unnest(from_json(?::VARCHAR, '[\"VARCHAR\"]')))",
            params![phase.name, all],
        )?;
        tx.execute(
            "INSERT INTO ferry_load_errors SELECT ?, ?, source_id, status, body, attempts, now() FROM ferry_new_errors",
            params![batch_id, phase.name],
        )?;
        // Held by the destination: no HTTP status, so every load tries again.
        tx.execute(
            "INSERT INTO ferry_load_errors
             SELECT ?, ?, j.s, NULL, j.b, 0, now()
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{\"s\":\"VARCHAR\",\"b\":\"VARCHAR\"}]')) AS j)",
            params![batch_id, phase.name, held],
        )?;
        tx.execute(
            "UPDATE ferry_batches SET status = ?, finished_at = now() WHERE batch_id = ?",
            params![if n_bad == 0 { "done" } else { "done_with_errors" }, batch_id],
        )?;
        crate::chaos::crash_point("load.commit");
        tx.commit()?;
        Ok((n_ok, n_bad, n_held))
    })
    .await
}

/// What a resume says about a phase's in-doubt batches (sent by a run
/// that stopped before their answers were recorded).
fn in_doubt_words(
    phase: &Phase,
    batches: usize,
    rows: usize,
    found: usize,
    unmatched: usize,
) -> String {
    let head = format!(
        "{}: {batches} batch{} ({rows} rows) had been sent when the last run stopped, without a recorded answer",
        phase.name,
        if batches == 1 { "" } else { "es" }
    );
    if unmatched > 0 {
        format!(
            "{head}. They are sent again, and nothing is created twice: {}.",
            phase.resend_safety()
        )
    } else {
        format!(
            "{head}. {found} of them were found in the destination by their external id and recorded (not sent again); the other {} were not found there and are sent in this run.",
            rows.saturating_sub(found)
        )
    }
}

/// Batches left `sent` by a crash: the destination looks their records up
/// by external id; found ones go to the id map (never created twice), the
/// rest are resent.
async fn reconcile(ctx: &Arc<LoadCtx>, phase: &'static Phase) -> Result<u64> {
    let c2 = ctx.clone();
    let in_doubt: Vec<(String, String)> = blocking(move || {
        let db = c2.db.lock().unwrap();
        let mut stmt = db.prepare("SELECT batch_id, coalesce(items, '[]') FROM ferry_batches WHERE dest = ? AND object = ? AND status = 'sent'")?;
        let rows = stmt.query_map(params![c2.dest.kind(), phase.name], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    })
    .await?;
    let mut found_total = 0;
    let (batches, mut rows, mut unmatched) = (in_doubt.len(), 0usize, 0usize);
    for (batch_id, items) in in_doubt {
        let items: Vec<(String, Option<String>)> = serde_json::from_str(&items).unwrap_or_default();
        rows += items.len();
        let with_ext: Vec<(String, String)> = items
            .into_iter()
            .filter_map(|(s, e)| e.map(|e| (s, e)))
            .collect();
        let found = match ctx.dest.reconcile(ctx, phase, &with_ext).await? {
            Some(found) => found,
            None => {
                unmatched += with_ext.len();
                tracing::debug!(
                    batch_id,
                    phase = phase.name,
                    "in-doubt batch not matched by external id"
                );
                Vec::new()
            }
        };
        found_total += found.len() as u64;
        let c3 = ctx.clone();
        blocking(move || {
            let mut db = c3.db.lock().unwrap();
            let tx = db.transaction()?;
            for (src, id) in &found {
                tx.execute(
                    "INSERT INTO ferry_id_map VALUES (?, ?, ?, ?, ?, ?, ?, NULL, now()) ON CONFLICT DO NOTHING",
                    params![c3.source, phase.object, src, c3.dest.kind(), phase.name, id, batch_id],
                )?;
            }
            tx.execute("UPDATE ferry_batches SET status = 'reconciled', finished_at = now() WHERE batch_id = ?", params![batch_id])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    }
    if batches > 0 {
        // In ferry's words, per phase: what was in doubt and why nothing
        // is created twice.
        let said = in_doubt_words(phase, batches, rows, found_total as usize, unmatched);
        eprintln!("{said}");
        crate::live::note(&said);
    }
    Ok(found_total)
}
