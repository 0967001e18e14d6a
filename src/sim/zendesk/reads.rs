//! The read side of the Zendesk simulator: the list, show, search and
//! incremental-export endpoints that clients written by others
//! (node-zendesk, zenpy, tap-zendesk) call, shaped as Zendesk documents
//! them (developer.zendesk.com/api-reference: Users, Organizations,
//! Groups, Tickets, Ticket Comments, Ticket Audits, Search, Incremental
//! Exports, Tags, Custom Objects). Lists are paginated (`paging.rs`);
//! every record carries its `url`.

// Helpers return the ready HTTP error response as their Err.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::paging::{base_url, page, size_up_to, MAX_PAGE};
use super::store::Store;
use super::{error, SimState};

type St = State<Arc<SimState>>;
type Q = Query<HashMap<String, String>>;

/// The read routes, merged into the simulator's router.
pub fn routes() -> Router<Arc<SimState>> {
    let router = Router::new()
        .route("/api/v2/users/me", get(me))
        .route(
            "/api/v2/users",
            get(list_users).post(super::routes::create_user),
        )
        .route("/api/v2/users/search", get(search_users))
        .route(
            "/api/v2/users/{id}",
            get(show_user).put(super::routes::update_user),
        )
        .route("/api/v2/organizations", get(list_orgs))
        .route(
            "/api/v2/organizations/{id}",
            get(show_org).put(super::updates::update_organization),
        )
        .route("/api/v2/groups/{id}", get(show_group))
        .route("/api/v2/tickets/{id}/audits", get(ticket_audits))
        .route(
            "/api/v2/tickets/{id}/tags",
            get(ticket_tags).put(super::updates::add_tags),
        )
        .route("/api/v2/tags", get(tags))
        .route("/api/v2/search", get(search))
        .route("/api/v2/search/count", get(search_count))
        .route(
            "/api/v2/incremental/tickets/cursor",
            export("tickets", true),
        )
        .route("/api/v2/incremental/tickets", export("tickets", false))
        .route("/api/v2/incremental/users/cursor", export("users", true))
        .route("/api/v2/incremental/users", export("users", false))
        .route(
            "/api/v2/incremental/organizations",
            export("organizations", false),
        )
        .route("/api/v2/custom_objects", get(list_custom_objects))
        .route("/api/v2/ticket_fields/{id}", get(show_ticket_field))
        .route("/api/v2/account/settings", get(account_settings))
        .route(
            "/api/v2/incremental/ticket_metric_events",
            get(metric_events),
        )
        .route("/api/v2/job_statuses", get(list_job_statuses));
    // Collections a new account has, empty: ferry writes none of them, but
    // clients that enumerate an account (tap-zendesk's discovery) read them.
    NEW_ACCOUNT_EMPTY.iter().fold(router, |r, (path, key)| {
        r.route(path, get(move |q: Q, h: HeaderMap| empty(q, h, path, key)))
    })
}

/// (path, list key) of the collections a new account has empty.
const NEW_ACCOUNT_EMPTY: &[(&str, &str)] = &[
    ("/api/v2/macros", "macros"),
    ("/api/v2/satisfaction_ratings", "satisfaction_ratings"),
    ("/api/v2/ticket_forms", "ticket_forms"),
    ("/api/v2/slas/policies", "sla_policies"),
    ("/api/v2/ticket_metrics", "ticket_metrics"),
    ("/api/v2/channels/voice/phone_numbers", "phone_numbers"),
];

/// An empty collection, paginated like any list.
async fn empty(Query(q): Q, headers: HeaderMap, path: &'static str, key: &'static str) -> Response {
    Json(page(Vec::new(), key, &q, &headers, path)).into_response()
}

/// Ticket metric events (incremental, time-based): none, as imported
/// tickets have no live SLA or reply-time events.
async fn metric_events(Query(q): Q) -> Response {
    let start = start_time(&q).unwrap_or(0);
    Json(json!({"ticket_metric_events": [], "count": 0, "end_time": start, "next_page": null, "end_of_stream": true}))
        .into_response()
}

