//! `ferry extract` for Kustomer: every stream, concurrently, through one
//! rate-limited client; Parquet parts landed atomically and the stream's
//! cursor committed only after its part is durable. Kill it at any moment,
//! rerun, and it resumes without gap or duplicate.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duckdb::{params, Connection, OptionalExt};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::{self, iso, record_keys, Page};
use super::streams::{phase, StreamDef, STREAMS};
use crate::config::ExtractConfig;
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane};
use crate::land::{self, RawRecord};
use crate::views;

/// Source name in paths and meta tables.
pub const SOURCE: &str = "kustomer";
const TWO_YEARS_MS: i64 = 730 * 86_400_000;
/// Search returns at most 100 pages per query.
const SEARCH_PAGE_CAP: u32 = 100;
/// A Parquet part is closed once its buffered JSON reaches this size.
const PART_BYTES: usize = 8 * 1024 * 1024;
/// Per-record reads (message contents, attachments of search-found
/// messages) between two commits.
const READS_PER_COMMIT: usize = 200;

pub use crate::extract::{ExtractOptions, StreamSummary};

/// Everything a stream task needs.
struct Ctx {
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    cfg: ExtractConfig,
    since: Option<i64>,
    full: bool,
}

/// A row of `ferry_extract_state`.
#[derive(Debug, Clone)]
struct State {
    phase: String,
    cursor: Option<String>,
    status: String,
    pass_started: Option<i64>,
    high_water: Option<i64>,
}

/// Keyset position of a search phase.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct SearchCursor {
    gte: Option<i64>,
    page: u32,
    /// Ids already landed whose updated_at equals `gte` (ties).
    skip: Vec<String>,
}

/// Position of a list phase: the next link to follow, which of the
/// stream's list queries it belongs to, and records seen in that query.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListCursor {
    next: String,
    #[serde(default)]
    variant: usize,
    #[serde(default)]
    seen: u64,
}

/// Position of the per-parent phase.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct ParentsCursor {
    pos: usize,
    next: Option<String>,
}

