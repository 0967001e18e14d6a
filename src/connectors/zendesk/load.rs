//! `ferry load` for Zendesk: the phases of `phases.rs` in order, rows
//! streamed from DuckDB, batches at the API's bulk size with several in
//! flight through one rate limiter, job statuses polled, and after every
//! batch the created ids (`ferry_id_map`), failures (`ferry_load_errors`)
//! and the batch's state (`ferry_batches`) committed in one transaction.
//! A batch still `sent` after a crash is in doubt and is reconciled by
//! external id before anything is resent.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::Array;
use duckdb::{params, Connection};
use futures::stream::{FuturesUnordered, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::phases::{Mode, Phase, PHASES};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};

/// Items per bulk request (Zendesk: 100).
const BULK: usize = 100;
/// Bulk bodies are also kept under this many bytes.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Bulk batches in flight at once. Zendesk allows 30 queued jobs per
/// account; 8 keeps the budget busy while jobs run, with room to spare
/// for other integrations on the same account.
const BULK_IN_FLIGHT: usize = 8;
/// One-request-per-row phases: rows per committed batch and batches in
/// flight. Batches overlap, so a slow request never idles the budget.
const SINGLE_BATCH: usize = 25;
const SINGLE_IN_FLIGHT: usize = 6;

/// What the user asked `ferry load` for.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub only: Option<Vec<String>>,
    pub retry: bool,
    /// Open and pending tickets before the closed history.
    pub open_first: bool,
    /// Pilot: only N representative conversations and what they need.
    pub sample: Option<usize>,
    /// Closed tickets go straight to the archive.
    pub archive_immediately: bool,
    /// Seconds an upload token is trusted (`upload_token_minutes`).
    pub upload_token_secs: f64,
    /// The upload window the uploads and tickets phases are limited to.
    pub window: Option<i64>,
    /// Send a ticket without the files that can never be uploaded
    /// (`[destination] missing_files = "skip"`) instead of holding it.
    pub skip_missing_files: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            only: None,
            retry: false,
            open_first: false,
            sample: None,
            archive_immediately: false,
            upload_token_secs: 45.0 * 60.0,
            window: None,
            skip_missing_files: false,
        }
    }
}

/// One row a phase wants to send.
#[derive(Debug, Clone)]
pub struct Row {
    pub source_id: String,
    pub external_id: Option<String>,
    pub hold: Option<String>,
    pub payload: String,
    pub path_arg: Option<String>,
}

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
}

struct Ctx {
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    opts: LoadOptions,
    /// Batch numbers, unique in the run: a phase runs once per upload window.
    batch_seq: std::sync::atomic::AtomicU32,
}

