//! HTTP routes of the Kustomer simulator.

// Helpers return a ready HTTP error response as their Err: it is what the
// handler sends anyway, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::{Kind, Org, KINDS};
use super::records::{self, id, klass_name, parse_id, record};
use super::{error_response, gatekeeper, Injection, SimState};

/// Per-endpoint page size maximum of plain lists.
const LIST_MAX: u32 = 100;
/// Search page size maximum.
const SEARCH_MAX: u32 = 500;
/// Search returns at most this many pages per query.
const SEARCH_PAGES: u32 = 100;

type St = State<Arc<SimState>>;

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/users/current", get(current_user))
        .route("/v1/customers/search", post(search))
        .route("/v1/customers/archive/search", post(archive_search))
        .route("/v1/audit-logs", get(audit_logs))
        .route(
            "/v1/customers/{cid}/sessions/{sid}/events",
            get(session_events),
        )
        .route("/v1/{object}", get(list))
        .route("/v1/{object}/{id}", get(get_one))
        .route("/v1/{object}/{id}/{child}", get(children))
        .route("/v1/{object}/{id}/{child}/{sub}", get(grandchild))
        .route("/__sim/stats", get(stats))
        .route("/__sim/ids/{object}", get(all_ids))
        .route("/__sim/mutate", post(mutate))
        .route("/__sim/inject", post(inject).delete(clear_injections))
        // Injected records can be large (the bad-input corpus has a 10 MB body).
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gatekeeper,
        ))
        .with_state(state)
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<String>,
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
    /// `attachments` side-loads the attachment records of messages.
    include: Option<String>,
    /// Klasses: enabled (default) | disabled | existing_only.
    status: Option<String>,
}

impl PageQuery {
    fn includes_attachments(&self) -> bool {
        self.include
            .as_deref()
            .is_some_and(|i| i.split(',').any(|x| x.trim() == "attachments"))
    }
}

fn parse_page(q: &PageQuery, max: u32, clamp: bool) -> Result<(u32, u32), Response> {
    let page = match q.page.as_deref() {
        None => 1,
        Some(p) => p.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| {
            error_response(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "page must be a positive integer",
            )
        })?,
    };
    let size = match q.page_size.as_deref() {
        None => 100.min(max),
        Some(s) => s.parse::<u32>().ok().filter(|s| *s >= 1).ok_or_else(|| {
            error_response(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "pageSize must be a positive integer",
            )
        })?,
    };
    if size > max && !clamp {
        return Err(error_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("pageSize must be <= {max}"),
        ));
    }
    Ok((page, size.min(max)))
}

fn envelope(
    path: &str,
    page: u32,
    size: u32,
    data: Vec<Value>,
    has_next: bool,
    total: Option<u32>,
) -> Value {
    let link = |p: u32| format!("{path}?page={p}&pageSize={size}");
    let mut meta = json!({"page": page, "pageSize": size});
    if let Some(t) = total {
        meta["total"] = json!(t);
    }
    json!({
        "meta": meta,
        "links": {
            "self": link(page),
            "first": link(1),
            "prev": if page > 1 { json!(link(page - 1)) } else { Value::Null },
            "next": if has_next { json!(link(page + 1)) } else { Value::Null },
        },
        "data": data,
    })
}

fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "Resource not found")
}

async fn current_user(State(st): St) -> Response {
    let org = st.org.read().unwrap();
    Json(json!({"data": record(&org, Kind::Users, 0)})).into_response()
}

