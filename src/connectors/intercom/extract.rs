//! `ferry extract` for Intercom (`intercom-openapi-2.14.yaml`, with
//! `intercom-api.md` where the spec is silent). Three pagination styles:
//! whole lists (admins, teams, tags, segments, data attributes, ticket
//! types), page numbers (Help Center), the companies scroll (one per app,
//! restarted from scratch after its documented 500 — landed duplicates
//! fold in the raw views), and search with the pagination in the body
//! (contacts, conversations, tickets: `updated_at` ascending from the
//! high-water mark, so a delta pass reads only what changed). Each
//! conversation is read once more for its parts; its attachments are
//! downloaded at once (the links are signed and expire: an expired one is
//! re-read from the conversation). Every page is landed as a Parquet part
//! and its cursor committed only after the part is durable, so a killed
//! run resumes where it stopped.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use duckdb::{params, Connection, OptionalExt};
use futures::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::settings::Settings;
use crate::error::{FerryError, Result};
use crate::extract::{ExtractOptions, StreamSummary};
use crate::http::{ApiClient, Lane};
use crate::land::{self, RawRecord};
use crate::views;

/// Source name in paths and meta tables.
pub const SOURCE: &str = "intercom";

/// Every object landed, in report order (dependencies first).
pub const OBJECTS: &[&str] = &[
    "admins",
    "teams",
    "tags",
    "segments",
    "data_attributes",
    "ticket_types",
    "collections",
    "articles",
    "article_images",
    "companies",
    "contacts",
    "contact_notes",
    "segment_members",
    "conversations",
    "attachments",
    "tickets",
    "event_summaries",
];

/// A delta pass starts this long before the high-water mark. Intercom
/// matches date fields of a contact search by calendar day in the
/// workspace's timezone ("Searching for Timestamp Fields", spec 2.14:
/// `>` starts at the next day, `>=` is refused), and says nothing of
/// conversations and tickets: two days back from the newest record
/// landed covers a day boundary anywhere on Earth. What is read again
/// folds in the raw views.
const OVERLAP_SECS: i64 = 2 * 86_400;
/// Scroll restarts after Intercom's "restart the scroll operation" 500.
const SCROLL_RESTARTS: u32 = 5;

struct Ctx {
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    settings: Settings,
    since: Option<i64>,
    full: bool,
    /// Conversations read (with their files) at once: `[extract]
    /// fetch_concurrency`.
    fetch: usize,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FerryError::Other(format!("background task failed: {e}")))?
}

/// Epoch seconds (Intercom's times) as milliseconds.
fn ms(v: &Value) -> Option<i64> {
    v.as_i64().map(|s| s * 1000)
}