/// A new account's defaults for the settings an import cares about
/// (Account Settings API): agent-created users get a welcome email,
/// attachments are public links, 50 MB per file (or the simulator's
/// `attachment_size`).
async fn account_settings(State(st): St) -> Response {
    Json(json!({"settings": {
        "user": {"tagging": true, "agent_created_welcome_emails": true, "end_user_phone_number_validation": false},
        "tickets": {"comments_public_by_default": true, "private_attachments": false, "tagging": true},
        "limits": {"attachment_size": st.opts.attachment_size},
        "api": {"api_token_access": true},
    }}))
    .into_response()
}

/// `GET /api/v2/job_statuses`: the account's recent jobs, newest first.
async fn list_job_statuses(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let ids: Vec<String> = st
        .jobs
        .lock()
        .unwrap()
        .iter()
        .rev()
        .map(|j| j.id.clone())
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let list: Vec<Value> = st.jobs_of(&ids);
    Json(page(
        list,
        "job_statuses",
        &q,
        &headers,
        "/api/v2/job_statuses",
    ))
    .into_response()
}

/// `url` of a record, as the real API sets it.
pub fn with_url(mut rec: Value, headers: &HeaderMap, collection: &str) -> Value {
    let id = rec["id"].clone();
    let id = id
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| id.to_string());
    rec["url"] = json!(format!(
        "{}/api/v2/{collection}/{id}.json",
        base_url(headers)
    ));
    rec
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!({"error": "RecordNotFound", "description": "Not found"}),
    )
}

fn all(
    map: &std::collections::BTreeMap<u64, Value>,
    headers: &HeaderMap,
    coll: &str,
) -> Vec<Value> {
    map.values()
        .map(|v| with_url(v.clone(), headers, coll))
        .collect()
}

/// The authenticated user: the simulator's admin, the token's owner.
async fn me(State(st): St, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let user = store
        .user_id_by_email(&st.opts.email)
        .and_then(|id| store.users.get(&id).cloned())
        .unwrap_or_else(
            || json!({"id": 1, "name": "Account Owner", "email": st.opts.email, "role": "admin"}),
        );
    Json(json!({"user": with_url(user, &headers, "users")})).into_response()
}

async fn list_users(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    // `role` and `role[]` filter the list (Users API, "List Users").
    let roles: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k.as_str() == "role" || k.as_str() == "role[]")
        .map(|(_, v)| v.as_str())
        .collect();
    let users: Vec<Value> = all(&store.users, &headers, "users")
        .into_iter()
        .filter(|u| roles.is_empty() || roles.iter().any(|r| u["role"] == *r))
        .collect();
    Json(page(users, "users", &q, &headers, "/api/v2/users")).into_response()
}

/// `users/search?query=` (email, name or external id) or `?external_id=`.
async fn search_users(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let want = q.get("query").map(|s| s.to_lowercase());
    let ext = q.get("external_id");
    let users: Vec<Value> = all(&store.users, &headers, "users")
        .into_iter()
        .filter(|u| {
            let text = |k: &str| u[k].as_str().unwrap_or("").to_lowercase();
            match (&want, ext) {
                (_, Some(e)) => u["external_id"].as_str() == Some(e.as_str()),
                (Some(w), None) => {
                    text("email") == *w
                        || text("name").contains(w.as_str())
                        || text("external_id") == *w
                }
                (None, None) => false,
            }
        })
        .collect();
    Json(page(users, "users", &q, &headers, "/api/v2/users/search")).into_response()
}

async fn show_user(State(st): St, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    match st.store.lock().unwrap().users.get(&id) {
        Some(u) => Json(json!({"user": with_url(u.clone(), &headers, "users")})).into_response(),
        None => not_found(),
    }
}

async fn list_orgs(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let orgs = all(&store.organizations, &headers, "organizations");
    Json(page(
        orgs,
        "organizations",
        &q,
        &headers,
        "/api/v2/organizations",
    ))
    .into_response()
}

async fn show_org(State(st): St, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    match st.store.lock().unwrap().organizations.get(&id) {
        Some(o) => Json(json!({"organization": with_url(o.clone(), &headers, "organizations")}))
            .into_response(),
        None => not_found(),
    }
}

async fn show_group(State(st): St, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    match st.store.lock().unwrap().groups.get(&id) {
        Some(g) => Json(json!({"group": with_url(g.clone(), &headers, "groups")})).into_response(),
        None => not_found(),
    }
}