/// Plain org-wide lists, in id order. Records older than two years without
/// an update are archived: only the archive search returns them.
#[derive(Deserialize)]
struct AuditQuery {
    count: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

/// `GET /v1/audit-logs?count=N[&before=ID]` (see `events`): newest first;
/// `before` gives the entries older than that id.
async fn audit_logs(State(st): St, Query(q): Query<AuditQuery>) -> Response {
    if let Some(r) = unavailable(&st, "audit_logs") {
        return r;
    }
    let count = match q.count.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        _ => return bad("`count` must be 1 to 1000"),
    };
    let org = st.org.read().unwrap();
    let all = super::events::audit_logs(&org);
    let older = |e: &Value, than: &str| e["id"].as_str().unwrap_or("") < than;
    let newer = |e: &Value, than: &str| e["id"].as_str().unwrap_or("") > than;
    let range: Vec<&Value> = all
        .iter()
        .filter(|e| q.before.as_deref().is_none_or(|b| older(e, b)))
        .filter(|e| q.after.as_deref().is_none_or(|a| newer(e, a)))
        .collect();
    let page: Vec<Value> = range.iter().take(count).map(|e| (*e).clone()).collect();
    let id_of = |e: Option<&Value>| e.and_then(|e| e["id"].as_str()).unwrap_or("").to_string();
    let link = |extra: String| format!("/v1/audit-logs?count={count}{extra}");
    let next = (range.len() > count).then(|| link(format!("&before={}", id_of(page.last()))));
    let prev = (!page.is_empty() && q.before.is_some())
        .then(|| link(format!("&after={}", id_of(page.first()))));
    Json(json!({
        "meta": {"count": page.len(), "total": all.len(), "cursorCount": range.len()},
        "links": {"self": link(String::new()), "first": link(String::new()), "prev": prev, "next": next},
        "data": page,
    }))
    .into_response()
}