/// A record's id as text (Intercom ids are strings, data attributes'
/// integers).
fn id_of(v: &Value) -> Option<String> {
    match &v["id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Where a search stream stands: the keyset (`updated_at >= gte`) and the
/// cursor of the search under way.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SearchCursor {
    gte: i64,
    starting_after: Option<String>,
}

/// The landing of one object: buffered records, parts, the state row.
struct Lander {
    ctx: Arc<Ctx>,
    object: &'static str,
    seq: u64,
    buf: Vec<RawRecord>,
    landed: u64,
    pages: u64,
    started: Instant,
}

impl Lander {
    fn new(ctx: &Arc<Ctx>, object: &'static str) -> Lander {
        crate::live::phase_open(object, 0);
        tracing::info!(object, "stream starts");
        Lander {
            ctx: ctx.clone(),
            object,
            seq: 0,
            buf: Vec::new(),
            landed: 0,
            pages: 0,
            started: Instant::now(),
        }
    }

    /// The stored state: (cursor of an unfinished pass, high-water mark in
    /// epoch seconds).
    async fn state(&self) -> Result<(Option<String>, Option<i64>)> {
        let ctx = self.ctx.clone();
        let object = self.object;
        // A resumed pass counts on from what earlier runs landed of it.
        let prior = blocking(move || {
            crate::extract::landed_in_unfinished_pass(&ctx.db.lock().unwrap(), SOURCE, object)
        })
        .await?;
        crate::live::phase_open(object, prior);
        let ctx = self.ctx.clone();
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            let row: Option<(Option<String>, String, Option<i64>)> = db
                .query_row(
                    "SELECT cursor, status, epoch_ms(high_water) // 1000 FROM ferry_extract_state WHERE source = ? AND object = ?",
                    params![SOURCE, object],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            Ok(match row {
                Some((cursor, status, hw)) => ((status == "running").then_some(cursor).flatten(), hw),
                None => (None, None),
            })
        })
        .await
    }

    fn push(&mut self, v: &Value, origin: &'static str) {
        let Some(id) = id_of(v) else {
            tracing::warn!(
                object = self.object,
                "a record without an id was skipped: {v}"
            );
            return;
        };
        self.buf.push(RawRecord {
            id,
            created_at: ms(&v["created_at"]),
            updated_at: ms(&v["updated_at"]),
            origin,
            sha256: None,
            size_bytes: None,
            json: v.to_string(),
        });
    }

    /// Lands the buffer as a part and commits the cursor with it.
    async fn commit(&mut self, cursor: Option<String>, status: &'static str) -> Result<()> {
        let buf = std::mem::take(&mut self.buf);
        self.pages += 1;
        let seq = self.seq;
        if !buf.is_empty() {
            self.seq += 1;
        }
        let ctx = self.ctx.clone();
        let object = self.object;
        let n = buf.len() as i64;
        blocking(move || {
            let part = if buf.is_empty() {
                None
            } else {
                let dir = ctx.ws.join("raw").join(SOURCE).join(object);
                Some(land::write_part(&ctx.ws, &dir, &ctx.run_id, seq, &buf)?)
            };
            let mut db = ctx.db.lock().unwrap();
            let tx = db.transaction()?;
            if let Some(p) = &part {
                tx.execute(
                    "INSERT INTO ferry_raw_parts VALUES (?, ?, ?, ?, ?, ?, now())",
                    params![SOURCE, object, p.rel_path, ctx.run_id, p.records as i64, p.bytes as i64],
                )?;
            }
            tx.execute(
                "INSERT INTO ferry_extract_state (source, object, phase, cursor, pass_started, pages, records, status, run_id, updated_at)
                 VALUES (?, ?, 'list', ?, now(), 1, ?, ?, ?, now())
                 ON CONFLICT (source, object) DO UPDATE SET cursor = excluded.cursor,
                   pass_started = CASE WHEN ferry_extract_state.status = 'complete' THEN now() ELSE ferry_extract_state.pass_started END,
                   pages = ferry_extract_state.pages + 1, records = ferry_extract_state.records + excluded.records,
                   status = excluded.status, run_id = excluded.run_id, updated_at = now()",
                params![SOURCE, object, cursor, n, status, ctx.run_id],
            )?;
            crate::chaos::crash_point("extract.commit");
            tx.commit()?;
            Ok(())
        })
        .await?;
        self.landed += n as u64;
        if n > 0 {
            tracing::debug!(object, records = n, "part landed");
        }
        crate::live::add(object, n as u64, 0, 0);
        // A stop asked for ends the stream at the cursor just recorded.
        if status == "running" && crate::stop::requested() {
            return Err(FerryError::Stopped);
        }
        Ok(())
    }

    /// Marks the pass complete and moves the high-water mark to the
    /// newest `updated_at` landed.
    async fn finish(&mut self) -> Result<StreamSummary> {
        self.commit(None, "complete").await?;
        let ctx = self.ctx.clone();
        let object = self.object;
        blocking(move || {
            let db = ctx.db.lock().unwrap();
            db.execute_batch(&views::raw_view_sql(&ctx.ws, SOURCE, object))?;
            db.execute(
                &format!("UPDATE ferry_extract_state SET high_water = (SELECT max(updated_at) FROM raw_{SOURCE}_{object}) WHERE source = ? AND object = ?"),
                params![SOURCE, object],
            )?;
            Ok(())
        })
        .await?;
        Ok(StreamSummary {
            object: self.object.into(),
            pass: if self.ctx.full {
                "full".into()
            } else {
                "incremental".into()
            },
            landed: self.landed,
            pages: self.pages,
            seconds: self.started.elapsed().as_secs_f64(),
            ..Default::default()
        })
        .inspect(|s| {
            crate::live::phase_done(self.object);
            tracing::info!(
                object = self.object,
                landed = s.landed,
                pages = s.pages,
                "stream complete"
            );
        })
    }
}