async fn show_ticket_field(State(st): St, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    match store.fields.get("ticket_fields").and_then(|m| m.get(&id)) {
        Some(f) => Json(json!({"ticket_field": with_url(f.clone(), &headers, "ticket_fields")}))
            .into_response(),
        None => not_found(),
    }
}

/// Ticket audits: one audit per comment, its `Comment` event carrying
/// what `GET …/comments` shows (Ticket Audits API). The first audit also
/// holds the `Create` events of the ticket's fields.
async fn ticket_audits(
    State(st): St,
    Path(id): Path<u64>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let store = st.store.lock().unwrap();
    let (Some(t), Some(comments)) = (store.ticket_view(id), store.ticket_comments(id)) else {
        return not_found();
    };
    let audits: Vec<Value> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut events = vec![{
                let mut e = c.clone();
                e["type"] = json!("Comment");
                e
            }];
            if i == 0 {
                for field in [
                    "status",
                    "priority",
                    "subject",
                    "requester_id",
                    "assignee_id",
                    "group_id",
                ] {
                    if !t[field].is_null() {
                        events.push(
                            json!({"id": c["id"].as_u64().unwrap_or(0) * 10 + events.len() as u64,
                            "type": "Create", "field_name": field, "value": t[field]}),
                        );
                    }
                }
            }
            json!({"id": c["id"], "ticket_id": id, "created_at": c["created_at"],
                   "author_id": c["author_id"], "metadata": {}, "via": {"channel": "api"},
                   "events": events})
        })
        .collect();
    Json(page(
        audits,
        "audits",
        &q,
        &headers,
        &format!("/api/v2/tickets/{id}/audits"),
    ))
    .into_response()
}

async fn ticket_tags(State(st): St, Path(id): Path<u64>) -> Response {
    match st.store.lock().unwrap().tickets.get(&id) {
        Some(t) => {
            Json(json!({"tags": t["tags"].as_array().cloned().unwrap_or_default()})).into_response()
        }
        None => not_found(),
    }
}

/// `GET /api/v2/tags`: the account's tags with how many records use them,
/// most used first.
async fn tags(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for rec in store
        .tickets
        .values()
        .chain(store.users.values())
        .chain(store.organizations.values())
    {
        for tag in rec["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str())
        {
            *counts.entry(tag.to_string()).or_default() += 1;
        }
    }
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let items = list
        .into_iter()
        .map(|(name, count)| json!({"name": name, "count": count}))
        .collect();
    Json(page(items, "tags", &q, &headers, "/api/v2/tags")).into_response()
}

async fn list_custom_objects(State(st): St, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let base = base_url(&headers);
    let list: Vec<Value> = store
        .custom_objects
        .iter()
        .map(|(key, o)| {
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                m.remove("fields");
            }
            o["key"] = json!(key);
            o["url"] = json!(format!("{base}/api/v2/custom_objects/{key}.json"));
            o
        })
        .collect();
    Json(json!({"custom_objects": list})).into_response()
}

/// Whether a numeric id field holds `v`.
fn id_is(field: &Value, v: &str) -> bool {
    field.as_u64().is_some_and(|n| n.to_string() == v)
}

/// One search term: `key:value` (also `key>value`, `key<value` for
/// dates), or free text.
fn matches(rec: &Value, term: &str) -> bool {
    let unq = |s: &str| s.trim_matches('"').to_lowercase();
    if let Some((k, v)) = term.split_once(':') {
        let v = unq(v);
        let text = |f: &str| rec[f].as_str().map(str::to_lowercase);
        return match k {
            "status" => text("status").as_deref() == Some(v.as_str()),
            "priority" => text("priority").as_deref() == Some(v.as_str()),
            "external_id" => text("external_id").as_deref() == Some(v.as_str()),
            "email" => text("email").as_deref() == Some(v.as_str()),
            "name" => text("name").is_some_and(|n| n.contains(&v)),
            "subject" => text("subject").is_some_and(|n| n.contains(&v)),
            "tags" | "tag" => rec["tags"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|x| x.as_str().map(str::to_lowercase).as_deref() == Some(v.as_str()))
            }),
            "requester" | "requester_id" => id_is(&rec["requester_id"], &v),
            "assignee" | "assignee_id" => id_is(&rec["assignee_id"], &v),
            "group" | "group_id" => id_is(&rec["group_id"], &v),
            "organization" | "organization_id" => id_is(&rec["organization_id"], &v),
            _ => false,
        };
    }
    for (op, field) in [
        ("created>", "created_at"),
        ("created<", "created_at"),
        ("updated>", "updated_at"),
        ("updated<", "updated_at"),
    ] {
        if let Some(v) = term.strip_prefix(op) {
            let have = rec[field].as_str().unwrap_or("");
            return if op.ends_with('>') {
                have > v
            } else {
                !have.is_empty() && have < v
            };
        }
    }
    let t = unq(term);
    if let Ok(id) = t.parse::<u64>() {
        return rec["id"].as_u64() == Some(id);
    }
    [
        "subject",
        "description",
        "name",
        "email",
        "details",
        "notes",
    ]
    .iter()
    .any(|f| {
        rec[*f]
            .as_str()
            .is_some_and(|s| s.to_lowercase().contains(&t))
    })
}