/// Runs the extraction; returns one summary per stream.
pub async fn run(
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    cfg: ExtractConfig,
    opts: ExtractOptions,
) -> Result<Vec<StreamSummary>> {
    crate::fsutil::sweep_tmp(&ws.join("raw"));
    crate::fsutil::sweep_tmp(&ws.join("attachments"));
    let selected: Vec<&'static StreamDef> = match &opts.only {
        None => STREAMS.iter().collect(),
        Some(list) => {
            let mut out = Vec::new();
            for name in list {
                match StreamDef::find(name) {
                    Some(d) => out.push(d),
                    None => {
                        return Err(FerryError::Other(format!(
                            "--only: unknown object `{name}` (known: {})",
                            STREAMS
                                .iter()
                                .map(|s| s.object)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                }
            }
            // Report order, which puts every dependency first.
            out.sort_by_key(|d: &&StreamDef| STREAMS.iter().position(|x| x.object == d.object));
            out.dedup_by_key(|d| d.object);
            out
        }
    };
    let ctx = Arc::new(Ctx {
        ws,
        run_id,
        client: client.clone(),
        db,
        cfg: cfg.clone(),
        since: opts.since,
        full: opts.full,
    });
    let mp = if opts.progress {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let header = mp.add(ProgressBar::new_spinner());
    header.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap());
    let ticker = {
        let header = header.clone();
        let client = client.clone();
        let started = Instant::now();
        tokio::spawn(async move {
            loop {
                let req = client.stats.requests.load(Ordering::Relaxed);
                let per_min = req as f64 / started.elapsed().as_secs_f64().max(1.0) * 60.0;
                header.set_message(format!(
                    "Kustomer: {req} requests · {per_min:.0}/min of {} budget · {} throttled · {} retried",
                    client.limiter.per_minute(),
                    client.stats.throttled.load(Ordering::Relaxed),
                    client.stats.retries.load(Ordering::Relaxed)
                ));
                header.tick();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // Every stream is a task; one that reads what another lands waits for
    // that one only (its outcome: Some(true) complete, Some(false) not).
    let sem = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency));
    let mut done: std::collections::HashMap<
        &'static str,
        tokio::sync::watch::Sender<Option<bool>>,
    > = selected
        .iter()
        .map(|d| (d.object, tokio::sync::watch::channel(None).0))
        .collect();
    let mut tasks = Vec::new();
    for def in selected.iter().copied() {
        let ctx = ctx.clone();
        let sem = sem.clone();
        let tx = done.remove(def.object).expect("one channel per stream");
        let dep = def
            .after()
            .and_then(|d| selected.iter().any(|x| x.object == d).then_some(d));
        let dep_rx = dep.map(|d| {
            // Subscribed before any task runs, so no outcome is missed.
            tasks_rx(&tasks, d)
        });
        let bar = mp.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("  {spinner} {prefix:<14} {msg}").unwrap());
        bar.set_prefix(def.object);
        bar.enable_steady_tick(Duration::from_millis(200));
        let rx_for_others = tx.subscribe();
        let handle = tokio::spawn(async move {
            let mut s = StreamSummary {
                object: def.object.to_string(),
                ..Default::default()
            };
            if let (Some(dep), Some(mut rx)) = (dep, dep_rx.flatten()) {
                bar.set_message(format!("waiting for {dep}"));
                let ok = rx
                    .wait_for(|v| v.is_some())
                    .await
                    .map(|v| *v == Some(true))
                    .unwrap_or(false);
                if !ok {
                    let msg = format!("not run: {dep} did not complete");
                    bar.finish_with_message(msg.clone());
                    s.error = Some(msg);
                    let _ = tx.send(Some(false));
                    return s;
                }
                if let Err(e) = refresh_views(&ctx).await {
                    s.error = Some(e.to_string());
                    let _ = tx.send(Some(false));
                    return s;
                }
            }
            let _permit = sem.acquire_owned().await;
            let started = Instant::now();
            if let Err(e) = run_stream(&ctx, def, &bar, &mut s).await {
                bar.finish_with_message(if matches!(e, FerryError::Stopped) {
                    "stopped: rerun to resume".to_string()
                } else {
                    format!("FAILED: {e}")
                });
                s.error = Some(e.to_string());
            } else {
                bar.finish_with_message(format!("{} landed, {} pages ✓", s.landed, s.pages));
            }
            s.seconds = started.elapsed().as_secs_f64();
            let _ = tx.send(Some(s.error.is_none()));
            s
        });
        tasks.push((def.object, rx_for_others, handle));
    }
    let mut summaries = Vec::new();
    for (_, _, t) in tasks {
        summaries.push(
            t.await
                .map_err(|e| FerryError::Other(format!("stream task panicked: {e}")))?,
        );
    }
    ticker.abort();
    header.finish_and_clear();
    refresh_views(&ctx).await?;
    Ok(summaries)
}

/// A spawned stream: its object, a receiver of its outcome, its task.
type StreamTask = (
    &'static str,
    tokio::sync::watch::Receiver<Option<bool>>,
    tokio::task::JoinHandle<StreamSummary>,
);

/// A receiver of the outcome of stream `object`, among the tasks spawned
/// so far (`selected` is in report order, and every dependency comes
/// before the streams that wait for it).
fn tasks_rx(
    tasks: &[StreamTask],
    object: &str,
) -> Option<tokio::sync::watch::Receiver<Option<bool>>> {
    tasks.iter().find(|t| t.0 == object).map(|t| t.1.clone())
}

async fn refresh_views(ctx: &Arc<Ctx>) -> Result<()> {
    let ctx = ctx.clone();
    blocking(move || {
        let db = ctx.db.lock().unwrap();
        views::ensure_object_views(&db, &ctx.ws, SOURCE, super::OBJECTS)
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FerryError::Other(format!("background task failed: {e}")))?
}

fn load_state(db: &Connection, object: &str) -> Result<Option<State>> {
    Ok(db
        .query_row(
            "SELECT phase, cursor, status, epoch_ms(pass_started), epoch_ms(high_water)
             FROM ferry_extract_state WHERE source = ? AND object = ?",
            params![SOURCE, object],
            |r| {
                Ok(State {
                    phase: r.get(0)?,
                    cursor: r.get(1)?,
                    status: r.get(2)?,
                    pass_started: r.get(3)?,
                    high_water: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// Decides which pass to run and from where: `--full` starts over,
/// `--since` runs a delta from that instant, an interrupted pass resumes
/// at its stored phase and cursor, a completed one is followed by a delta.
fn plan(
    ctx: &Ctx,
    def: &StreamDef,
    state: Option<&State>,
) -> (String, Vec<&'static str>, usize, Option<String>, i64) {
    let now = chrono::Utc::now().timestamp_millis();
    let mut full = def.full_plan();
    // A list found capped continued by keyset search in its place: resume
    // that search where it was.
    if state.is_some_and(|st| st.phase == phase::LIVE_SEARCH && st.status != "complete") {
        if let Some(i) = full.iter().position(|p| *p == phase::LIST) {
            full[i] = phase::LIVE_SEARCH;
        }
    }
    let delta = def.delta_plan();
    if ctx.full {
        return ("full".into(), full, 0, None, now);
    }
    if ctx.since.is_some() {
        return ("delta (--since)".into(), delta, 0, None, now);
    }
    match state {
        None => ("full".into(), full, 0, None, now),
        Some(st) if st.status != "complete" => {
            let started = st.pass_started.unwrap_or(now);
            if let Some(i) = full.iter().position(|p| *p == st.phase) {
                ("full (resumed)".into(), full, i, st.cursor.clone(), started)
            } else if let Some(i) = delta.iter().position(|p| *p == st.phase) {
                (
                    "delta (resumed)".into(),
                    delta,
                    i,
                    st.cursor.clone(),
                    started,
                )
            } else {
                ("full".into(), full, 0, None, now)
            }
        }
        Some(_) => ("delta".into(), delta, 0, None, now),
    }
}

async fn run_stream(
    ctx: &Arc<Ctx>,
    def: &'static StreamDef,
    bar: &ProgressBar,
    sum: &mut StreamSummary,
) -> Result<()> {
    let state = {
        let ctx2 = ctx.clone();
        blocking(move || load_state(&ctx2.db.lock().unwrap(), def.object)).await?
    };
    let (pass, phases, start, cursor, pass_started) = plan(ctx, def, state.as_ref());
    sum.pass = pass.clone();
    let high_water = if pass.starts_with("delta") && ctx.since.is_none() {
        state.as_ref().and_then(|s| s.high_water)
    } else {
        None
    };
    // A resumed pass counts on from what earlier runs landed of it.
    let prior = if pass.contains("resumed") {
        let ctx2 = ctx.clone();
        blocking(move || {
            crate::extract::landed_in_unfinished_pass(&ctx2.db.lock().unwrap(), SOURCE, def.object)
        })
        .await?
    } else {
        0
    };
    crate::live::phase_open(def.object, prior);
    tracing::info!(object = def.object, %pass, from = phases[start], already_landed = prior, "stream pass starts");
    let mut runner = StreamRun {
        ctx: ctx.clone(),
        def,
        prior,
        bar: bar.clone(),
        phase: phases[start],
        pass_started,
        seq: 0,
        buf: Vec::new(),
        quarantine: Vec::new(),
        side: Vec::new(),
        side_quarantine: Vec::new(),
        pages_in_buf: 0,
        landed: 0,
        quarantined: 0,
        pages: 0,
        high_water,
    };
    runner.commit(cursor.clone(), "running").await?;
    let mut cursor = cursor;
    for (i, ph) in phases.iter().enumerate().skip(start) {
        runner.phase = ph;
        if i > start {
            cursor = None;
            runner.commit(None, "running").await?;
        }
        let res = match *ph {
            phase::LIST | phase::RELIST => runner.list_phase(cursor.clone()).await,
            phase::ARCHIVE | phase::LIVE_SEARCH | phase::CATCHUP | phase::DELTA => {
                runner.search_phase(cursor.clone()).await
            }
            phase::PARENTS => runner.parents_phase(cursor.clone()).await,
            phase::ATTACHMENTS => runner.attachments_phase().await,
            phase::CONTENTS => runner.contents_phase().await,
            phase::INLINE_IMAGES => runner.inline_images_phase().await,
            phase::FOLLOW => runner.follow_phase(cursor.clone()).await,
            phase::PER_CUSTOMER => runner.per_customer_phase().await,
            other => return Err(FerryError::Other(format!("unknown phase {other}"))),
        };
        match res {
            // A stream that only feeds the "rebuild by hand" lists: an org
            // without the feature (404) or a key without the role (403)
            // makes it unavailable, recorded with the reason; the extract
            // goes on.
            Err(
                e @ (FerryError::Http { status: 404, .. }
                | FerryError::Unauthorized { status: 403, .. }),
            ) if def.optional => {
                let path = def.list.unwrap_or(def.object);
                let reason = match &e {
                    FerryError::Http { body, .. } => {
                        format!("{path} answered 404: this org does not have it ({body})")
                    }
                    _ => format!("{path} answered 403: the API key lacks the role to read {}; add it to the key's roles to extract them", def.object),
                };
                let status = if matches!(e, FerryError::Http { .. }) {
                    404
                } else {
                    403
                };
                tracing::warn!(object = def.object, %reason, "stream unavailable");
                runner.mark_unavailable(status, &reason).await?;
                sum.unavailable = Some(reason);
                crate::live::phase_done(def.object);
                return Ok(());
            }
            other => other?,
        }
    }
    runner.phase = phase::DONE;
    runner.finish().await?;
    crate::live::phase_done(def.object);
    tracing::info!(
        object = def.object,
        landed = runner.landed,
        pages = runner.pages,
        quarantined = runner.quarantined,
        "stream complete"
    );
    runner.clear_unavailable().await?;
    sum.landed = runner.landed;
    sum.quarantined = runner.quarantined;
    sum.pages = runner.pages;
    Ok(())
}

/// Why an attachment record without `links.related` is quarantined.
const NO_LINK: &str = "the attachment record has no download link (links.related)";

/// Every record of a paged list, following `links.next` from `first`.
async fn all_pages(client: &ApiClient, first: &str) -> Result<Vec<String>> {
    let mut records = Vec::new();
    let mut next = first.to_string();
    loop {
        let p = client
            .fetch_parsed(Method::GET, &next, None, Lane::Standard, api::parse_page)
            .await?;
        let n = p.records.len();
        records.extend(p.records);
        match p.next {
            Some(nx) if n > 0 => next = nx,
            _ => return Ok(records),
        }
    }
}

/// The download link of an attachment record's JSON.
fn related_link(json: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v["links"]["related"].as_str().map(str::to_string))
        .filter(|l| !l.is_empty())
}

/// Longest preview Kustomer stores (its create-message schema caps
/// `preview` at 10,240 characters): a preview this long may be cut.
pub const PREVIEW_MAX: usize = 10_240;

struct QRow {
    source_id: Option<String>,
    reason: String,
    location: String,
    json: String,
}

/// One stream's pass in progress: buffers a part's worth of pages, then
/// lands it and commits the cursor in one step.
struct StreamRun {
    ctx: Arc<Ctx>,
    def: &'static StreamDef,
    /// Records earlier runs landed of the pass this one resumes.
    prior: u64,
    bar: ProgressBar,
    phase: &'static str,
    pass_started: i64,
    seq: u64,
    buf: Vec<RawRecord>,
    quarantine: Vec<QRow>,
    /// Attachment records side-loaded with messages (`include=attachments`),
    /// downloaded as soon as read and landed with the messages' part.
    side: Vec<RawRecord>,
    side_quarantine: Vec<QRow>,
    pages_in_buf: usize,
    landed: u64,
    quarantined: u64,
    pages: u64,
    /// High-water mark of the previous pass (delta passes only).
    high_water: Option<i64>,
}

impl StreamRun {
    fn origin(&self) -> &'static str {
        match self.phase {
            phase::ARCHIVE => "archive",
            phase::LIST | phase::RELIST => "list",
            phase::LIVE_SEARCH => "search",
            phase::CATCHUP => "catchup",
            phase::DELTA => "delta",
            phase::PARENTS => "parent",
            phase::FOLLOW => "list",
            phase::PER_CUSTOMER => "parent",
            _ => "download",
        }
    }

    fn show(&self) {
        self.bar.set_message(format!(
            "{:<11} {:>9} records {:>7} pages{}",
            self.phase,
            self.prior + self.landed + self.buf.len() as u64,
            self.pages,
            if self.quarantined > 0 {
                format!(" · {} quarantined", self.quarantined)
            } else {
                String::new()
            }
        ));
    }

    /// Splits a page into landable records and quarantined ones.
    fn take_page(
        &mut self,
        location: &str,
        records: Vec<String>,
        skip: impl Fn(&api::Keys) -> bool,
    ) -> Vec<api::Keys> {
        let mut keys_out = Vec::with_capacity(records.len());
        let origin = self.origin();
        for json in records {
            match record_keys(&json) {
                Ok(keys) => {
                    if !skip(&keys) {
                        self.buf.push(RawRecord {
                            id: keys.id.clone(),
                            created_at: keys.created_at,
                            updated_at: keys.updated_at,
                            origin,
                            sha256: None,
                            size_bytes: None,
                            json,
                        });
                    }
                    keys_out.push(keys);
                }
                Err(q) => {
                    tracing::warn!(object = self.def.object, location, reason = %q.reason, "record quarantined");
                    self.quarantine.push(QRow {
                        source_id: q.id,
                        reason: q.reason,
                        location: location.to_string(),
                        json,
                    });
                }
            }
        }
        self.pages += 1;
        self.pages_in_buf += 1;
        self.show();
        keys_out
    }

    /// Lands the buffer as a part (if any) and commits the cursor, the
    /// part's registry row and quarantined records in one transaction.
    async fn commit(&mut self, cursor: Option<String>, status: &'static str) -> Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let quarantine = std::mem::take(&mut self.quarantine);
        for q in &quarantine {
            crate::live::reason(self.def.object, "quarantined", &q.reason, 1);
        }
        let side = std::mem::take(&mut self.side);
        let side_quarantine = std::mem::take(&mut self.side_quarantine);
        self.pages_in_buf = 0;
        let seq = self.seq;
        if !buf.is_empty() || !side.is_empty() {
            self.seq += 1;
        }
        let ctx = self.ctx.clone();
        let object = self.def.object;
        let phase = self.phase;
        let pass_started = self.pass_started;
        let (n, q) = (buf.len() as u64, quarantine.len() as u64);
        let pages = self.pages as i64;
        blocking(move || {
            let part = if buf.is_empty() {
                None
            } else {
                let dir = ctx.ws.join("raw").join(SOURCE).join(object);
                Some(land::write_part(&ctx.ws, &dir, &ctx.run_id, seq, &buf)?)
            };
            // Side-loaded attachments go to the attachments directory under
            // a name of the landing stream's own, so no two streams collide.
            let side_part = if side.is_empty() {
                None
            } else {
                let dir = ctx.ws.join("raw").join(SOURCE).join("attachments");
                let name = format!("part-{}-{object}-{seq:06}", ctx.run_id);
                Some(land::write_part_named(&ctx.ws, &dir, &ctx.run_id, &name, &side)?)
            };
            let mut db = ctx.db.lock().unwrap();
            let tx = db.transaction()?;
            for (obj, p) in [(object, &part), ("attachments", &side_part)] {
                if let Some(p) = p {
                    tx.execute(
                        "INSERT INTO ferry_raw_parts VALUES (?, ?, ?, ?, ?, ?, now())",
                        params![SOURCE, obj, p.rel_path, ctx.run_id, p.records as i64, p.bytes as i64],
                    )?;
                }
            }
            for (obj, rows) in [(object, &quarantine), ("attachments", &side_quarantine)] {
                for row in rows {
                    tx.execute(
                        "INSERT INTO ferry_quarantine VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                        params![ctx.run_id, SOURCE, obj, row.source_id, row.reason, row.location, row.json],
                    )?;
                }
            }
            tx.execute(
                "INSERT INTO ferry_extract_state (source, object, phase, cursor, pass_started, pages, records, status, run_id, updated_at)
                 VALUES (?, ?, ?, ?, to_timestamp(? / 1000.0), ?, 0, ?, ?, now())
                 ON CONFLICT (source, object) DO UPDATE SET phase = excluded.phase, cursor = excluded.cursor,
                   pass_started = excluded.pass_started, pages = ferry_extract_state.pages + ?,
                   records = ferry_extract_state.records + ?, status = excluded.status,
                   run_id = excluded.run_id, updated_at = now()",
                params![SOURCE, object, phase, cursor, pass_started, pages, status, ctx.run_id, 0i64, n as i64],
            )?;
            crate::chaos::crash_point("extract.commit");
            tx.commit()?;
            Ok(())
        })
        .await?;
        let _ = pages;
        if n + q > 0 {
            tracing::debug!(object, phase, records = n, quarantined = q, "part landed");
        }
        self.landed += n;
        self.quarantined += q;
        crate::live::add(object, n, q, 0);
        // A stop asked for lands what was read, then ends the stream here:
        // the cursor just recorded is where the next run resumes.
        if status == "running" && crate::stop::requested() {
            return Err(FerryError::Stopped);
        }
        Ok(())
    }

    /// Records the stream as unavailable (and its pass as finished: there
    /// is nothing to resume).
    async fn mark_unavailable(&mut self, status: u16, reason: &str) -> Result<()> {
        self.buf.clear();
        self.commit(None, "complete").await?;
        let ctx = self.ctx.clone();
        let (object, reason) = (self.def.object, reason.to_string());
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            db.execute(
                "INSERT OR REPLACE INTO ferry_unavailable VALUES (?, ?, ?, ?, ?, now())",
                params![SOURCE, object, status as i64, reason, ctx.run_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn clear_unavailable(&self) -> Result<()> {
        let ctx = self.ctx.clone();
        let object = self.def.object;
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            db.execute(
                "DELETE FROM ferry_unavailable WHERE source = ? AND object = ?",
                params![SOURCE, object],
            )?;
            Ok(())
        })
        .await
    }

    /// Marks the pass complete and moves the high-water mark to the newest
    /// `updated_at` now visible for the object.
    async fn finish(&mut self) -> Result<()> {
        self.commit(None, "complete").await?;
        let ctx = self.ctx.clone();
        let object = self.def.object;
        let pages = self.pages as i64;
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            db.execute_batch(&views::raw_view_sql(&ctx.ws, SOURCE, object))?;
            db.execute(
                &format!(
                    // A record that is never updated (an audit log entry)
                    // has only its creation time.
                    "UPDATE ferry_extract_state SET high_water = (SELECT max(coalesce(updated_at, created_at)) FROM raw_{SOURCE}_{object}),
                     pages = ? WHERE source = ? AND object = ?"
                ),
                params![pages, SOURCE, object],
            )?;
            Ok(())
        })
        .await
    }

    async fn maybe_flush(&mut self, cursor: impl FnOnce() -> String) -> Result<()> {
        // A part also closes at PART_BYTES of JSON, so memory per stream
        // stays bounded whatever the page size and body sizes.
        let bytes: usize = self.buf.iter().map(|r| r.json.len()).sum();
        if self.pages_in_buf >= self.ctx.cfg.pages_per_part || bytes >= PART_BYTES {
            self.commit(Some(cursor()), "running").await?;
        }
        Ok(())
    }

    /// Follows `links.next` of an org-wide list, for each of the stream's
    /// list queries. A list that ends exactly at the record cap is taken as
    /// capped (no document says what the API does there) and continued by
    /// keyset search; messages come with their attachments side-loaded.
    async fn list_phase(&mut self, cursor: Option<String>) -> Result<()> {
        let path = self.def.list.expect("list phase needs a list endpoint");
        let queries = self.def.list_queries;
        let size = self.ctx.cfg.list_page_size;
        let first = |variant: usize| {
            let q = queries.get(variant).copied().unwrap_or("");
            let sep = if q.is_empty() { "" } else { "&" };
            format!("{path}?page=1&pageSize={size}{sep}{q}")
        };
        let mut cur = match cursor.and_then(|c| serde_json::from_str::<ListCursor>(&c).ok()) {
            Some(c) => c,
            None => ListCursor {
                next: first(0),
                variant: 0,
                seen: 0,
            },
        };
        // A delta over a list-only object lands only what changed.
        let known: Option<HashSet<(String, i64)>> = if self.phase == phase::RELIST {
            Some(self.known_versions().await?)
        } else {
            None
        };
        let since = self.ctx.since;
        let window = self.ctx.cfg.list_prefetch.max(1);
        loop {
            // Lists page by number (spec: `page`, `pageSize`), so the next
            // `list_prefetch` pages are requested ahead, each its own task;
            // pages are taken in order and the cursor commits only past
            // pages taken, so a kill -9 resumes without a gap. At most
            // `list_prefetch - 1` requests past the end are wasted.
            let first_page = page_of(&cur.next);
            let base = cur.next.clone();
            let client = self.ctx.client.clone();
            let mut pages = futures::stream::iter(first_page..)
                .map(|p| {
                    let client = client.clone();
                    let url = with_page(&base, p);
                    tokio::spawn(async move {
                        let res = client
                            .fetch_parsed(Method::GET, &url, None, Lane::Standard, api::parse_page)
                            .await;
                        (p, url, res)
                    })
                })
                .buffered(window);
            let mut ended = false;
            while let Some(done) = pages.next().await {
                let (p, location, res) =
                    done.map_err(|e| FerryError::Other(format!("list task failed: {e}")))?;
                let page = res?;
                let n = page.records.len();
                let msg_of = attachment_owners(&page.records);
                self.take_page(&location, page.records, |k| match (&known, since) {
                    (_, Some(s)) => k.updated_at.unwrap_or(i64::MAX) < s,
                    (Some(set), None) => set.contains(&(k.id.clone(), k.updated_at.unwrap_or(0))),
                    _ => false,
                });
                cur.seen += n as u64;
                cur.next = with_page(&base, p + 1);
                if !page.included.is_empty() {
                    self.take_side_attachments(&location, page.included, &msg_of)
                        .await?;
                }
                if page.next.is_none() || n == 0 {
                    ended = true;
                    break;
                }
                let c = serde_json::to_string(&cur).unwrap();
                self.maybe_flush(|| c).await?;
            }
            drop(pages);
            if !ended {
                continue;
            }
            let cap = self.ctx.cfg.list_record_cap;
            let capped = cap > 0 && cur.seen > 0 && cur.seen % cap == 0;
            if capped && self.phase == phase::LIST && self.def.context.is_some() {
                tracing::warn!(
                    object = self.def.object,
                    records = cur.seen,
                    "list ended exactly at the record cap; continuing by keyset search"
                );
                self.commit(Some(serde_json::to_string(&cur).unwrap()), "running")
                    .await?;
                self.phase = phase::LIVE_SEARCH;
                self.commit(None, "running").await?;
                return self.search_phase(None).await;
            }
            if capped {
                tracing::warn!(
                    object = self.def.object,
                    records = cur.seen,
                    "list ended exactly at the record cap and has no search to continue by"
                );
                self.quarantine.push(QRow {
                    source_id: None,
                    reason: format!("{path} ended after exactly {} records, a multiple of the list cap ({cap}); the API may have cut it short and {} cannot be searched: check the count in the source", cur.seen, self.def.object),
                    location: cur.next.clone(),
                    json: String::new(),
                });
            }
            if cur.variant + 1 >= queries.len() {
                break;
            }
            cur = ListCursor {
                next: first(cur.variant + 1),
                variant: cur.variant + 1,
                seen: 0,
            };
            let c = serde_json::to_string(&cur).unwrap();
            self.maybe_flush(|| c).await?;
        }
        Ok(())
    }

    /// Side-loaded attachment records of a page of messages: landed with
    /// the messages, their bytes downloaded now, while the links are fresh.
    async fn take_side_attachments(
        &mut self,
        location: &str,
        included: Vec<String>,
        msg_of: &HashMap<String, String>,
    ) -> Result<()> {
        let mut recs = Vec::new();
        for json in included {
            match record_keys(&json) {
                Ok(k) => recs.push(RawRecord {
                    id: k.id,
                    created_at: k.created_at,
                    updated_at: k.updated_at,
                    origin: "list",
                    sha256: None,
                    size_bytes: None,
                    json,
                }),
                Err(q) => self.side_quarantine.push(QRow {
                    source_id: q.id,
                    reason: q.reason,
                    location: location.to_string(),
                    json,
                }),
            }
        }
        let (landed, failed) = self.download_all(recs, msg_of).await?;
        self.side.extend(landed);
        self.side_quarantine.extend(failed);
        Ok(())
    }

    /// Runs a query over the freshly refreshed view of `object` and returns
    /// its first column as text (the id) and its second as a number.
    async fn query_view(
        &self,
        object: &'static str,
        sql: String,
        arg: Option<i64>,
    ) -> Result<Vec<(String, i64)>> {
        let ctx = self.ctx.clone();
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            db.execute_batch(&views::raw_view_sql(&ctx.ws, SOURCE, object))?;
            let mut stmt = db.prepare(&sql)?;
            let map = |r: &duckdb::Row| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?));
            let rows = match arg {
                Some(a) => stmt
                    .query_map([a], map)?
                    .collect::<std::result::Result<Vec<_>, _>>()?,
                None => stmt
                    .query_map([], map)?
                    .collect::<std::result::Result<Vec<_>, _>>()?,
            };
            Ok(rows)
        })
        .await
    }

    async fn known_versions(&self) -> Result<HashSet<(String, i64)>> {
        let object = self.def.object;
        let sql =
            format!("SELECT id, coalesce(epoch_ms(updated_at), 0) FROM raw_{SOURCE}_{object}");
        Ok(self
            .query_view(object, sql, None)
            .await?
            .into_iter()
            .collect())
    }

    async fn tie_ids(&self, at: i64) -> Result<Vec<String>> {
        let object = self.def.object;
        let sql = format!("SELECT id, 0 FROM raw_{SOURCE}_{object} WHERE epoch_ms(updated_at) = ?");
        Ok(self
            .query_view(object, sql, Some(at))
            .await?
            .into_iter()
            .map(|r| r.0)
            .collect())
    }

    /// Keyset search on updated_at (ascending, `gte`, ties skipped by id):
    /// every request is page 1 of a fresh window, so updates that reorder
    /// the result set never shift a page boundary; only a run of equal
    /// timestamps longer than a page is paged by number.
    async fn search_phase(&mut self, cursor: Option<String>) -> Result<()> {
        let ctx_name = self.def.context.expect("search phase needs a context");
        let archive = self.phase == phase::ARCHIVE;
        let endpoint = if archive {
            "/v1/customers/archive/search"
        } else {
            "/v1/customers/search"
        };
        let mut cur = match cursor.and_then(|c| serde_json::from_str::<SearchCursor>(&c).ok()) {
            Some(c) => c,
            None => {
                let gte = match self.phase {
                    phase::CATCHUP => {
                        Some(self.pass_started - self.ctx.cfg.overlap_secs * 1000 - 1000)
                    }
                    phase::DELTA => match (self.ctx.since, self.high_water) {
                        (Some(s), _) => Some(s),
                        (None, Some(hw)) => Some(hw - self.ctx.cfg.overlap_secs * 1000),
                        (None, None) => None,
                    },
                    _ => None,
                };
                let skip = match (self.phase, self.ctx.since, self.high_water) {
                    (phase::DELTA, None, Some(hw)) if self.ctx.cfg.overlap_secs == 0 => {
                        self.tie_ids(hw).await?
                    }
                    _ => Vec::new(),
                };
                SearchCursor { gte, page: 1, skip }
            }
        };
        let size = self.ctx.cfg.search_page_size;
        let field = format!("{ctx_name}_updated_at");
        loop {
            let mut and = Vec::new();
            if let Some(g) = cur.gte {
                and.push(json!({ &field: {"gte": iso(g)} }));
            }
            let body = json!({"queryContext": ctx_name, "and": and, "sort": [{ &field: "asc" }]});
            let path = format!("{endpoint}?page={}&pageSize={size}", cur.page);
            let page: Page = self
                .ctx
                .client
                .fetch_parsed(
                    Method::POST,
                    &path,
                    Some(&body),
                    Lane::Search,
                    api::parse_page,
                )
                .await?;
            let has_next = page.next.is_some();
            let n = page.records.len();
            let skip: HashSet<String> = cur.skip.iter().cloned().collect();
            let gte = cur.gte;
            let keys = self.take_page(&format!("{path} {body}"), page.records, |k| {
                k.updated_at == gte && gte.is_some() && skip.contains(&k.id)
            });
            let finished =
                n == 0 || (!has_next && cur.page < SEARCH_PAGE_CAP) || (n < size as usize);
            if finished {
                break;
            }
            let max_u = keys.iter().filter_map(|k| k.updated_at).max();
            cur = match (max_u, cur.gte) {
                (Some(m), g) if g.is_none_or(|g| m > g) => SearchCursor {
                    gte: Some(m),
                    page: 1,
                    skip: keys
                        .iter()
                        .filter(|k| k.updated_at == Some(m))
                        .map(|k| k.id.clone())
                        .collect(),
                },
                _ => {
                    if cur.page >= SEARCH_PAGE_CAP {
                        return Err(FerryError::Other(format!(
                            "{}: more than {} records share updatedAt {}; the search API cannot page past them",
                            self.def.object,
                            SEARCH_PAGE_CAP * size,
                            cur.gte.map(iso).unwrap_or_default()
                        )));
                    }
                    let mut skip = cur.skip.clone();
                    skip.extend(keys.iter().map(|k| k.id.clone()));
                    SearchCursor {
                        gte: cur.gte,
                        page: cur.page + 1,
                        skip,
                    }
                }
            };
            let c = serde_json::to_string(&cur).unwrap();
            self.maybe_flush(|| c).await?;
        }
        Ok(())
    }

    /// Notes of conversations older than two years that the org-wide list
    /// did not give: the archive search has no notes, so they come from
    /// `/v1/conversations/{id}/notes`. Only where they are provably missing:
    /// a conversation's `noteCount` (Kustomer's counter on the conversation
    /// record) above the notes landed for it, or no count to compare. A
    /// conversation without notes, or whose notes all came with the list,
    /// costs nothing (it cost a request each before: 3,099 of 4,567 requests
    /// on an org with a long history).
    async fn parents_phase(&mut self, cursor: Option<String>) -> Result<()> {
        // The list is recomputed on resume: what the last run committed is
        // no longer missing, so the walk starts again at its head (a
        // position saved in a longer list would skip conversations).
        let _ = cursor;
        let mut cur = ParentsCursor::default();
        let cutoff = self.pass_started - TWO_YEARS_MS;
        let sql = format!(
            "WITH landed AS (
               SELECT json_extract_string(json, '$.relationships.conversation.data.id') AS cid, count(*) AS n
               FROM raw_{SOURCE}_notes GROUP BY 1),
             conv AS (
               SELECT id, created_at, TRY_CAST(json_extract(json, '$.attributes.noteCount') AS BIGINT) AS note_count
               FROM raw_{SOURCE}_conversations)
             SELECT c.id, 0 FROM conv c LEFT JOIN landed l ON l.cid = c.id
             WHERE epoch_ms(c.created_at) < ?
               AND (c.note_count IS NULL OR coalesce(l.n, 0) < c.note_count)
               AND c.id NOT IN (SELECT source_id FROM ferry_quarantine
                                WHERE source = '{SOURCE}' AND object = 'notes' AND source_id IS NOT NULL)
             ORDER BY c.id"
        );
        let parents: Vec<String> = {
            let ctx = self.ctx.clone();
            blocking(move || {
                let db = ctx.db.lock().unwrap();
                db.execute_batch(&views::raw_view_sql(&ctx.ws, SOURCE, "notes"))?;
                Ok(())
            })
            .await?;
            self.query_view("conversations", sql, Some(cutoff))
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect()
        };
        tracing::info!(
            conversations = parents.len(),
            "old conversations whose notes the list did not give: read one by one"
        );
        // One conversation's notes per task, `fetch_concurrency` in flight
        // (under real latency one at a time leaves the budget idle);
        // processed in order, so the cursor only ever covers conversations
        // whose notes are all buffered.
        let client = self.ctx.client.clone();
        let size = self.ctx.cfg.list_page_size;
        let start = cur.pos;
        let resume_next = cur.next.take();
        let mut reads = futures::stream::iter(parents[start..].iter().cloned().enumerate())
            .map(|(i, cid)| {
                let client = client.clone();
                let first = match (&resume_next, i) {
                    (Some(n), 0) => n.clone(),
                    _ => format!("/v1/conversations/{cid}/notes?page=1&pageSize={size}"),
                };
                tokio::spawn(async move {
                    let mut records = Vec::new();
                    let mut next = first.clone();
                    loop {
                        match client
                            .fetch_parsed(Method::GET, &next, None, Lane::Standard, api::parse_page)
                            .await
                        {
                            Ok(p) => {
                                let n = p.records.len();
                                records.extend(p.records);
                                match p.next {
                                    Some(nx) if n > 0 => next = nx,
                                    _ => return (cid, first, Ok(records)),
                                }
                            }
                            Err(e) => return (cid, first, Err(e)),
                        }
                    }
                })
            })
            .buffered(self.ctx.cfg.fetch_concurrency.max(1));
        while let Some(done) = reads.next().await {
            let (cid, location, res) =
                done.map_err(|e| FerryError::Other(format!("notes task failed: {e}")))?;
            match res {
                Ok(records) => {
                    self.take_page(&location, records, |_| false);
                }
                // The conversation is gone (deleted since it was listed):
                // its notes cannot be read; say so and go on.
                Err(FerryError::Http { status: 404, .. }) => {
                    tracing::warn!(conversation = %cid, "notes of a conversation returned 404; skipped");
                    self.quarantine.push(QRow {
                        source_id: Some(cid.clone()),
                        reason: "the notes of this conversation returned 404 (deleted since it was listed?); its notes were not extracted".into(),
                        location,
                        json: String::new(),
                    });
                }
                Err(e) => return Err(e),
            }
            cur.pos += 1;
            let c = serde_json::to_string(&cur).unwrap();
            self.maybe_flush(|| c).await?;
        }
        Ok(())
    }

    /// A list walked by its `links.next` from the first page (the audit
    /// log, newest first: `count` up to 1,000 a page, then `before` the
    /// page's last id, as the spec's example links show). The cursor is the
    /// next link, committed with each landed part, so a killed run resumes
    /// at the page after the last one landed. Entries never change
    /// (Kustomer writes them once): one already landed is not landed again,
    /// and a delta pass stops at the first page that reaches the newest
    /// entry landed before.
    async fn follow_phase(&mut self, cursor: Option<String>) -> Result<()> {
        let path = self.def.list.expect("follow phase needs a list endpoint");
        let known = self.known_versions().await?;
        let newest_landed = if self.high_water.is_some() {
            let object = self.def.object;
            let sql =
                format!("SELECT max(id), 0 FROM raw_{SOURCE}_{object} HAVING max(id) IS NOT NULL");
            self.query_view(object, sql, None)
                .await?
                .into_iter()
                .next()
                .map(|r| r.0)
        } else {
            None
        };
        let mut next = cursor.unwrap_or_else(|| format!("{path}?count=1000"));
        loop {
            let page = self
                .ctx
                .client
                .fetch_parsed(Method::GET, &next, None, Lane::Standard, api::parse_page)
                .await?;
            let n = page.records.len();
            let keys = self.take_page(&next, page.records, |k| {
                known.contains(&(k.id.clone(), k.updated_at.unwrap_or(0)))
            });
            let reached_known = newest_landed
                .as_deref()
                .is_some_and(|newest| keys.iter().any(|k| k.id.as_str() <= newest));
            match page.next {
                Some(nx) if n > 0 && !reached_known => {
                    next = nx;
                    let c = next.clone();
                    self.maybe_flush(|| c).await?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Each landed customer's tracking events: their sessions (`GET
    /// /v1/customers/{id}/sessions`), then each session's events (`GET
    /// …/sessions/{sessionId}/events`), every list paged, `fetch_concurrency`
    /// customers at a time, landed in customer order. On a delta pass only
    /// customers updated since the stream's high-water mark are read again
    /// (a new session is assumed to touch its customer; a full pass reads
    /// every one), and an event landed before is not landed again.
    /// Resumable by construction: customers whose events are landed in this
    /// pass are not read again.
    async fn per_customer_phase(&mut self) -> Result<()> {
        let since = self.high_water.unwrap_or(i64::MIN);
        let started = self.pass_started;
        let object = self.def.object;
        let sql = format!(
            "WITH done AS (
               SELECT DISTINCT json_extract_string(json, '$.relationships.customer.data.id') AS cid
               FROM raw_{SOURCE}_{object} WHERE epoch_ms(extracted_at) >= ?)
             SELECT c.id, 0 FROM raw_{SOURCE}_customers c
             WHERE epoch_ms(c.updated_at) >= {since} AND c.id NOT IN (SELECT cid FROM done WHERE cid IS NOT NULL)
             ORDER BY c.id"
        );
        let customers: Vec<String> = {
            let ctx = self.ctx.clone();
            blocking(move || {
                let db = ctx.db.lock().unwrap();
                db.execute_batch(&views::raw_view_sql(&ctx.ws, SOURCE, object))?;
                Ok(())
            })
            .await?;
            self.query_view("customers", sql, Some(started))
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect()
        };
        let known = self.known_versions().await?;
        let client = self.ctx.client.clone();
        let size = self.ctx.cfg.list_page_size;
        let mut reads = futures::stream::iter(customers)
            .map(|cid| {
                let client = client.clone();
                tokio::spawn(async move {
                    let first = format!("/v1/customers/{cid}/sessions?page=1&pageSize={size}");
                    let res = async {
                        let mut events = Vec::new();
                        for session in all_pages(&client, &first).await? {
                            let v: serde_json::Value =
                                serde_json::from_str(&session).unwrap_or_default();
                            let Some(sid) = v["id"].as_str() else {
                                continue;
                            };
                            let list = format!(
                                "/v1/customers/{cid}/sessions/{sid}/events?page=1&pageSize={size}"
                            );
                            events.extend(all_pages(&client, &list).await?);
                        }
                        Ok::<_, FerryError>(events)
                    }
                    .await;
                    (cid, first, res)
                })
            })
            .buffered(self.ctx.cfg.fetch_concurrency.max(1));
        while let Some(done) = reads.next().await {
            let (cid, location, res) =
                done.map_err(|e| FerryError::Other(format!("customer events task failed: {e}")))?;
            match res {
                Ok(records) => {
                    self.take_page(&location, records, |k| {
                        known.contains(&(k.id.clone(), k.updated_at.unwrap_or(0)))
                    });
                }
                // The customer is gone (deleted since it was landed).
                Err(FerryError::Http { status: 404, .. }) => {
                    tracing::warn!(customer = %cid, "the sessions of a customer returned 404; skipped");
                }
                Err(e) => return Err(e),
            }
            self.maybe_flush(String::new).await?;
        }
        Ok(())
    }

    /// Attachments of messages that came without them (found by search,
    /// which side-loads nothing): one `GET /v1/messages/{m}/attachments/{a}`
    /// each, the endpoint for inbound and outbound files alike (spec), then
    /// the bytes. Restartable by construction: the pending set is
    /// "referenced by a landed message, not yet landed".
    async fn attachments_phase(&mut self) -> Result<()> {
        let sql = format!(
            "SELECT DISTINCT mid, aid FROM (
               SELECT id AS mid, unnest(json_extract_string(json, '$.relationships.attachments.data[*].id')) AS aid
               FROM read_parquet('{{glob}}'))
             WHERE aid IS NOT NULL AND aid NOT IN (SELECT id FROM raw_{SOURCE}_attachments)
               AND aid NOT IN (SELECT source_id FROM ferry_quarantine WHERE object = 'attachments' AND source_id IS NOT NULL)
             ORDER BY aid"
        );
        let pending = self.pending_from_messages(sql).await?;
        self.bar.set_length(pending.len() as u64);
        // A download phase knows its total: what is landed and what is left.
        crate::live::set_total(
            self.def.object,
            self.prior + self.landed + pending.len() as u64,
        );
        let client = self.ctx.client.clone();
        for chunk in pending.chunks(READS_PER_COMMIT) {
            let reads: Vec<(String, String, Result<Page>)> =
                futures::stream::iter(chunk.iter().cloned())
                    .map(|(mid, aid)| {
                        let client = client.clone();
                        async move {
                            let path = format!("/v1/messages/{mid}/attachments/{aid}");
                            let page = client
                                .fetch_parsed(
                                    Method::GET,
                                    &path,
                                    None,
                                    Lane::Standard,
                                    api::parse_page,
                                )
                                .await;
                            (mid, aid, page)
                        }
                    })
                    .buffer_unordered(self.ctx.cfg.fetch_concurrency.max(1))
                    .collect()
                    .await;
            let mut owners = HashMap::new();
            let mut records = Vec::new();
            for (mid, aid, page) in reads {
                let path = format!("/v1/messages/{mid}/attachments/{aid}");
                match page {
                    Ok(p) => {
                        records.extend(p.records);
                        owners.insert(aid, mid);
                    }
                    Err(FerryError::Http { status: 404, .. }) => self.quarantine.push(QRow {
                        source_id: Some(aid),
                        reason: format!(
                            "attachment referenced by message {mid} but {path} returned 404"
                        ),
                        location: path,
                        json: String::new(),
                    }),
                    Err(e) => return Err(e),
                }
            }
            let before = self.buf.len();
            self.take_page("/v1/messages/{id}/attachments/{id}", records, |_| false);
            let fetched: Vec<RawRecord> = self.buf.drain(before..).collect();
            let (landed, failed) = self.download_all(fetched, &owners).await?;
            self.buf.extend(landed);
            self.quarantine.extend(failed);
            self.commit(Some(String::new()), "running").await?;
        }
        Ok(())
    }

    /// Pending (message, other) pairs read from the messages' Parquet
    /// parts: `sql` has a `{glob}` placeholder, run once per part, so
    /// memory is bounded by one part whatever the history's size (a scan
    /// of every part at once runs out of the extract's 128 MB). Straight
    /// from the parts, not the dedup view: a window over every message's
    /// JSON would need memory; a few fields per row do not. Pairs are
    /// returned once each, sorted.
    async fn pending_from_messages(&self, sql: String) -> Result<Vec<(String, String)>> {
        self.pending_from("messages", sql).await
    }

    /// [`Self::pending_from_messages`] over another object's parts.
    async fn pending_from(
        &self,
        object: &'static str,
        sql: String,
    ) -> Result<Vec<(String, String)>> {
        let ctx = self.ctx.clone();
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            views::ensure_object_views(&db, &ctx.ws, SOURCE, super::OBJECTS)?;
            let msgs = ctx.ws.join("raw").join(SOURCE).join(object);
            if !views::has_parts(&msgs) {
                return Ok(Vec::new());
            }
            let mut parts: Vec<_> = std::fs::read_dir(&msgs)
                .map_err(|e| FerryError::io(format!("reading {}", msgs.display()), e))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
                .collect();
            parts.sort();
            let mut out = std::collections::BTreeSet::new();
            for part in parts {
                let file = part.to_string_lossy().replace('\'', "''");
                let mut stmt = db.prepare(&sql.replace("{glob}", &file))?;
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                for row in rows {
                    out.insert(row?);
                }
            }
            Ok(out.into_iter().collect())
        })
        .await
    }

    /// Full message bodies. A message record carries `preview` only (the
    /// published schema has no body); the whole content is at the record's
    /// `links.related` (the spec's example: `/v1/postmark/messages/{id}`).
    /// Read for every email (its preview is a plain-text snippet, the HTML
    /// is only there) and for any message whose preview reaches the
    /// 10,240-character cap; a chat preview under the cap is the text
    /// itself (`ferry probe` checks both against the real org). Landed
    /// verbatim with the message's id and `updatedAt`, so an edited message
    /// is read again on a delta.
    async fn contents_phase(&mut self) -> Result<()> {
        // Row by row, no aggregate over the JSON: memory stays flat however
        // large the bodies; the newest version per id is kept here.
        let sql = format!(
            "SELECT id || chr(31) || coalesce(CAST(epoch_ms(updated_at) AS VARCHAR), '0'), related FROM (
               SELECT id, updated_at, json_extract_string(json, '$.links.related') AS related,
                      json_extract_string(json, '$.attributes.channel') AS channel,
                      length(coalesce(json_extract_string(json, '$.attributes.preview'), '')) AS preview_len
               FROM read_parquet('{{glob}}'))
             WHERE related LIKE '/v1/%' AND related <> '/v1/messages/' || id
               AND (channel = 'email' OR preview_len >= {PREVIEW_MAX})"
        );
        let mut newest: HashMap<String, (i64, String)> = HashMap::new();
        for (key, related) in self.pending_from_messages(sql).await? {
            let (id, t) = key.split_once('\u{1f}').unwrap_or((key.as_str(), "0"));
            let t: i64 = t.parse().unwrap_or(0);
            let e = newest.entry(id.to_string()).or_insert((t, related.clone()));
            if t >= e.0 {
                *e = (t, related);
            }
        }
        let have: HashMap<String, i64> = {
            let sql = format!(
                "SELECT id, coalesce(epoch_ms(updated_at), 0) FROM raw_{SOURCE}_message_contents"
            );
            self.query_view("message_contents", sql, None)
                .await?
                .into_iter()
                .collect()
        };
        let quarantined: HashSet<String> = {
            let sql = "SELECT source_id, 0 FROM ferry_quarantine WHERE object = 'message_contents' AND source_id IS NOT NULL".to_string();
            self.query_view("message_contents", sql, None)
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect()
        };
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut updated: HashMap<String, Option<i64>> = HashMap::new();
        for (id, (t, related)) in newest {
            if have.get(&id).is_some_and(|h| *h >= t) || quarantined.contains(&id) {
                continue;
            }
            updated.insert(id.clone(), Some(t));
            pending.push((id, related));
        }
        pending.sort();
        self.bar.set_length(pending.len() as u64);
        // A download phase knows its total: what is landed and what is left.
        crate::live::set_total(
            self.def.object,
            self.prior + self.landed + pending.len() as u64,
        );
        let client = self.ctx.client.clone();
        for chunk in pending.chunks(READS_PER_COMMIT) {
            let reads: Vec<(String, String, Result<serde_json::Value>)> =
                futures::stream::iter(chunk.iter().cloned())
                    .map(|(mid, related)| {
                        let client = client.clone();
                        async move {
                            let v = client.get_json(&related).await;
                            (mid, related, v)
                        }
                    })
                    .buffer_unordered(self.ctx.cfg.fetch_concurrency.max(1))
                    .collect()
                    .await;
            for (mid, related, v) in reads {
                match v {
                    Ok(v) => {
                        let data = if v["data"].is_object() { v["data"].clone() } else { v };
                        let t = updated.get(&mid).copied().flatten();
                        self.buf.push(RawRecord {
                            id: mid,
                            created_at: None,
                            updated_at: t,
                            origin: "related",
                            sha256: None,
                            size_bytes: None,
                            json: data.to_string(),
                        });
                    }
                    Err(FerryError::Http { status: 404 | 403, .. }) => self.quarantine.push(QRow {
                        source_id: Some(mid),
                        reason: format!("the message's full content at {related} could not be read; its comment carries the preview only (listed in stg_preview_only_messages)"),
                        location: related,
                        json: String::new(),
                    }),
                    Err(e) => return Err(e),
                }
            }
            self.pages += 1;
            self.show();
            self.commit(Some(String::new()), "running").await?;
        }
        Ok(())
    }

    /// The inline images of the landed full bodies: every `<img src>`
    /// with an http(s) link in a content's HTML becomes record
    /// `<message id>:img<n>` (n counts the body's images from 1) with its
    /// `src` as written, and its bytes go to the content-addressed store
    /// like an attachment's, so a destination can host them and the
    /// body's link can be rewritten. A link on another host than the API
    /// (Kustomer's CDN) is fetched without the API credential and outside
    /// the request budget (`ApiClient::download`). An image the host no
    /// longer serves (404, 403, 410) is quarantined with the reason; its
    /// message still loads. `data:` and `cid:` images are not links to
    /// fetch and are left in the body.
    async fn inline_images_phase(&mut self) -> Result<()> {
        let sql = format!(
            "SELECT mid || ':img' || n, coalesce(CAST(epoch_ms(updated_at) AS VARCHAR), '') || chr(31) || src FROM (
               SELECT id AS mid, updated_at, u.src, u.n FROM read_parquet('{{glob}}'),
                 unnest(regexp_extract_all(
                     coalesce(json_extract_string(json, '$.attributes.HtmlBody'), json_extract_string(json, '$.attributes.htmlBody'),
                              json_extract_string(json, '$.attributes.html'), json_extract_string(json, '$.attributes.body'), ''),
                     '(?i)<img\\s[^>]*?src\\s*=\\s*[\"'']([^\"'']+)[\"'']', 1)) WITH ORDINALITY AS u(src, n))
             WHERE regexp_matches(src, '^https?://')
               AND mid || ':img' || n NOT IN (SELECT id FROM raw_{SOURCE}_inline_images)
               AND mid || ':img' || n NOT IN (SELECT source_id FROM ferry_quarantine WHERE object = 'inline_images' AND source_id IS NOT NULL)
             ORDER BY 1"
        );
        let pending = self.pending_from("message_contents", sql).await?;
        self.bar.set_length(pending.len() as u64);
        // A download phase knows its total: what is landed and what is left.
        crate::live::set_total(
            self.def.object,
            self.prior + self.landed + pending.len() as u64,
        );
        let dir = self.ctx.ws.join("attachments");
        let client = self.ctx.client.clone();
        for chunk in pending.chunks(READS_PER_COMMIT) {
            let recs: Vec<RawRecord> = chunk
                .iter()
                .map(|(id, at_src)| {
                    // The image changes with its message's content: it
                    // takes the content's updatedAt.
                    let (at, src) = at_src.split_once('\u{1f}').unwrap_or(("", at_src.as_str()));
                    let (mid, n) = id.rsplit_once(":img").unwrap_or((id.as_str(), "0"));
                    // The link as a browser reads it: `&amp;` in HTML is `&`.
                    let url = src.replace("&amp;", "&");
                    RawRecord {
                        id: id.clone(),
                        created_at: None,
                        updated_at: at.parse().ok(),
                        origin: "download",
                        sha256: None,
                        size_bytes: None,
                        json: json!({"id": id, "message_id": mid, "position": n.parse::<i64>().unwrap_or(0),
                                     "src": src, "links": {"related": url}})
                        .to_string(),
                    }
                })
                .collect();
            if !self.ctx.cfg.download_attachments {
                self.buf.extend(recs);
                self.commit(Some(String::new()), "running").await?;
                continue;
            }
            let results: Vec<(RawRecord, Result<(String, u64)>)> = futures::stream::iter(recs)
                .map(|rec| {
                    let client = client.clone();
                    let dir = dir.clone();
                    async move {
                        let res = download_one(&client, &dir, &rec, None).await;
                        (rec, res)
                    }
                })
                .buffer_unordered(self.ctx.cfg.fetch_concurrency.max(1))
                .collect()
                .await;
            for (mut rec, res) in results {
                match res {
                    Ok((sha, size)) => {
                        rec.sha256 = Some(sha);
                        rec.size_bytes = Some(size as i64);
                        self.buf.push(rec);
                    }
                    Err(FerryError::Http { status, .. }) if matches!(status, 403 | 404 | 410) => {
                        let src = serde_json::from_str::<serde_json::Value>(&rec.json)
                            .ok()
                            .and_then(|v| v["src"].as_str().map(str::to_string))
                            .unwrap_or_default();
                        self.quarantine.push(QRow {
                            source_id: Some(rec.id.clone()),
                            reason: format!("inline image {src} answered HTTP {status}: the bytes are gone from the source; its message loads without them"),
                            location: src,
                            json: rec.json,
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
            self.pages += 1;
            self.show();
            self.commit(Some(String::new()), "running").await?;
        }
        Ok(())
    }

    /// Downloads the bytes of attachment records (links are presigned and
    /// expire: done right after the records were read). Returns the
    /// records landed with their hash, and the ones quarantined with why.
    /// `owner` maps an attachment id to its message, for a fresh read of
    /// an expired link.
    async fn download_all(
        &self,
        recs: Vec<RawRecord>,
        owner: &HashMap<String, String>,
    ) -> Result<(Vec<RawRecord>, Vec<QRow>)> {
        if !self.ctx.cfg.download_attachments || recs.is_empty() {
            return Ok((recs, Vec::new()));
        }
        let dir = self.ctx.ws.join("attachments");
        let client = self.ctx.client.clone();
        let results: Vec<(RawRecord, Result<(String, u64)>)> = futures::stream::iter(recs)
            .map(|rec| {
                let client = client.clone();
                let dir = dir.clone();
                let mid = owner.get(&rec.id).cloned();
                async move {
                    let res = download_one(&client, &dir, &rec, mid.as_deref()).await;
                    (rec, res)
                }
            })
            .buffer_unordered(self.ctx.cfg.fetch_concurrency.max(1))
            .collect()
            .await;
        let mut landed = Vec::new();
        let mut failed = Vec::new();
        for (mut rec, res) in results {
            match res {
                Ok((sha, size)) => {
                    rec.sha256 = Some(sha);
                    rec.size_bytes = Some(size as i64);
                    landed.push(rec);
                }
                Err(FerryError::Http { status, .. }) if status == 404 || status == 410 || status == 403 => {
                    failed.push(QRow {
                        source_id: Some(rec.id.clone()),
                        reason: format!("attachment download returned HTTP {status} (also after reading the record again for a fresh link)"),
                        location: "download".into(),
                        json: rec.json,
                    })
                }
                Err(FerryError::Other(m)) if m == NO_LINK => failed.push(QRow {
                    source_id: Some(rec.id.clone()),
                    reason: m,
                    location: "download".into(),
                    json: rec.json,
                }),
                Err(e) => return Err(e),
            }
        }
        Ok((landed, failed))
    }
}

/// Downloads one attachment's bytes into the content-addressed store. An
/// expired presigned link (storage answers 403) is refreshed once by
/// reading the record again through the message it belongs to.
async fn download_one(
    client: &ApiClient,
    dir: &std::path::Path,
    rec: &RawRecord,
    mid: Option<&str>,
) -> Result<(String, u64)> {
    // The temp name is derived from the id only after it is reduced to
    // hex, so a hostile id cannot steer the path.
    let safe: String = rec
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    let tmp = dir.join(format!(
        ".dl-{safe}-{}{}",
        std::process::id(),
        crate::fsutil::TMP_SUFFIX
    ));
    std::fs::create_dir_all(dir)
        .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
    let Some(link) = related_link(&rec.json) else {
        return Err(FerryError::Other(NO_LINK.into()));
    };
    let mut res = client.download(&link, &tmp).await;
    if matches!(res, Err(FerryError::Http { status: 403, .. }))
        && !client.is_api_host(&client.url(&link))
    {
        let mid = mid
            .map(str::to_string)
            .or_else(|| message_of_attachment(&rec.json));
        if let Some(mid) = mid {
            let fresh = client
                .get_json(&format!("/v1/messages/{mid}/attachments/{}", rec.id))
                .await
                .ok()
                .and_then(|v| related_link(&v["data"].to_string()));
            if let Some(fresh) = fresh {
                res = client.download(&fresh, &tmp).await;
            }
        }
    }
    match res {
        Ok((sha, size)) => {
            let dest = land::attachment_path(dir.parent().unwrap(), &sha);
            if dest.exists() {
                let _ = std::fs::remove_file(&tmp);
                Ok((sha, size))
            } else {
                crate::fsutil::commit_tmp(&tmp, &dest).map(|_| (sha, size))
            }
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The message an attachment record names, if it does.
fn message_of_attachment(json: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| {
            v["relationships"]["message"]["data"]["id"]
                .as_str()
                .map(str::to_string)
        })
}

/// The `page` number of a list link (1 when it has none).
fn page_of(link: &str) -> u64 {
    link.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The same list link at page `p`.
fn with_page(link: &str, p: u64) -> String {
    let (path, query) = link.split_once('?').unwrap_or((link, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .map(str::to_string)
        .collect();
    parts.insert(0, format!("page={p}"));
    format!("{path}?{}", parts.join("&"))
}

/// Attachment id → message id, from a page of message records.
fn attachment_owners(messages: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for json in messages {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        let Some(mid) = v["id"].as_str() else {
            continue;
        };
        if let Some(atts) = v["relationships"]["attachments"]["data"].as_array() {
            for a in atts {
                if let Some(aid) = a["id"].as_str() {
                    out.insert(aid.to_string(), mid.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_links_are_paged_by_number_keeping_their_query() {
        let first = "/v1/messages?page=1&pageSize=100&include=attachments";
        assert_eq!(page_of(first), 1);
        assert_eq!(
            with_page(first, 7),
            "/v1/messages?page=7&pageSize=100&include=attachments"
        );
        assert_eq!(
            page_of("/v1/klasses?pageSize=100&page=12&status=disabled"),
            12
        );
        assert_eq!(page_of("/v1/users"), 1);
        assert_eq!(with_page("/v1/users", 2), "/v1/users?page=2");
    }

    #[test]
    fn attachment_owners_map_each_file_to_its_message() {
        let page = vec![
            r#"{"id":"m1","relationships":{"attachments":{"data":[{"id":"a1"},{"id":"a2"}]}}}"#
                .to_string(),
            r#"{"id":"m2"}"#.to_string(),
        ];
        let owners = attachment_owners(&page);
        assert_eq!(owners.len(), 2);
        assert_eq!(owners["a2"], "m1");
    }
}