/// Selected phases, in load order.
pub fn selected(only: &Option<Vec<String>>) -> Result<Vec<&'static Phase>> {
    match only {
        None => Ok(PHASES.iter().collect()),
        Some(names) => {
            for n in names {
                if super::phases::find(n).is_none() {
                    return Err(FerryError::Other(format!(
                        "--only: unknown phase `{n}` (phases: {})",
                        PHASES.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            Ok(PHASES
                .iter()
                .filter(|p| names.iter().any(|n| n == p.name))
                .collect())
        }
    }
}

fn set_variables(conn: &Connection, opts: &LoadOptions) -> Result<()> {
    // Computed here: DuckDB's TIMESTAMPTZ arithmetic needs the ICU
    // extension, which the bundled build does not carry.
    let cutoff = chrono::Utc::now()
        - chrono::Duration::milliseconds((opts.upload_token_secs * 1000.0) as i64);
    conn.execute_batch(&format!(
        "SET VARIABLE ferry_retry = {}; SET VARIABLE ferry_open_first = {}; SET VARIABLE ferry_sample = {}; \
         SET VARIABLE ferry_token_cutoff = '{}'::TIMESTAMPTZ; SET VARIABLE ferry_window = {}; \
         SET VARIABLE ferry_skip_missing_files = {};",
        opts.retry,
        opts.open_first,
        opts.sample.is_some(),
        cutoff.format("%Y-%m-%d %H:%M:%S%.6f+00"),
        opts.window
            .map_or("NULL::BIGINT".to_string(), |w| w.to_string()),
        opts.skip_missing_files
    ))?;
    Ok(())
}

/// How many rows a phase has pending (payloads are not built: DuckDB
/// prunes the unused columns).
fn count_rows(conn: &Connection, phase: &Phase, opts: &LoadOptions) -> Result<u64> {
    set_variables(conn, opts)?;
    let n: i64 = conn
        .query_row(&format!("SELECT count(*) FROM ({})", phase.sql), [], |r| {
            r.get(0)
        })
        .map_err(|e| {
            FerryError::Other(format!(
                "phase {}: {} (run `ferry transform` first?)",
                phase.name,
                crate::transform::duck_message(&e.to_string())
            ))
        })?;
    Ok(n as u64)
}

/// Reads a phase's pending rows (all of them: used by `--dry-run`, and per
/// chunk by the streaming reader).
fn query_rows(
    conn: &Connection,
    phase: &Phase,
    opts: &LoadOptions,
    mut each: impl FnMut(Row) -> bool,
) -> Result<()> {
    set_variables(conn, opts)?;
    let mut stmt = conn.prepare(phase.sql).map_err(|e| {
        FerryError::Other(format!(
            "phase {}: {} (run `ferry transform` first?)",
            phase.name,
            crate::transform::duck_message(&e.to_string())
        ))
    })?;
    // A streaming result: DuckDB hands over one chunk at a time instead of
    // materialising every payload of the phase (hundreds of MB of ticket
    // JSON at 20k tickets) before the first is sent.
    for batch in stmt.stream_arrow([])? {
        let batch = batch?;
        let cols = (0..5)
            .map(|i| {
                arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)
                    .map_err(|e| FerryError::Other(format!("phase {}: {e}", phase.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        let cols: Vec<&arrow::array::StringArray> = cols
            .iter()
            .map(|c| c.as_any().downcast_ref().expect("cast to Utf8"))
            .collect();
        let text = |c: usize, i: usize| (!cols[c].is_null(i)).then(|| cols[c].value(i).to_string());
        for i in 0..batch.num_rows() {
            let row = Row {
                source_id: text(0, i).unwrap_or_default(),
                external_id: text(1, i),
                hold: text(2, i),
                payload: text(3, i).unwrap_or_default(),
                path_arg: text(4, i),
            };
            if !each(row) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// `--dry-run` figures of one phase: name, rows, held back, requests, first problems.
pub type DryRunPhase = (String, u64, u64, u64, Vec<String>);

/// `--dry-run`: what each phase would send, without a request.
pub fn dry_run(
    conn: &Connection,
    phases: &[&'static Phase],
    per_minute: u32,
    skip_missing_files: bool,
) -> Result<Vec<DryRunPhase>> {
    let opts = LoadOptions {
        skip_missing_files,
        ..LoadOptions::default()
    };
    let mut out = Vec::new();
    for phase in phases {
        let (mut n, mut held, mut requests) = (0u64, 0u64, 0u64);
        let mut problems = Vec::new();
        query_rows(conn, phase, &opts, |row| {
            n += 1;
            // Content is checked whatever the hold: a dry run happens before
            // anything is loaded, so every reference is still pending.
            let problem = match (&row.hold, validate(phase, &row)) {
                (_, Err(p)) => Some(p),
                (Some(h), Ok(())) if !h.ends_with("is not loaded") => Some(h.clone()),
                _ => None,
            };
            if row.hold.is_some() {
                held += 1;
            }
            if let Some(p) = problem {
                if problems.len() < 5 {
                    problems.push(format!("{}: {p}", row.source_id));
                }
            }
            true
        })?;
        let sendable = n - held;
        requests += match phase.mode {
            Mode::Bulk { .. } | Mode::CustomRecords => sendable.div_ceil(BULK as u64) * 2,
            _ => sendable,
        };
        let _ = per_minute;
        out.push((phase.name.to_string(), n, held, requests, problems));
    }
    Ok(out)
}

/// Local checks of the API's rules, so `--dry-run` finds what would fail.
fn validate(phase: &Phase, row: &Row) -> std::result::Result<(), String> {
    let v: Value =
        serde_json::from_str(&row.payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    if phase.name == "users" || phase.name == "agents" {
        if let Some(e) = v["email"].as_str() {
            let ok = e
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(format!("email {e:?} is not a valid address"));
            }
        }
    }
    if phase.name == "tickets" {
        let comments = v["comments"].as_array().map(|c| c.len()).unwrap_or(0);
        if comments == 0 {
            return Err("ticket has no comments".into());
        }
        if comments > 5000 {
            return Err(format!("{comments} comments, over Zendesk's 5,000"));
        }
        for c in v["comments"].as_array().into_iter().flatten() {
            let body = c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("");
            if body.chars().count() > 65_535 {
                return Err("a comment is over 65,535 characters".into());
            }
        }
    }
    Ok(())
}

/// Runs the load.
pub async fn run(
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    opts: LoadOptions,
    mut report: impl FnMut(&PhaseSummary),
) -> Result<Vec<PhaseSummary>> {
    let ctx = Arc::new(Ctx {
        ws,
        run_id,
        client,
        db,
        opts: opts.clone(),
        batch_seq: Default::default(),
    });
    let phases = selected(&opts.only)?;
    // Tickets go out window by window, each window's uploads just before
    // it, so that no upload token waits long enough to expire.
    let has = |name: &str| phases.iter().any(|p| p.name == name);
    let (with_uploads, with_tickets) = (has("uploads"), has("tickets"));
    let mut out = Vec::new();
    for phase in phases {
        let sums = match phase.name {
            "uploads" if with_tickets => continue,
            "tickets" => run_windowed(&ctx, with_uploads).await?,
            _ => vec![run_whole(&ctx, phase).await?],
        };
        for sum in sums {
            record_phase(&ctx, &sum).await?;
            report(&sum);
            out.push(sum);
        }
    }
    Ok(out)
}

/// Adds the requests, 429s and seconds spent since `since` to `sum`.
fn charge(ctx: &Ctx, sum: &mut PhaseSummary, since: (Instant, u64, u64)) {
    let (requests, throttled) = counters(ctx);
    sum.requests += requests - since.1;
    sum.throttled += throttled - since.2;
    sum.seconds += since.0.elapsed().as_secs_f64();
}

fn mark(ctx: &Ctx) -> (Instant, u64, u64) {
    let (r, t) = counters(ctx);
    (Instant::now(), r, t)
}

/// One phase over all its pending rows.
async fn run_whole(ctx: &Arc<Ctx>, phase: &'static Phase) -> Result<PhaseSummary> {
    Ok(run_group(ctx, vec![phase], false).await?.remove(0))
}

/// Tickets one window of pending tickets at a time (see
/// `phases::window_sql`), each window's uploads first when `with_uploads`.
async fn run_windowed(ctx: &Arc<Ctx>, with_uploads: bool) -> Result<Vec<PhaseSummary>> {
    let mut group = Vec::new();
    if with_uploads {
        group.push(super::phases::find("uploads").expect("uploads phase"));
    }
    group.push(super::phases::find("tickets").expect("tickets phase"));
    run_group(ctx, group, true).await
}

/// Runs the phases of `group` in turn, once per upload window when
/// `windowed` (else once over everything pending); one summary per phase.
async fn run_group(
    ctx: &Arc<Ctx>,
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
    let (windows, tickets) = if windowed {
        number_windows(ctx).await?
    } else {
        (Vec::new(), 0)
    };
    let multi = indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let mut bars = Vec::new();
    for phase in &group {
        // Counting the tickets query would aggregate every comment at once:
        // the windows already know how many tickets are pending.
        let bar = match phase.name {
            "tickets" if windowed => new_bar(phase, tickets),
            _ => phase_bar(ctx, phase).await?,
        };
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
    }
    for ((phase, bar), (sum, held)) in group.iter().zip(&bars).zip(sums.iter_mut().zip(held)) {
        bar.finish_and_clear();
        sum.held = held.len() as u64;
        record_held(ctx, phase, held).await?;
    }
    Ok(sums)
}

/// Fills `load_window` and returns the window numbers in send order, and
/// the pending tickets. A window's uploads take a third of the token
/// lifetime at the rate tier.
async fn number_windows(ctx: &Arc<Ctx>) -> Result<(Vec<i64>, u64)> {
    let per_window =
        (ctx.client.limiter.per_minute() as f64 * ctx.opts.upload_token_secs / 60.0 / 3.0) as u64;
    let c = ctx.clone();
    blocking(move || {
        let db = c.db.lock().unwrap();
        set_variables(&db, &c.opts)?;
        db.execute_batch(&super::phases::window_sql(per_window))?;
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
fn counters(ctx: &Ctx) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &ctx.client.stats;
    (s.requests.load(Relaxed), s.throttled.load(Relaxed))
}

/// A progress bar over the phase's pending rows (hidden when stderr is not
/// a terminal). Counting first costs one query, far less than a request.
async fn phase_bar(ctx: &Arc<Ctx>, phase: &'static Phase) -> Result<ProgressBar> {
    let c = ctx.clone();
    let total = blocking(move || count_rows(&c.db.lock().unwrap(), phase, &c.opts)).await?;
    Ok(new_bar(phase, total))
}

fn new_bar(phase: &Phase, total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_prefix(phase.name);
    bar
}

/// Keeps each phase's figures in `ferry_load_phases` for `verify` and `status`.
async fn record_phase(ctx: &Arc<Ctx>, s: &PhaseSummary) -> Result<()> {
    let c = ctx.clone();
    let s = s.clone();
    let tier = ctx.client.limiter.per_minute();
    blocking(move || {
        c.db.lock().unwrap().execute(
            "INSERT INTO ferry_load_phases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
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
                tier as i64
            ],
        )?;
        Ok(())
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FerryError::Other(format!("background task failed: {e}")))?
}

/// Streams a phase's rows from a second DuckDB connection through a
/// bounded channel: memory stays flat whatever the table size.
fn stream_rows(
    ctx: &Arc<Ctx>,
    phase: &'static Phase,
    window: Option<i64>,
) -> Result<tokio::sync::mpsc::Receiver<Result<Row>>> {
    let conn = ctx.db.lock().unwrap().try_clone()?;
    let opts = LoadOptions {
        window,
        ..ctx.opts.clone()
    };
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    std::thread::spawn(move || {
        let res = query_rows(&conn, phase, &opts, |row| tx.blocking_send(Ok(row)).is_ok());
        if let Err(e) = res {
            let _ = tx.blocking_send(Err(e));
        }
    });
    Ok(rx)
}

type BatchFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(u64, u64)>> + Send>>;

/// Sends a phase's pending rows (of `window` when set); returns the rows
/// held back, with why.
async fn run_phase(
    ctx: &Arc<Ctx>,
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
    let (per_batch, max_in_flight) = match phase.mode {
        Mode::Bulk { .. } | Mode::CustomRecords => (BULK, BULK_IN_FLIGHT),
        _ => (SINGLE_BATCH, SINGLE_IN_FLIGHT),
    };
    loop {
        let next = rx.recv().await;
        let row = match next {
            Some(r) => Some(r?),
            None => None,
        };
        let flush = match &row {
            None => !batch.is_empty(),
            Some(r) => {
                // A batch holds one custom object's records only.
                let key_change = phase.mode == Mode::CustomRecords
                    && batch.last().is_some_and(|b: &Row| b.path_arg != r.path_arg);
                batch.len() >= per_batch || bytes + r.payload.len() > MAX_BODY || key_change
            }
        };
        if flush {
            let seq = 1 + ctx
                .batch_seq
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let rows = std::mem::take(&mut batch);
            bytes = 0;
            in_flight.push(Box::pin(send_batch(ctx.clone(), phase, seq, rows)));
            while in_flight.len() >= max_in_flight {
                let (c, f) = in_flight.next().await.unwrap()?;
                sum.created += c;
                sum.failed += f;
                bar.inc(c + f);
            }
        }
        match row {
            None => break,
            Some(r) => {
                sum.rows += 1;
                if let Some(h) = &r.hold {
                    bar.inc(1);
                    held.push((r.source_id.clone(), h.clone()));
                } else {
                    bytes += r.payload.len();
                    batch.push(r);
                }
            }
        }
    }
    while let Some(res) = in_flight.next().await {
        let (c, f) = res?;
        sum.created += c;
        sum.failed += f;
        bar.inc(c + f);
    }
    Ok(held)
}

/// Rows that cannot be sent yet: listed in `ferry_load_errors` without an
/// HTTP status, re-evaluated on every run.
async fn record_held(
    ctx: &Arc<Ctx>,
    phase: &'static Phase,
    held: Vec<(String, String)>,
) -> Result<()> {
    let ctx = ctx.clone();
    blocking(move || {
        let mut db = ctx.db.lock().unwrap();
        let tx = db.transaction()?;
        tx.execute(
            "DELETE FROM ferry_load_errors WHERE object = ? AND http_status IS NULL",
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

fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Outcome of one row: its Zendesk id, or (HTTP status, error body).
type RowResult = std::result::Result<String, (Option<u16>, String)>;

/// Sends one batch and commits its outcome. Returns (created, failed).
async fn send_batch(
    ctx: Arc<Ctx>,
    phase: &'static Phase,
    seq: u32,
    rows: Vec<Row>,
) -> Result<(u64, u64)> {
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
        blocking(move || {
            ctx.db.lock().unwrap().execute(
                "INSERT INTO ferry_batches (batch_id, dest, object, size, request_hash, status, started_at, items)
                 VALUES (?, 'zendesk', ?, ?, ?, 'sent', now(), ?)",
                params![batch_id, phase.name, n, body_hash, items_json],
            )?;
            Ok(())
        })
        .await?;
    }
    let results: Vec<RowResult> = match phase.mode {
        Mode::Bulk { path, key } => {
            let path = if phase.name == "tickets" && ctx.opts.archive_immediately {
                format!("{path}?archive_immediately=true")
            } else {
                path.to_string()
            };
            bulk(&ctx, &path, key, &rows).await?
        }
        Mode::CustomRecords => {
            let key = rows[0].path_arg.clone().unwrap_or_default();
            custom_records(&ctx, &key, &rows).await?
        }
        _ => {
            let mut out = Vec::new();
            let c = &ctx;
            let mut futs: FuturesUnordered<_> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| async move { (i, single(c, phase, r).await) })
                .collect();
            let mut tmp = vec![None; rows.len()];
            while let Some((i, r)) = futs.next().await {
                tmp[i] = Some(r?);
            }
            drop(futs);
            out.extend(tmp.into_iter().map(|r| r.unwrap()));
            out
        }
    };
    crate::chaos::crash_point("load.sent");
    let results = resolve_existing(&ctx, phase, &rows, results).await?;
    commit_results(&ctx, phase, &batch_id, &rows, results).await
}

/// A record a crashed run created but never recorded comes back as
/// "already taken / already a member": find it and record its id instead
/// of a failure. (Phases with external ids are reconciled before sending.)
async fn resolve_existing(
    ctx: &Arc<Ctx>,
    phase: &'static Phase,
    rows: &[Row],
    mut results: Vec<RowResult>,
) -> Result<Vec<RowResult>> {
    let dup = |r: &RowResult| matches!(r, Err((Some(422), b)) if b.contains("already"));
    if !results.iter().any(dup) {
        return Ok(results);
    }
    let list_path = match phase.name {
        "groups" => Some(("/api/v2/groups".to_string(), "groups")),
        "group_memberships" => Some(("/api/v2/group_memberships".to_string(), "group_memberships")),
        "user_fields" => Some(("/api/v2/user_fields".to_string(), "user_fields")),
        "organization_fields" => Some((
            "/api/v2/organization_fields".to_string(),
            "organization_fields",
        )),
        _ => None,
    };
    for (i, row) in rows.iter().enumerate() {
        if !dup(&results[i]) {
            continue;
        }
        let (path, key) = match (&list_path, phase.name) {
            (Some((p, k)), _) => (p.clone(), *k),
            (None, "identities") => (
                format!(
                    "/api/v2/users/{}/identities",
                    row.path_arg.as_deref().unwrap_or("")
                ),
                "identities",
            ),
            _ => continue,
        };
        let v: Value = ctx.client.get_json(&path).await?;
        let want: Value = serde_json::from_str(&row.payload).unwrap_or_default();
        let same = |rec: &Value| match phase.name {
            "groups" => rec["name"] == want["name"],
            "group_memberships" => {
                rec["user_id"] == want["user_id"] && rec["group_id"] == want["group_id"]
            }
            "user_fields" | "organization_fields" => rec["key"] == want["key"],
            _ => {
                rec["value"].as_str().map(str::to_lowercase)
                    == want["value"].as_str().map(str::to_lowercase)
            }
        };
        if let Some(id) = v[key]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| same(r))
            .and_then(|r| r["id"].as_u64())
        {
            results[i] = Ok(id.to_string());
        }
    }
    Ok(results)
}

/// Zendesk's per-item failure text, compact.
fn item_error(item: &Value) -> String {
    let details = item
        .get("details")
        .map(|d| d.to_string())
        .unwrap_or_default();
    format!("{} {}", item["error"].as_str().unwrap_or("Failed"), details)
        .trim()
        .to_string()
}

fn bulk<'a>(
    ctx: &'a Arc<Ctx>,
    path: &'a str,
    key: &'a str,
    rows: &'a [Row],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<RowResult>>> + Send + 'a>> {
    Box::pin(async move {
        let body = format!("{{\"{key}\":[{}]}}", items_json(rows));
        let (results, whole) = job(ctx, path, &body, rows.len()).await?;
        // One bad item can make the API refuse the whole body (unparsable,
        // too large): split the batch until the culprit stands alone, so
        // every good row still lands and only the bad one fails.
        if whole && rows.len() > 1 {
            let mid = rows.len() / 2;
            let mut left = bulk(ctx, path, key, &rows[..mid]).await?;
            left.extend(bulk(ctx, path, key, &rows[mid..]).await?);
            return Ok(left);
        }
        Ok(results)
    })
}

/// The rows' payloads (JSON built in SQL) as the items of a JSON array.
fn items_json(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| r.payload.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn custom_records(ctx: &Arc<Ctx>, key: &str, rows: &[Row]) -> Result<Vec<RowResult>> {
    let body = format!(
        "{{\"job\":{{\"action\":\"create\",\"items\":[{}]}}}}",
        items_json(rows)
    );
    job(
        ctx,
        &format!("/api/v2/custom_objects/{key}/jobs"),
        &body,
        rows.len(),
    )
    .await
    .map(|(r, _)| r)
}

/// Sends a bulk body, waits for its job, maps results back by index. The
/// flag says the API refused the request as a whole (400/413/422 before
/// any job), rather than item by item.
async fn job(ctx: &Arc<Ctx>, path: &str, body: &str, n: usize) -> Result<(Vec<RowResult>, bool)> {
    let resp = match ctx
        .client
        .send(
            Method::POST,
            path,
            Some(Payload::JsonText(body)),
            Lane::Standard,
        )
        .await
    {
        Ok(r) => r,
        // The API refused the whole request: every row fails with its answer.
        Err(FerryError::Http { status, body, .. }) => {
            let whole = matches!(status, 400 | 413 | 422);
            return Ok((vec![Err((Some(status), body)); n], whole));
        }
        Err(e) => return Err(e),
    };
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| FerryError::Other(format!("{path}: unreadable job response: {e}")))?;
    let id = v["job_status"]["id"]
        .as_str()
        .ok_or_else(|| FerryError::Other(format!("{path}: no job_status.id in the response")))?
        .to_string();
    let mut wait = Duration::from_millis(50);
    let status = loop {
        tokio::time::sleep(wait).await;
        let s: Value = ctx
            .client
            .get_json(&format!("/api/v2/job_statuses/{id}"))
            .await?;
        match s["job_status"]["status"].as_str() {
            Some("completed") | Some("failed") | Some("killed") => break s,
            _ => wait = (wait * 2).min(Duration::from_secs(2)),
        }
    };
    let mut out: Vec<RowResult> =
        vec![Err((None, format!("job {id} returned no result for this item"))); n];
    for item in status["job_status"]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(i) = item["index"]
            .as_u64()
            .map(|i| i as usize)
            .filter(|i| *i < n)
        else {
            continue;
        };
        out[i] = if item["success"].as_bool().unwrap_or(false)
            || item["status"] != "Failed" && item["id"].is_u64()
        {
            Ok(item["id"]
                .as_u64()
                .map(|x| x.to_string())
                .unwrap_or_default())
        } else {
            Err((Some(422), item_error(item)))
        };
    }
    Ok((out, false))
}

/// A ticket field with this title that already exists (ticket fields have
/// no key and Zendesk allows duplicate titles, so a crash between creating
/// one and recording it must not create a second).
async fn existing_ticket_field(ctx: &Arc<Ctx>, row: &Row) -> Result<Option<String>> {
    let want: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let v = ctx.client.get_json("/api/v2/ticket_fields").await?;
    Ok(v["ticket_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["title"] == want["title"])
        .and_then(|f| f["id"].as_u64())
        .map(|id| id.to_string()))
}

/// One request per row: groups, identities, uploads, custom objects.
async fn single(ctx: &Arc<Ctx>, phase: &'static Phase, row: &Row) -> Result<RowResult> {
    if phase.name == "ticket_fields" {
        if let Some(id) = existing_ticket_field(ctx, row).await? {
            return Ok(Ok(id));
        }
    }
    let res = match phase.mode {
        Mode::Single {
            path,
            key,
            id_field,
        } => {
            let path = path.replace("{}", row.path_arg.as_deref().unwrap_or(""));
            let body = format!("{{\"{key}\":{}}}", row.payload);
            ctx.client
                .send(
                    Method::POST,
                    &path,
                    Some(Payload::JsonText(&body)),
                    Lane::Standard,
                )
                .await
                .map(|r| {
                    serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| v[key][id_field].as_u64())
                        .map(|i| i.to_string())
                        .unwrap_or_default()
                })
        }
        Mode::Upload => {
            let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
            let sha = v["sha256"].as_str().unwrap_or("");
            let file = crate::land::attachment_path(&ctx.ws, sha);
            let bytes = std::fs::read(&file)
                .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
            let name = url::form_urlencoded::byte_serialize(
                v["file_name"].as_str().unwrap_or("attachment").as_bytes(),
            )
            .collect::<String>();
            let ctype = v["content_type"]
                .as_str()
                .unwrap_or("application/octet-stream");
            ctx.client
                .send(
                    Method::POST,
                    &format!("/api/v2/uploads?filename={name}"),
                    Some(Payload::Bytes(&bytes, ctype)),
                    Lane::Standard,
                )
                .await
                .map(|r| {
                    serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| v["upload"]["token"].as_str().map(str::to_string))
                        .unwrap_or_default()
                })
        }
        Mode::CustomObject => custom_object(ctx, row).await,
        _ => unreachable!("bulk modes are sent in batches"),
    };
    match res {
        Ok(id) if !id.is_empty() => Ok(Ok(id)),
        Ok(_) => Ok(Err((None, "the response carried no id".into()))),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

async fn custom_object(ctx: &Arc<Ctx>, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let key = v["key"].as_str().unwrap_or("").to_string();
    let obj = serde_json::json!({"custom_object": {"key": key, "title": v["title"], "title_pluralized": v["title_pluralized"]}});
    let existing: Vec<Value> = match ctx
        .client
        .send(
            Method::POST,
            "/api/v2/custom_objects",
            Some(Payload::Json(&obj)),
            Lane::Standard,
        )
        .await
    {
        Ok(_) => Vec::new(),
        // Created by a run that died before recording it: carry on with
        // the fields it did not create yet.
        Err(FerryError::Http {
            status: 422, body, ..
        }) if body.contains("already been taken") => {
            let list: Value = ctx
                .client
                .get_json(&format!("/api/v2/custom_objects/{key}/fields"))
                .await?;
            list["custom_object_fields"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
        Err(e) => return Err(e),
    };
    for f in v["fields"].as_array().into_iter().flatten() {
        if existing.iter().any(|x| x["key"] == f["key"]) {
            continue;
        }
        let body = serde_json::json!({"custom_object_field": f});
        ctx.client
            .send(
                Method::POST,
                &format!("/api/v2/custom_objects/{key}/fields"),
                Some(Payload::Json(&body)),
                Lane::Standard,
            )
            .await?;
    }
    Ok(key)
}

/// Records a batch's outcome in one transaction. Set-based statements
/// (rows passed as one JSON parameter): a statement per row cost ~4 ms
/// each in DuckDB and serialised every batch behind the database lock.
async fn commit_results(
    ctx: &Arc<Ctx>,
    phase: &'static Phase,
    batch_id: &str,
    rows: &[Row],
    results: Vec<RowResult>,
) -> Result<(u64, u64)> {
    let ctx = ctx.clone();
    let batch_id = batch_id.to_string();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (r, res) in rows.iter().zip(results) {
        match res {
            Ok(dest_id) => {
                ok.push(serde_json::json!({"s": r.source_id, "d": dest_id, "h": hash(&r.payload)}))
            }
            Err((status, body)) => bad
                .push(serde_json::json!({"s": r.source_id, "st": status.unwrap_or(0), "b": body})),
        }
    }
    let all: Vec<&str> = rows.iter().map(|r| r.source_id.as_str()).collect();
    let all = serde_json::to_string(&all).unwrap();
    let (n_ok, n_bad) = (ok.len() as u64, bad.len() as u64);
    let ok = serde_json::to_string(&ok).unwrap();
    let bad = serde_json::to_string(&bad).unwrap();
    blocking(move || {
        let mut db = ctx.db.lock().unwrap();
        let tx = db.transaction()?;
        // A re-upload replaces its expired token; anything else recorded
        // twice (a reconciled batch) keeps its first id.
        let on_conflict = if phase.mode == Mode::Upload {
            "ON CONFLICT (dest, dest_object, source_id) DO UPDATE SET dest_id = excluded.dest_id, \
             batch_id = excluded.batch_id, payload_hash = excluded.payload_hash, loaded_at = excluded.loaded_at"
        } else {
            "ON CONFLICT DO NOTHING"
        };
        tx.execute(
            &format!("INSERT INTO ferry_id_map
             SELECT 'kustomer', ?, j.s, 'zendesk', ?, j.d, ?, j.h, now()
             FROM (SELECT unnest(from_json(?::VARCHAR, '[{{\"s\":\"VARCHAR\",\"d\":\"VARCHAR\",\"h\":\"VARCHAR\"}}]')) AS j) {on_conflict}"),
            params![phase.object, phase.name, batch_id, ok],
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
        tx.execute(
            "UPDATE ferry_batches SET status = ?, finished_at = now() WHERE batch_id = ?",
            params![if n_bad == 0 { "done" } else { "done_with_errors" }, batch_id],
        )?;
        crate::chaos::crash_point("load.commit");
        tx.commit()?;
        Ok((n_ok, n_bad))
    })
    .await
}

/// Batches left `sent` by a crash: look their records up by external id;
/// found ones go to the id map (never created twice), the rest are resent.
async fn reconcile(ctx: &Arc<Ctx>, phase: &'static Phase) -> Result<u64> {
    let c2 = ctx.clone();
    let in_doubt: Vec<(String, String)> = blocking(move || {
        let db = c2.db.lock().unwrap();
        let mut stmt = db.prepare("SELECT batch_id, coalesce(items, '[]') FROM ferry_batches WHERE dest = 'zendesk' AND object = ? AND status = 'sent'")?;
        let rows = stmt.query_map(params![phase.name], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    })
    .await?;
    let mut found_total = 0;
    for (batch_id, items) in in_doubt {
        let items: Vec<(String, Option<String>)> = serde_json::from_str(&items).unwrap_or_default();
        let mut found: Vec<(String, String)> = Vec::new();
        // Lookup paths: the phase's own, or one per custom object (records
        // are looked up under their object's key).
        let lookups: Vec<String> = match (phase.lookup, phase.mode) {
            (Some(l), _) => vec![l.to_string()],
            (None, Mode::CustomRecords) => {
                let c = ctx.clone();
                blocking(move || {
                    let db = c.db.lock().unwrap();
                    let mut stmt = db.prepare("SELECT DISTINCT dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'custom_objects'")?;
                    let keys = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<std::result::Result<Vec<_>, _>>()?;
                    Ok(keys.into_iter().map(|k| format!("/api/v2/custom_objects/{k}/records?filter[external_ids]=")).collect())
                })
                .await?
            }
            _ => Vec::new(),
        };
        for lookup in &lookups {
            let with_ext: Vec<&(String, Option<String>)> =
                items.iter().filter(|(_, e)| e.is_some()).collect();
            for chunk in with_ext.chunks(BULK) {
                let ids: Vec<&str> = chunk.iter().filter_map(|(_, e)| e.as_deref()).collect();
                let path = format!("{lookup}{}", ids.join(","));
                let v: Value = ctx.client.get_json(&path).await?;
                let list = v
                    .as_object()
                    .and_then(|o| o.values().find_map(|x| x.as_array()))
                    .cloned()
                    .unwrap_or_default();
                for rec in list {
                    if let (Some(ext), Some(id)) = (rec["external_id"].as_str(), rec["id"].as_u64())
                    {
                        if let Some((src, _)) =
                            chunk.iter().find(|(_, e)| e.as_deref() == Some(ext))
                        {
                            found.push((src.clone(), id.to_string()));
                        }
                    }
                }
            }
        }
        if lookups.is_empty() {
            tracing::warn!(
                batch_id,
                phase = phase.name,
                "in-doubt batch cannot be matched by external id; its rows are resent"
            );
        }
        found_total += found.len() as u64;
        let c3 = ctx.clone();
        blocking(move || {
            let mut db = c3.db.lock().unwrap();
            let tx = db.transaction()?;
            for (src, id) in &found {
                tx.execute(
                    "INSERT INTO ferry_id_map VALUES ('kustomer', ?, ?, 'zendesk', ?, ?, ?, NULL, now()) ON CONFLICT DO NOTHING",
                    params![phase.object, src, phase.name, id, batch_id],
                )?;
            }
            tx.execute("UPDATE ferry_batches SET status = 'reconciled', finished_at = now() WHERE batch_id = ?", params![batch_id])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    }
    Ok(found_total)
}