/// Runs the extraction; returns one summary per object.
pub async fn run(
    ws: PathBuf,
    run_id: String,
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    settings: Settings,
    opts: ExtractOptions,
    fetch: usize,
) -> Result<Vec<StreamSummary>> {
    crate::fsutil::sweep_tmp(&ws.join("raw"));
    crate::fsutil::sweep_tmp(&ws.join("attachments"));
    crate::extract::check_only(&opts.only, OBJECTS)?;
    let wanted = |o: &str| opts.only.as_ref().is_none_or(|l| l.iter().any(|x| x == o));
    let ctx = Arc::new(Ctx {
        ws,
        run_id,
        client,
        db,
        settings,
        since: opts.since.map(|ms| ms / 1000),
        full: opts.full,
        fetch: fetch.max(1),
    });
    let mut out = Vec::new();
    for (object, path, key) in [
        ("admins", "/admins", "admins"),
        ("teams", "/teams", "teams"),
        ("tags", "/tags", "data"),
        ("segments", "/segments?include_count=true", "segments"),
        ("ticket_types", "/ticket_types", "data"),
    ] {
        if wanted(object) {
            out.push(whole_list(&ctx, object, &[path], key).await?);
        }
    }
    if wanted("data_attributes") {
        out.push(
            whole_list(
                &ctx,
                "data_attributes",
                &[
                    "/data_attributes?model=contact&include_archived=true",
                    "/data_attributes?model=company&include_archived=true",
                ],
                "data",
            )
            .await?,
        );
    }
    if wanted("collections") {
        out.push(numbered(&ctx, "collections", "/help_center/collections", None).await?);
    }
    if wanted("articles") || wanted("article_images") {
        let mut images = Lander::new(&ctx, "article_images");
        out.push(numbered(&ctx, "articles", "/articles", Some(&mut images)).await?);
        out.push(images.finish().await?);
    }
    if wanted("companies") {
        out.push(companies(&ctx).await?);
    }
    if wanted("contacts") || wanted("contact_notes") || wanted("event_summaries") {
        let (contacts, notes, events) = contacts(&ctx, wanted("event_summaries")).await?;
        out.extend([contacts, notes]);
        out.extend(events);
    }
    if wanted("segment_members") {
        out.push(segment_members(&ctx).await?);
    }
    if wanted("conversations") || wanted("attachments") {
        let (conv, att) = conversations(&ctx).await?;
        out.extend([conv, att]);
    }
    if wanted("tickets") {
        let mut l = Lander::new(&ctx, "tickets");
        let mut s = Search::open(&ctx, &l, "/tickets/search", "tickets").await?;
        while let Some(items) = s.next(&ctx).await? {
            for t in &items {
                l.push(t, "search");
            }
            l.commit(s.cursor(), "running").await?;
        }
        out.push(l.finish().await?);
    }
    Ok(out)
}