/// `GET /v1/customers/{customerId}/sessions/{sessionId}/events` (see
/// `events`).
async fn session_events(
    State(st): St,
    Path((cid, sid)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    if let Some(r) = unavailable(&st, "customer_events") {
        return r;
    }
    let org = st.org.read().unwrap();
    let Some(c) = parse_id(&org, Kind::Customers, &cid) else {
        return not_found();
    };
    let Some((_, events)) = super::events::sessions(&org, c)
        .into_iter()
        .find(|(s, _)| s["id"] == sid.as_str())
    else {
        return not_found();
    };
    paged_list(
        &q,
        &format!("/v1/customers/{cid}/sessions/{sid}/events"),
        events,
    )
}

/// One page of `all` in the list envelope.
fn paged_list(q: &PageQuery, path: &str, all: Vec<Value>) -> Response {
    let (page, size) = match parse_page(q, LIST_MAX, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let start = ((page - 1) * size) as usize;
    let has_next = all.len() > start + size as usize;
    let total = all.len() as u32;
    let data: Vec<Value> = all.into_iter().skip(start).take(size as usize).collect();
    Json(envelope(path, page, size, data, has_next, Some(total))).into_response()
}

async fn list(State(st): St, Path(object): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let Some(kind) =
        Kind::from_plural(&object).filter(|k| !matches!(k, Kind::Kobjects | Kind::Attachments))
    else {
        return not_found();
    };
    if let Some(r) = unavailable(&st, &object) {
        return r;
    }
    let (page, size) = match parse_page(&q, LIST_MAX, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let org = st.org.read().unwrap();
    // `GET /v1/klasses` filters on `status`, `enabled` by default (spec).
    let klasses: Option<Vec<u32>> = (kind == Kind::Klasses).then(|| {
        let want = q.status.as_deref().unwrap_or("enabled");
        (0..org.count(kind))
            .filter(|&k| records::klass_status(k) == want)
            .collect()
    });
    let total = match &klasses {
        Some(k) => k.len() as u64,
        None => org.live_count(kind) as u64,
    };
    // `--list-cap`: a query returns at most this many records, then ends
    // as if there were no more (a third-party connector documents 10,000).
    let cap = match st.opts.list_cap {
        0 => u64::MAX,
        c => c as u64,
    };
    let start = (page - 1) as u64 * size as u64;
    let end = (start + size as u64).min(total).min(cap);
    let idxs: Vec<u32> = (start..end.max(start))
        .filter_map(|pos| match &klasses {
            Some(k) => Some(k[pos as usize]),
            None => org.live_at(kind, pos as u32),
        })
        .collect();
    let data: Vec<Value> = idxs.iter().map(|&i| record(&org, kind, i)).collect();
    let has_next = end < total.min(cap);
    let mut body = envelope(
        &format!("/v1/{object}"),
        page,
        size,
        data,
        has_next,
        Some(total as u32),
    );
    if kind == Kind::Messages && q.includes_attachments() {
        body["included"] = json!(included_attachments(&st, &org, &idxs));
    }
    Json(body).into_response()
}

/// `--missing` / `--forbidden` streams answer 404 / 403, as an org
/// without the feature or a key without the role does.
fn unavailable(st: &SimState, object: &str) -> Option<Response> {
    if st.opts.missing.iter().any(|m| m == object) {
        return Some(not_found());
    }
    if st.opts.forbidden.iter().any(|m| m == object) {
        return Some(error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The API key lacks a role for this resource",
        ));
    }
    None
}

/// The attachment records of messages `msgs`, signed, for `included[]`.
fn included_attachments(st: &SimState, org: &Org, msgs: &[u32]) -> Vec<Value> {
    msgs.iter()
        .flat_map(|&m| org.message_attachments(m))
        .map(|a| super::storage::sign_record(st, record(org, Kind::Attachments, a)))
        .collect()
}

/// Whether attachment `a` came with an outbound message: the only ones
/// `GET /v1/attachments/{id}` returns ("Get attachments by ID [Outbound Only]").
fn outbound_attachment(org: &Org, a: u32) -> bool {
    !records::message_shape(org, org.attach_msg[a as usize]).1
}

async fn get_one(
    State(st): St,
    Path((object, ids)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(kind) = Kind::from_plural(&object) else {
        return not_found();
    };
    let org = st.org.read().unwrap();
    // `/v1/klasses/{name}` lists the KObjects of that klass.
    if kind == Kind::Klasses && parse_id(&org, kind, &ids).is_none() {
        let Some(k) = (0..org.count(Kind::Klasses)).find(|k| klass_name(*k) == ids) else {
            return not_found();
        };
        let (page, size) = match parse_page(&q, LIST_MAX, true) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let all: Vec<u32> = (0..org.count(Kind::Kobjects))
            .filter(|i| i % org.count(Kind::Klasses) == k)
            .collect();
        let start = ((page - 1) * size) as usize;
        let data = all
            .iter()
            .skip(start)
            .take(size as usize)
            .map(|&i| record(&org, Kind::Kobjects, i))
            .collect();
        let has_next = start + (size as usize) < all.len();
        return Json(envelope(
            &format!("/v1/klasses/{ids}"),
            page,
            size,
            data,
            has_next,
            Some(all.len() as u32),
        ))
        .into_response();
    }
    // `/v1/attachments/{id,id,...}` accepts a list of ids, and returns
    // outbound attachments only.
    if kind == Kind::Attachments && ids.contains(',') {
        let data: Vec<Value> = ids
            .split(',')
            .filter_map(|i| parse_id(&org, kind, i.trim()))
            .filter(|&i| outbound_attachment(&org, i))
            .map(|i| super::storage::sign_record(&st, record(&org, kind, i)))
            .collect();
        return Json(json!({"data": data})).into_response();
    }
    match parse_id(&org, kind, &ids) {
        Some(idx) if kind == Kind::Attachments => {
            if !outbound_attachment(&org, idx) {
                return not_found();
            }
            Json(json!({"data": super::storage::sign_record(&st, record(&org, kind, idx))}))
                .into_response()
        }
        Some(idx) => {
            let mut body = json!({"data": record(&org, kind, idx)});
            if kind == Kind::Messages && q.includes_attachments() {
                body["included"] = json!(included_attachments(&st, &org, &[idx]));
            }
            Json(body).into_response()
        }
        None => not_found(),
    }
}

/// Three-segment paths: a conversation's messages, notes and
/// attachments, and a message's full content at its channel app
/// (`/v1/{app}/messages/{id}`, the message's `links.related`).
async fn children(
    State(st): St,
    Path((object, pid, child)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let org = st.org.read().unwrap();
    if pid == "messages" {
        let Some(m) = parse_id(&org, Kind::Messages, &child) else {
            return not_found();
        };
        let (_, _, channel) = records::message_shape(&org, m);
        if st.opts.no_message_content || records::message_app(channel) != object {
            return not_found();
        }
        let mut v = records::message_content(&org, m);
        if let Some(storage) = st.storage_url.get() {
            super::storage::cdn_links(storage, &mut v);
        }
        return Json(v).into_response();
    }
    if object == "customers" && child == "sessions" {
        if let Some(r) = unavailable(&st, "customer_events") {
            return r;
        }
        let Some(c) = parse_id(&org, Kind::Customers, &pid) else {
            return not_found();
        };
        let all = super::events::sessions(&org, c)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        return paged_list(&q, &format!("/v1/customers/{pid}/sessions"), all);
    }
    if object != "conversations" {
        return not_found();
    }
    let Some(c) = parse_id(&org, Kind::Conversations, &pid) else {
        return not_found();
    };
    let (page, size) = match parse_page(&q, LIST_MAX, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let all: Vec<u32> = match child.as_str() {
        "messages" => org.conv_messages(c),
        "notes" => org.conv_notes_of(c),
        "attachments" => {
            // Attachments of the conversation's messages, inbound and
            // outbound (messages added later carry none).
            let (m0, m1) = (org.conv_msgs[c as usize], org.conv_msgs[c as usize + 1]);
            let lo = org.attach_msg.partition_point(|&x| x < m0) as u32;
            let hi = org.attach_msg.partition_point(|&x| x < m1) as u32;
            (lo..hi).collect()
        }
        _ => return not_found(),
    };
    let total = all.len() as u32;
    let kind = match child.as_str() {
        "messages" => Kind::Messages,
        "notes" => Kind::Notes,
        _ => Kind::Attachments,
    };
    let from = (page - 1) * size;
    let idxs: Vec<u32> = all
        .iter()
        .skip(from as usize)
        .take(size as usize)
        .copied()
        .collect();
    let data = idxs
        .iter()
        .map(|&i| {
            let r = record(&org, kind, i);
            if kind == Kind::Attachments {
                super::storage::sign_record(&st, r)
            } else {
                r
            }
        })
        .collect();
    let has_next = from + size < total;
    let mut body = envelope(
        &format!("/v1/conversations/{pid}/{child}"),
        page,
        size,
        data,
        has_next,
        Some(total),
    );
    if kind == Kind::Messages && q.includes_attachments() {
        body["included"] = json!(included_attachments(&st, &org, &idxs));
    }
    Json(body).into_response()
}

/// `GET /v1/messages/{message_id}/attachments/{id}`: one attachment of a
/// message, inbound or outbound.
async fn grandchild(
    State(st): St,
    Path((object, mid, child, aid)): Path<(String, String, String, String)>,
) -> Response {
    if object != "messages" || child != "attachments" {
        return not_found();
    }
    let org = st.org.read().unwrap();
    match (
        parse_id(&org, Kind::Messages, &mid),
        parse_id(&org, Kind::Attachments, &aid),
    ) {
        (Some(m), Some(a)) if org.attach_msg[a as usize] == m => Json(json!({
            "data": super::storage::sign_record(&st, record(&org, Kind::Attachments, a))
        }))
        .into_response(),
        _ => not_found(),
    }
}

#[derive(Deserialize)]
struct SearchBody {
    #[serde(rename = "queryContext")]
    query_context: String,
    #[serde(default)]
    and: Vec<HashMap<String, HashMap<String, Value>>>,
    #[serde(default)]
    or: Vec<Value>,
    #[serde(default)]
    sort: Vec<HashMap<String, String>>,
}

struct Bounds {
    lo: Option<(i64, bool)>,
    hi: Option<(i64, bool)>,
    created_lo: Option<(i64, bool)>,
    created_hi: Option<(i64, bool)>,
}

fn parse_time(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

async fn search(State(st): St, Query(q): Query<PageQuery>, body: Json<Value>) -> Response {
    run_search(&st, q, body.0, false)
}

async fn archive_search(State(st): St, Query(q): Query<PageQuery>, body: Json<Value>) -> Response {
    run_search(&st, q, body.0, true)
}

fn bad(detail: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, "bad_request", detail)
}

fn run_search(st: &SimState, q: PageQuery, body: Value, archive: bool) -> Response {
    let body: SearchBody = match serde_json::from_value(body) {
        Ok(b) => b,
        Err(e) => return bad(&format!("Invalid request body: {e}")),
    };
    let (page, size) = match parse_page(&q, SEARCH_MAX, false) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if page > SEARCH_PAGES {
        return bad("Search is limited to 100 pages; narrow the query (e.g. by updated_at)");
    }
    let (ctx, klass) = match body.query_context.strip_prefix("kobject_") {
        Some(name) => ("kobject", Some(name.to_string())),
        None => (body.query_context.as_str(), None),
    };
    let Some(kind) = Kind::from_context(ctx).filter(|k| k.archivable()) else {
        return bad(&format!(
            "Unsupported queryContext `{}`",
            body.query_context
        ));
    };
    if archive && kind == Kind::Notes {
        return bad("queryContext `note` is not supported by archive search");
    }
    if !body.or.is_empty() {
        return bad("simulator supports only `and` criteria");
    }
    let mut b = Bounds {
        lo: None,
        hi: None,
        created_lo: None,
        created_hi: None,
    };
    for crit in &body.and {
        for (attr, ops) in crit {
            let field = attr.strip_prefix(&format!("{ctx}_")).unwrap_or("");
            for (op, val) in ops {
                let Some(t) = parse_time(val) else {
                    return bad(&format!("`{attr}` needs a date, got {val}"));
                };
                let slot = match field {
                    "updated_at" => (&mut b.lo, &mut b.hi),
                    "created_at" => (&mut b.created_lo, &mut b.created_hi),
                    _ => return bad(&format!("simulator cannot search on `{attr}`")),
                };
                match op.as_str() {
                    "gte" => *slot.0 = Some((t, true)),
                    "gt" => *slot.0 = Some((t, false)),
                    "lte" => *slot.1 = Some((t, true)),
                    "lt" => *slot.1 = Some((t, false)),
                    _ => return bad(&format!("simulator does not support operator `{op}`")),
                }
            }
        }
    }
    let mut desc = false;
    for s in &body.sort {
        for (attr, dir) in s {
            if attr != &format!("{ctx}_updated_at") {
                return bad(&format!("cannot sort by `{attr}`"));
            }
            desc = dir == "desc";
        }
    }
    let org = st.org.read().unwrap();
    let data = collect_search(&org, kind, klass.as_deref(), &b, archive, desc, page, size);
    let (data, has_next) = match data {
        Ok(v) => v,
        Err(r) => return r,
    };
    let path = if archive {
        "/v1/customers/archive/search"
    } else {
        "/v1/customers/search"
    };
    Json(envelope(
        path,
        page,
        size,
        data,
        has_next && page < SEARCH_PAGES,
        None,
    ))
    .into_response()
}

#[allow(clippy::too_many_arguments)]
fn collect_search(
    org: &Org,
    kind: Kind,
    klass: Option<&str>,
    b: &Bounds,
    archive: bool,
    desc: bool,
    page: u32,
    size: u32,
) -> Result<(Vec<Value>, bool), Response> {
    let klass_idx = match klass {
        Some(name) => match (0..org.count(Kind::Klasses)).find(|k| klass_name(*k) == name) {
            Some(k) => Some(k),
            None => return Err(bad(&format!("Unknown klass `{name}`"))),
        },
        None => None,
    };
    // Standard search sees the last two years, archive search what is older.
    let (dom_lo, dom_hi) = if archive {
        (i64::MIN, org.cutoff)
    } else {
        (org.cutoff, i64::MAX)
    };
    let lo =
        b.lo.map(|(t, incl)| if incl { t } else { t + 1 })
            .unwrap_or(i64::MIN)
            .max(dom_lo);
    let hi =
        b.hi.map(|(t, incl)| if incl { t + 1 } else { t })
            .unwrap_or(i64::MAX)
            .min(dom_hi);
    if lo >= hi {
        return Ok((Vec::new(), false));
    }
    let set = &org.by_updated[&kind];
    let range = set.range((lo, 0)..(hi, 0));
    let keep = |&&(_, idx): &&(i64, u32)| {
        let m = org.meta[&kind][idx as usize];
        if let Some((t, incl)) = b.created_lo {
            if m.created < t || (!incl && m.created == t) {
                return false;
            }
        }
        if let Some((t, incl)) = b.created_hi {
            if m.created > t || (!incl && m.created == t) {
                return false;
            }
        }
        if let Some(k) = klass_idx {
            if idx % org.count(Kind::Klasses) != k {
                return false;
            }
        }
        true
    };
    let skip = ((page - 1) * size) as usize;
    let picked: Vec<u32> = if desc {
        range
            .rev()
            .filter(keep)
            .skip(skip)
            .take(size as usize + 1)
            .map(|&(_, i)| i)
            .collect()
    } else {
        range
            .filter(keep)
            .skip(skip)
            .take(size as usize + 1)
            .map(|&(_, i)| i)
            .collect()
    };
    let has_next = picked.len() > size as usize;
    Ok((
        picked
            .into_iter()
            .take(size as usize)
            .map(|i| record(org, kind, i))
            .collect(),
        has_next,
    ))
}

async fn stats(State(st): St) -> Response {
    let org = st.org.read().unwrap();
    let mut objects = serde_json::Map::new();
    for k in KINDS {
        objects.insert(k.plural().into(), json!(org.count(k)));
    }
    // Not a Kustomer object: the full contents ferry reads at messages'
    // links.related, one per message that needs it.
    objects.insert(
        "message_contents".into(),
        json!(records::content_ids(&org).len()),
    );
    // Nor this: the images inside those contents that the CDN still has.
    objects.insert(
        "inline_images".into(),
        json!(records::inline_image_ids(&org).len()),
    );
    // The event history (`events`): the audit log and customers' events.
    objects.insert(
        "audit_logs".into(),
        json!(super::events::audit_logs(&org).len()),
    );
    objects.insert(
        "customer_events".into(),
        json!(super::events::event_ids(&org).len()),
    );
    let archived: serde_json::Map<String, Value> = KINDS
        .iter()
        .map(|k| {
            (
                k.plural().to_string(),
                json!(org.count(*k) - org.live_count(*k)),
            )
        })
        .collect();
    Json(json!({
        "requests": st.requests.load(std::sync::atomic::Ordering::Relaxed),
        "throttled": st.throttled.load(std::sync::atomic::Ordering::Relaxed),
        "objects": objects,
        "archived": archived,
        // Changes made since start (`--mutate-rate`, `POST /__sim/mutate`).
        "mutations": org.mutations,
    }))
    .into_response()
}

async fn all_ids(State(st): St, Path(object): Path<String>) -> Response {
    if object == "audit_logs" || object == "customer_events" {
        let org = st.org.read().unwrap();
        let mut ids: Vec<String> = if object == "audit_logs" {
            super::events::audit_logs(&org)
                .iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect()
        } else {
            super::events::event_ids(&org)
        };
        ids.sort();
        return Json(json!(ids)).into_response();
    }
    if object == "message_contents" || object == "inline_images" {
        let org = st.org.read().unwrap();
        let mut ids = if object == "message_contents" {
            records::content_ids(&org)
        } else {
            records::inline_image_ids(&org)
        };
        ids.sort();
        return Json(json!(ids)).into_response();
    }
    let Some(kind) = Kind::from_plural(&object) else {
        return not_found();
    };
    let org = st.org.read().unwrap();
    let ids: Vec<String> = (0..org.count(kind)).map(|i| id(&org, kind, i)).collect();
    Json(json!(ids)).into_response()
}

#[derive(Deserialize)]
struct MutateBody {
    count: u32,
    /// This kind of mutation (`update`, `conversation`, `customer`,
    /// `company`, `message`, `note`, `delete`, or `mix`); absent: `update`
    /// (a random record edited).
    #[serde(default)]
    kind: Option<String>,
}

/// Applies `count` random mutations now and says which record each changed.
async fn mutate(State(st): St, Json(body): Json<MutateBody>) -> Response {
    let mut out = Vec::new();
    let mut rng = {
        let mut r = st.rng.lock().unwrap();
        rand_chacha::ChaCha8Rng::from_rng(&mut *r).unwrap()
    };
    let mut org = st.org.write().unwrap();
    for _ in 0..body.count {
        let kind = match body.kind.as_deref() {
            None => Some("update"),
            Some("mix") => None,
            k => k,
        };
        let Some(m) = org.random_mutation(&mut rng, kind) else {
            return (StatusCode::BAD_REQUEST, Json(json!({"errors": [{"detail": "kind: one of update, conversation, customer, company, message, note, delete, mix"}]}))).into_response();
        };
        let (kind, idx, ts) = org.apply(m, chrono::Utc::now().timestamp_millis());
        out.push(json!({"mutation": m.name(), "object": kind.plural(), "id": id(&org, kind, idx), "updatedAt": records::iso(ts)}));
    }
    Json(json!({"mutated": out})).into_response()
}

async fn inject(State(st): St, Json(inj): Json<Injection>) -> Response {
    st.injections.lock().unwrap().push(inj);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_injections(State(st): St) -> Response {
    st.injections.lock().unwrap().clear();
    StatusCode::NO_CONTENT.into_response()
}