/// Splits a query into terms, keeping quoted phrases whole.
fn terms(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every record a search query matches, each with its `result_type`.
/// Archived tickets are included: the Search API reaches them (Zendesk
/// help, "About ticket archiving", 4408887617050), list views do not.
fn search_results(store: &Store, query: &str, headers: &HeaderMap) -> Vec<Value> {
    let terms = terms(query);
    let ty = terms
        .iter()
        .find_map(|t| t.strip_prefix("type:").map(str::to_string));
    let rest: Vec<&String> = terms.iter().filter(|t| !t.starts_with("type:")).collect();
    let mut out = Vec::new();
    for (kind, coll) in [
        ("ticket", "tickets"),
        ("user", "users"),
        ("organization", "organizations"),
        ("group", "groups"),
    ] {
        if ty.as_deref().is_some_and(|t| t != kind) {
            continue;
        }
        let records: Vec<Value> = match kind {
            "ticket" => all_tickets(store),
            "user" => store.users.values().cloned().collect(),
            "organization" => store.organizations.values().cloned().collect(),
            _ => store.groups.values().cloned().collect(),
        };
        for rec in records {
            if rest.iter().all(|t| match t.strip_prefix('-') {
                Some(neg) => !matches(&rec, neg),
                None => matches(&rec, t),
            }) {
                let mut rec = with_url(rec, headers, coll);
                rec["result_type"] = json!(kind);
                out.push(rec);
            }
        }
    }
    out
}

/// `GET /api/v2/search?query=`: offset pagination, at most 1,000 results
/// (page 11 of 100 is a 422), `count` the real number of matches.
async fn search(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let query = q.get("query").cloned().unwrap_or_default();
    let results = search_results(&store, &query, &headers);
    let per = size_up_to(&q, "per_page", MAX_PAGE);
    let pg = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    if pg * per > 1000 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "InvalidPaginationParameter", "description": "Invalid search: Requested response size was greater than Search Response Limits"}),
        );
    }
    let total = results.len();
    let capped: Vec<Value> = results.into_iter().take(1000).collect();
    let mut v = page(capped, "results", &q, &headers, "/api/v2/search");
    v["count"] = json!(total);
    Json(v).into_response()
}

async fn search_count(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let query = q.get("query").cloned().unwrap_or_default();
    Json(json!({"count": search_results(&store, &query, &headers).len()})).into_response()
}

/// Seconds since the epoch of a record's `updated_at` (else `created_at`).
fn stamp(rec: &Value) -> i64 {
    rec["updated_at"]
        .as_str()
        .or(rec["created_at"].as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

/// Records changed at or after `start_time`, oldest change first, each
/// with its `generated_timestamp`. Incremental exports include archived
/// tickets (they are how Zendesk documents getting every ticket).
fn changed_since(records: Vec<Value>, start: i64, headers: &HeaderMap, coll: &str) -> Vec<Value> {
    let mut list: Vec<Value> = records
        .into_iter()
        .filter(|r| stamp(r) >= start)
        .map(|r| {
            let ts = stamp(&r);
            let mut r = with_url(r, headers, coll);
            r["generated_timestamp"] = json!(ts);
            r
        })
        .collect();
    list.sort_by_key(|r| (r["generated_timestamp"].as_i64(), r["id"].as_u64()));
    list
}

fn start_time(q: &HashMap<String, String>) -> Result<i64, Response> {
    // Epoch seconds. Clients also send a float ("946684800.0") or, through
    // zenpy, an ISO time for organizations (tap-zendesk's discovery does,
    // and works against the real API): the number is read from the leading
    // digits, as a Rails `to_i` does. (That reading is this simulator's
    // assumption; the docs only show integers.)
    let leading = |s: &String| -> Option<i64> {
        let digits: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    };
    match q.get("start_time").map(leading) {
        Some(Some(t)) => Ok(t),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            json!({"error": "InvalidValue", "description": "start_time is required: a Unix epoch time in seconds"}),
        )),
    }
}