/// Lists Intercom returns whole, in one answer per path.
async fn whole_list(
    ctx: &Arc<Ctx>,
    object: &'static str,
    paths: &[&str],
    key: &str,
) -> Result<StreamSummary> {
    let mut l = Lander::new(ctx, object);
    for p in paths {
        let v = ctx.client.get_json(p).await?;
        let items = v[key].as_array().ok_or_else(|| {
            FerryError::Other(format!(
                "Intercom answered {p} without a `{key}` list: {}",
                snippet(&v)
            ))
        })?;
        for it in items {
            l.push(it, "list");
        }
    }
    l.finish().await
}

/// Page-number lists (Help Center collections, articles). With `images`,
/// the inline images of each record's bodies (every language's) are
/// downloaded as the page is read, while their signed links hold.
async fn numbered(
    ctx: &Arc<Ctx>,
    object: &'static str,
    path: &str,
    mut images: Option<&mut Lander>,
) -> Result<StreamSummary> {
    let mut l = Lander::new(ctx, object);
    let mut page = 1u64;
    loop {
        let v = ctx
            .client
            .get_json(&format!(
                "{path}?page={page}&per_page={}",
                ctx.settings.per_page
            ))
            .await?;
        for it in v["data"].as_array().into_iter().flatten() {
            l.push(it, "list");
            if let Some(images) = images.as_deref_mut() {
                images.buf.extend(article_images(ctx, it).await?);
            }
        }
        if let Some(images) = images.as_deref_mut() {
            images.commit(None, "running").await?;
        }
        let total = v["pages"]["total_pages"].as_u64().unwrap_or(1);
        if page >= total || v["data"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        page += 1;
    }
    l.finish().await
}

fn snippet(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

/// The companies scroll: one per app; a 500 telling to restart, or a
/// scroll_param that expired, starts it over (what was landed stays: the
/// raw view keeps one copy per id). A scroll left open by a killed run
/// is waited out (it expires after a minute unused).
async fn companies(ctx: &Arc<Ctx>) -> Result<StreamSummary> {
    let mut l = Lander::new(ctx, "companies");
    let mut restarts = 0;
    let mut param: Option<String> = None;
    loop {
        let path = match &param {
            Some(p) => format!("/companies/scroll?scroll_param={p}"),
            None => "/companies/scroll".to_string(),
        };
        match ctx.client.send_once(Method::GET, &path).await {
            Ok(r) => {
                let v: Value = serde_json::from_slice(&r.body).map_err(|e| {
                    FerryError::Other(format!(
                        "the companies scroll answered a body that is not JSON: {e}"
                    ))
                })?;
                let data = v["data"].as_array().cloned().unwrap_or_default();
                if data.is_empty() {
                    break;
                }
                for c in &data {
                    l.push(c, "scroll");
                }
                // A scroll cannot be resumed by another process: the
                // committed cursor only says a pass is under way.
                l.commit(Some("scroll".into()), "running").await?;
                param = v["scroll_param"].as_str().map(str::to_string);
                if param.is_none() {
                    break;
                }
            }
            Err(e) => {
                // A 5xx ("restart the scroll operation"), a scroll_param
                // gone (404), or a scroll still open from a killed run
                // (400: one per app; it expires after a minute unused).
                let (restart, wait) = match &e {
                    FerryError::BadPage { cause, .. } if cause.starts_with("HTTP 5") => {
                        (true, 2 * (restarts as u64 + 1))
                    }
                    FerryError::Http { status: 404, .. } => (true, 1),
                    FerryError::Http {
                        status: 400, body, ..
                    } if body.contains("scroll") => (true, 61),
                    _ => (false, 0),
                };
                if !restart || restarts >= SCROLL_RESTARTS {
                    return Err(e);
                }
                restarts += 1;
                tracing::warn!(
                    restarts,
                    "the companies scroll must start over ({e}); waiting {wait} s"
                );
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                param = None;
            }
        }
    }
    l.finish().await
}

/// A search stream: `updated_at > gte − OVERLAP_SECS` ascending,
/// `per_page` a page, the pagination in the body; `gte` is the high-water
/// mark (0 on a full pass), `--since`, or where a killed pass stopped.
struct Search {
    path: &'static str,
    key: &'static str,
    c: SearchCursor,
    done: bool,
}

impl Search {
    async fn open(ctx: &Ctx, l: &Lander, path: &'static str, key: &'static str) -> Result<Search> {
        let (cursor, hw) = l.state().await?;
        let resumed = cursor.and_then(|c| serde_json::from_str::<SearchCursor>(&c).ok());
        let c = match (resumed, ctx.full) {
            (Some(c), false) => c,
            _ => SearchCursor {
                gte: ctx
                    .since
                    .or(if ctx.full {
                        None
                    } else {
                        hw.map(|h| h - OVERLAP_SECS)
                    })
                    .unwrap_or(0),
                starting_after: None,
            },
        };
        Ok(Search {
            path,
            key,
            c,
            done: false,
        })
    }

    /// The cursor to commit once the page just returned is landed.
    fn cursor(&self) -> Option<String> {
        (!self.done).then(|| serde_json::to_string(&self.c).unwrap())
    }

    /// The next page's records, `None` once the search is through.
    async fn next(&mut self, ctx: &Ctx) -> Result<Option<Vec<Value>>> {
        if self.done {
            return Ok(None);
        }
        loop {
            let mut body = json!({
                "query": {"field": "updated_at", "operator": ">", "value": (self.c.gte - OVERLAP_SECS).max(0)},
                "pagination": {"per_page": ctx.settings.per_page},
                "sort": {"field": "updated_at", "order": "ascending"},
            });
            if let Some(s) = &self.c.starting_after {
                body["pagination"]["starting_after"] = json!(s);
            }
            let v = match ctx
                .client
                .fetch_parsed(Method::POST, self.path, Some(&body), Lane::Standard, |b| {
                    serde_json::from_slice::<Value>(b).map_err(|e| format!("not JSON: {e}"))
                })
                .await
            {
                Ok(v) => v,
                // A cursor of a search long gone: the keyset carries on
                // from the newest updated_at landed.
                Err(FerryError::Http { status: 400, .. }) if self.c.starting_after.is_some() => {
                    self.c.starting_after = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let items = v[self.key].as_array().cloned().unwrap_or_default();
            match v["pages"]["next"]["starting_after"].as_str() {
                Some(n) => self.c.starting_after = Some(n.to_string()),
                None => self.done = true,
            }
            if let Some(t) = items.iter().filter_map(|i| i["updated_at"].as_i64()).max() {
                // Keyset for a resume whose cursor the API no longer takes.
                if self.c.starting_after.is_none() {
                    self.c.gte = self.c.gte.max(t);
                }
            }
            return Ok(Some(items));
        }
    }
}

/// Contacts by search, each one's notes (when it has any) and, with
/// `events = "summaries"`, each contact's data-event summary.
async fn contacts(
    ctx: &Arc<Ctx>,
    events: bool,
) -> Result<(StreamSummary, StreamSummary, Option<StreamSummary>)> {
    let mut l = Lander::new(ctx, "contacts");
    let mut notes = Lander::new(ctx, "contact_notes");
    let mut ev = Lander::new(ctx, "event_summaries");
    let events = events && ctx.settings.events == "summaries";
    let mut s = Search::open(ctx, &l, "/contacts/search", "data").await?;
    while let Some(items) = s.next(ctx).await? {
        // Several contacts' notes and summaries at once, landed in order.
        // (Owned values and context: the stream's futures must be Send
        // for any lifetime.)
        let mut read = futures::stream::iter(items.clone().into_iter().map(|c| {
            let ctx = ctx.clone();
            async move { contact_children(&ctx, &c, events).await }
        }))
        .buffered(ctx.fetch);
        while let Some(got) = read.next().await {
            let (c_notes, summary) = got?;
            for n in &c_notes {
                notes.push(n, "parent");
            }
            if let Some(v) = summary {
                ev.push(&v, "parent");
            }
        }
        drop(read);
        for c in &items {
            l.push(c, "search");
        }
        // Children first: a crash between the two re-reads the page.
        notes.commit(Some("parents".into()), "running").await?;
        if events {
            ev.commit(Some("parents".into()), "running").await?;
        }
        l.commit(s.cursor(), "running").await?;
    }
    let a = l.finish().await?;
    let b = notes.finish().await?;
    let c = if events {
        Some(ev.finish().await?)
    } else {
        None
    };
    Ok((a, b, c))
}

/// A contact's notes (when it has any) and, with `events`, its (user's or
/// lead's) data-event summary (its id the contact's, its updated_at the contact's).
async fn contact_children(
    ctx: &Arc<Ctx>,
    c: &Value,
    events: bool,
) -> Result<(Vec<Value>, Option<Value>)> {
    let id = id_of(c).unwrap_or_default();
    let mut notes = Vec::new();
    if c["notes"]["total_count"].as_u64().unwrap_or(0) > 0 {
        let mut page = 1;
        loop {
            let v = ctx
                .client
                .get_json(&format!("/contacts/{id}/notes?page={page}&per_page=50"))
                .await?;
            notes.extend(v["data"].as_array().into_iter().flatten().cloned());
            if page >= v["pages"]["total_pages"].as_u64().unwrap_or(1) {
                break;
            }
            page += 1;
        }
    }
    let mut summary = None;
    // Leads too: the spec's `GET /events` says `intercom_user_id` "can be
    // used to list leads" (`type` stays `user` for both).
    if events {
        let mut v = ctx
            .client
            .get_json(&format!(
                "/events?type=user&intercom_user_id={id}&summary=true"
            ))
            .await?;
        v["id"] = json!(id);
        v["updated_at"] = c["updated_at"].clone();
        summary = Some(v);
    }
    Ok((notes, summary))
}

/// Segment membership, the segments' data (their rules are filters to
/// rebuild by hand): per segment, a contact search on `segment_id`
/// (spec 2.14, "Search contacts": `segment_id` is an accepted field).
/// Landed whole each pass, as `<segment>:<contact>` records.
async fn segment_members(ctx: &Arc<Ctx>) -> Result<StreamSummary> {
    let mut l = Lander::new(ctx, "segment_members");
    let segments = ctx.client.get_json("/segments").await?;
    for seg in segments["segments"].as_array().into_iter().flatten() {
        let Some(sid) = id_of(seg) else { continue };
        let mut after: Option<String> = None;
        loop {
            let mut body = json!({
                "query": {"field": "segment_id", "operator": "=", "value": sid},
                "pagination": {"per_page": ctx.settings.per_page},
            });
            if let Some(a) = &after {
                body["pagination"]["starting_after"] = json!(a);
            }
            let v = ctx
                .client
                .fetch_parsed(
                    Method::POST,
                    "/contacts/search",
                    Some(&body),
                    Lane::Standard,
                    |b| serde_json::from_slice::<Value>(b).map_err(|e| format!("not JSON: {e}")),
                )
                .await?;
            for c in v["data"].as_array().into_iter().flatten() {
                let cid = id_of(c).unwrap_or_default();
                l.push(
                    &json!({"id": format!("{sid}:{cid}"), "segment_id": sid, "contact_id": cid,
                            "segment_name": seg["name"], "updated_at": c["updated_at"]}),
                    "search",
                );
            }
            match v["pages"]["next"]["starting_after"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
    }
    l.finish().await
}

/// Conversations by search, each read once more for its parts (the
/// newest 500; `conversation_parts.total_count` says how many there are),
/// its attachments downloaded at once.
async fn conversations(ctx: &Arc<Ctx>) -> Result<(StreamSummary, StreamSummary)> {
    let mut l = Lander::new(ctx, "conversations");
    let mut att = Lander::new(ctx, "attachments");
    let mut s = Search::open(ctx, &l, "/conversations/search", "conversations").await?;
    while let Some(items) = s.next(ctx).await? {
        // Several conversations (and their files) at once, landed in the
        // page's order.
        let ids: Vec<String> = items.iter().map(|i| id_of(i).unwrap_or_default()).collect();
        let mut read = futures::stream::iter(ids.into_iter().map(|id| {
            let ctx = ctx.clone();
            async move {
                let full = ctx.client.get_json(&format!("/conversations/{id}")).await?;
                let files = download_attachments(&ctx, &id, &full).await?;
                Ok::<_, FerryError>((full, files))
            }
        }))
        .buffered(ctx.fetch);
        while let Some(got) = read.next().await {
            let (full, files) = got?;
            att.buf.extend(files);
            l.push(&full, "search");
        }
        att.commit(Some("parents".into()), "running").await?;
        l.commit(s.cursor(), "running").await?;
    }
    Ok((l.finish().await?, att.finish().await?))
}

/// Every attachment of a conversation (its first message's and its
/// parts'), downloaded now: the links are signed and expire. One that
/// has expired (403) is fetched again through a fresh read of the
/// conversation. Landed as `attachments` records: id
/// `<conversation>:<part or source>:<n>`, the file by SHA-256.
async fn download_attachments(
    ctx: &Arc<Ctx>,
    conversation: &str,
    full: &Value,
) -> Result<Vec<RawRecord>> {
    let mut out = Vec::new();
    let mut list: Vec<(String, Value)> = Vec::new();
    for (i, a) in full["source"]["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        list.push((format!("{conversation}:source:{i}"), a.clone()));
    }
    for p in full["conversation_parts"]["conversation_parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let pid = id_of(p).unwrap_or_default();
        for (i, a) in p["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            list.push((format!("{conversation}:{pid}:{i}"), a.clone()));
        }
    }
    // Inline images of HTML bodies are the same signed, expiring links.
    let bodies = std::iter::once(("source".to_string(), &full["source"]["body"])).chain(
        full["conversation_parts"]["conversation_parts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (id_of(p).unwrap_or_default(), &p["body"])),
    );
    for (pid, body) in bodies {
        for (i, src) in inline_images(body.as_str().unwrap_or(""))
            .into_iter()
            .enumerate()
        {
            list.push((
                format!("{conversation}:{pid}:img{i}"),
                json!({"type": "inline_image", "url": src, "src": src}),
            ));
        }
    }
    let tmp_dir = ctx.ws.join("attachments");
    std::fs::create_dir_all(&tmp_dir)
        .map_err(|e| FerryError::io(format!("creating {}", tmp_dir.display()), e))?;
    for (id, a) in list {
        let Some(url) = a["url"].as_str() else {
            continue;
        };
        let tmp = tmp_dir.join(format!(".tmp-{}-{}", ctx.run_id, id.replace(':', "_")));
        let got = match ctx.client.download(url, &tmp).await {
            Err(FerryError::Http { status: 403, .. })
            | Err(FerryError::Unauthorized { status: 403, .. }) => {
                // Expired: a fresh read gives a fresh link.
                let again = ctx
                    .client
                    .get_json(&format!("/conversations/{conversation}"))
                    .await?;
                let fresh = find_attachment(&again, &id).unwrap_or_default();
                ctx.client.download(&fresh, &tmp).await
            }
            other => other,
        };
        let (sha, size) = got?;
        into_place(&ctx.ws, &tmp, &sha)?;
        let mut rec = a.clone();
        rec["id"] = json!(id);
        rec["conversation_id"] = json!(conversation);
        // The link expires; an inline image keeps `src`, the text to
        // replace in its body.
        rec["url"] = Value::Null;
        out.push(RawRecord {
            id,
            created_at: ms(&full["created_at"]),
            updated_at: ms(&full["updated_at"]),
            origin: "download",
            sha256: Some(sha),
            size_bytes: Some(size as i64),
            json: rec.to_string(),
        });
    }
    Ok(out)
}

/// The inline images of an article's bodies (its own, in its default
/// locale, and each translation's), downloaded now: landed as
/// `article_images` records, id `<article>:<locale>:img<n>`, keeping the
/// `src` the body names so the load can put the image itself there.
async fn article_images(ctx: &Arc<Ctx>, article: &Value) -> Result<Vec<RawRecord>> {
    let Some(aid) = id_of(article) else {
        return Ok(Vec::new());
    };
    let default = article["default_locale"]
        .as_str()
        .unwrap_or("en")
        .to_string();
    let mut bodies = vec![(default.clone(), article["body"].as_str().unwrap_or(""))];
    for (locale, t) in article["translated_content"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if locale != "type" && *locale != default {
            bodies.push((locale.clone(), t["body"].as_str().unwrap_or("")));
        }
    }
    let dir = ctx.ws.join("attachments");
    std::fs::create_dir_all(&dir)
        .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
    let mut out = Vec::new();
    for (locale, body) in bodies {
        for (i, src) in inline_images(body).into_iter().enumerate() {
            let id = format!("{aid}:{locale}:img{i}");
            let tmp = dir.join(format!(".tmp-{}-{}", ctx.run_id, id.replace(':', "_")));
            let (sha, size) = ctx.client.download(&src, &tmp).await?;
            into_place(&ctx.ws, &tmp, &sha)?;
            out.push(RawRecord {
                id,
                created_at: ms(&article["created_at"]),
                updated_at: ms(&article["updated_at"]),
                origin: "download",
                sha256: Some(sha),
                size_bytes: Some(size as i64),
                json:
                    json!({"type": "inline_image", "article_id": aid, "locale": locale, "src": src})
                        .to_string(),
            });
        }
    }
    Ok(out)
}

/// Moves a downloaded file to its content-addressed place in
/// `attachments/` (by its SHA-256).
fn into_place(ws: &std::path::Path, tmp: &std::path::Path, sha: &str) -> Result<()> {
    let dest = land::attachment_path(ws, sha);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| FerryError::io(format!("creating {}", parent.display()), e))?;
    }
    std::fs::rename(tmp, &dest)
        .map_err(|e| FerryError::io(format!("moving {} into place", dest.display()), e))
}

/// The `src` of every `<img>` in an HTML body, as written there.
fn inline_images(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<img") {
        rest = &rest[at + 4..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        if let Some(s) = tag.find("src=\"") {
            let v = &tag[s + 5..];
            if let Some(e) = v.find('"') {
                out.push(v[..e].replace("&amp;", "&"));
            }
        }
        rest = &rest[tag_end..];
    }
    out
}

/// The link of attachment `id` (`<conversation>:<part>:<n>`, or
/// `…:img<n>` for an inline image) in a fresh read of its conversation.
fn find_attachment(full: &Value, id: &str) -> Option<String> {
    let mut it = id.rsplitn(3, ':');
    let last = it.next()?;
    let part = it.next()?;
    if let Some(n) = last.strip_prefix("img") {
        let n: usize = n.parse().ok()?;
        let body = if part == "source" {
            full["source"]["body"].as_str()?
        } else {
            full["conversation_parts"]["conversation_parts"]
                .as_array()?
                .iter()
                .find(|p| id_of(p).as_deref() == Some(part))?["body"]
                .as_str()?
        };
        return inline_images(body).into_iter().nth(n);
    }
    let n: usize = last.parse().ok()?;
    let list = if part == "source" {
        full["source"]["attachments"].as_array()?
    } else {
        full["conversation_parts"]["conversation_parts"]
            .as_array()?
            .iter()
            .find(|p| id_of(p).as_deref() == Some(part))?["attachments"]
            .as_array()?
    };
    list.get(n)?["url"].as_str().map(str::to_string)
}