/// Records per incremental export page at most (and by default).
const EXPORT_PAGE: usize = 1000;

/// Time-based incremental export: `end_time`, `next_page` (null at the
/// end), `end_of_stream`, `count`, up to `per_page` (1000) per page.
fn time_based(
    list: Vec<Value>,
    key: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    path: &str,
) -> Value {
    let per = size_up_to(q, "per_page", EXPORT_PAGE);
    let page_items: Vec<Value> = list.iter().take(per).cloned().collect();
    let end_of_stream = list.len() <= per;
    let end_time = page_items
        .last()
        .and_then(|r| r["generated_timestamp"].as_i64())
        .or_else(|| start_time(q).ok())
        .unwrap_or(0);
    // The next page starts at the last record's time; the real API
    // documents that a page can repeat records of that second.
    let next = format!(
        "{}{path}.json?start_time={end_time}&per_page={per}",
        base_url(headers)
    );
    json!({
        "count": page_items.len(), key: page_items, "end_time": end_time,
        "end_of_stream": end_of_stream,
        "next_page": if end_of_stream { Value::Null } else { json!(next) },
    })
}

/// Cursor-based incremental export: `after_cursor`, `after_url`,
/// `end_of_stream`. The cursor is the position in the change order.
fn cursor_based(
    list: Vec<Value>,
    key: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    path: &str,
) -> Value {
    let per = size_up_to(q, "per_page", EXPORT_PAGE);
    let from = q
        .get("cursor")
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(list.len());
    let to = (from + per).min(list.len());
    let end_of_stream = to >= list.len();
    json!({
        key: list[from..to].to_vec(),
        "after_cursor": to.to_string(),
        "before_cursor": (from > 0).then(|| from.to_string()),
        "after_url": format!("{}{path}.json?cursor={to}&per_page={per}", base_url(headers)),
        "before_url": Value::Null,
        "end_of_stream": end_of_stream,
    })
}

/// The start of a cursor export: `start_time` on the first request, the
/// cursor afterwards (which stands for the whole change list).
fn cursor_start(q: &HashMap<String, String>) -> Result<i64, Response> {
    if q.contains_key("cursor") {
        Ok(0)
    } else {
        start_time(q)
    }
}

fn all_tickets(store: &Store) -> Vec<Value> {
    store
        .tickets
        .keys()
        .filter_map(|id| store.ticket_view(*id))
        .collect()
}
/// One incremental export: the records it walks and how it pages.
#[derive(Clone, Copy)]
struct Export {
    object: &'static str,
    cursor: bool,
}

/// `GET /api/v2/incremental/{object}[/cursor]`.
async fn incremental(
    st: Arc<SimState>,
    q: HashMap<String, String>,
    headers: HeaderMap,
    e: Export,
) -> Response {
    let start = match if e.cursor {
        cursor_start(&q)
    } else {
        start_time(&q)
    } {
        Ok(s) => s,
        Err(r) => return r,
    };
    let records = {
        let store = st.store.lock().unwrap();
        match e.object {
            "tickets" => all_tickets(&store),
            "users" => store.users.values().cloned().collect(),
            _ => store.organizations.values().cloned().collect(),
        }
    };
    let list = changed_since(records, start, &headers, e.object);
    let path = format!(
        "/api/v2/incremental/{}{}",
        e.object,
        if e.cursor { "/cursor" } else { "" }
    );
    Json(if e.cursor {
        cursor_based(list, e.object, &q, &headers, &path)
    } else {
        time_based(list, e.object, &q, &headers, &path)
    })
    .into_response()
}

/// A route handler for one export.
fn export(object: &'static str, cursor: bool) -> axum::routing::MethodRouter<Arc<SimState>> {
    get(move |State(st): St, Query(q): Q, headers: HeaderMap| {
        incremental(st, q, headers, Export { object, cursor })
    })
}
