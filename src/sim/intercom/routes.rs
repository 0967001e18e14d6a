//! The Intercom simulator's endpoints (reads: what a migration needs),
//! shaped as `intercom-openapi-2.14.yaml` describes their answers.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use super::{error, Scroll, SimState, PARTS_CAP};

type St = State<Arc<SimState>>;
type Params = Query<HashMap<String, String>>;

pub fn router(st: Arc<SimState>) -> Router {
    Router::new()
        .route("/__sim/stats", get(stats))
        .route("/__sim/dump", get(dump))
        .route("/__sim/mutate", axum::routing::post(super::mutate::mutate))
        .route("/__cdn/{id}", get(cdn))
        .route("/{*path}", any(api))
        .with_state(st)
}

async fn stats(State(st): St) -> Response {
    Json(json!({
        "requests": st.requests.load(Ordering::Relaxed),
        "throttled": st.throttled.load(Ordering::Relaxed),
        "faults": st.faults.load(Ordering::Relaxed),
        "by_kind": *st.by_kind.lock().unwrap(),
        "versions": *st.versions.lock().unwrap(),
        "per_window": (st.opts.per_minute / 6).max(1),
    }))
    .into_response()
}

/// Everything the workspace holds, parts uncapped, attachments by SHA-256.
async fn dump(State(st): St) -> Response {
    use sha2::Digest;
    let w = st.ws();
    let blobs: serde_json::Map<String, Value> = w
        .blobs
        .iter()
        .map(|(id, b)| {
            (
                id.clone(),
                json!(hex::encode(sha2::Sha256::digest(&b.bytes))),
            )
        })
        .collect();
    Json(json!({
        "admins": w.admins, "teams": w.teams, "tags": w.tags, "segments": w.segments,
        "data_attributes": w.data_attributes, "companies": w.companies, "contacts": w.contacts,
        "merged": w.merged, "notes": w.notes.iter().flat_map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        "conversations": w.conversations, "tickets": w.tickets, "ticket_types": w.ticket_types,
        "collections": w.collections, "articles": w.articles,
        "events": w.events.iter().flat_map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        "attachments": blobs,
    }))
    .into_response()
}

/// `GET /__cdn/{id}?expires=T`: the signed CDN link an attachment's `url`
/// is; refused once expired (re-read the conversation for a fresh one).
async fn cdn(State(st): St, Path(id): Path<String>, Query(q): Params) -> Response {
    let expires: i64 = q.get("expires").and_then(|e| e.parse().ok()).unwrap_or(0);
    if chrono::Utc::now().timestamp() > expires {
        return (StatusCode::FORBIDDEN, "Request has expired").into_response();
    }
    match st.ws().blobs.iter().find(|(b, _)| *b == id) {
        Some((_, b)) => {
            ([("content-type", b.content_type.clone())], b.bytes.clone()).into_response()
        }
        None if id.starts_with("inline") => (
            [("content-type", "image/png".to_string())],
            vec![0x89, b'P', b'N', b'G'],
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
    }
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("{what} Not Found"),
    )
}

fn bad(msg: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "parameter_invalid", msg)
}

/// The opaque cursor of a list position.
fn cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("[{offset}]"))
}

fn offset_of(c: Option<&str>) -> Result<usize, Box<Response>> {
    let Some(c) = c.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    base64::engine::general_purpose::STANDARD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim_matches(['[', ']']).parse().ok())
        .ok_or_else(|| Box::new(bad("starting_after is not a cursor this API gave")))
}

/// One page of `items` from `offset`, with `cursor_pages`.
fn page(items: &[&Value], offset: usize, per_page: usize) -> (Vec<Value>, Value) {
    let per_page = per_page.clamp(1, 150);
    let end = (offset + per_page).min(items.len());
    // Only the page is copied, without the search-only `__segments`.
    let data = items
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let mut v = (*v).clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("__segments");
            }
            v
        })
        .collect();
    let total_pages = items.len().div_ceil(per_page).max(1);
    let mut pages = json!({"type": "pages", "page": offset / per_page + 1, "per_page": per_page, "total_pages": total_pages});
    if end < items.len() {
        pages["next"] = json!({"per_page": per_page, "starting_after": cursor(end)});
    }
    (data, pages)
}

/// Attachment links made absolute and signed for `attachment_ttl_secs`,
/// on another host name for this loopback server: Intercom's links are on
/// its CDN (downloads.intercomcdn.com; intercom-api.md), not the API host,
/// so a client fetches them without the token and outside the API budget.
fn sign(st: &SimState, v: &mut Value) {
    let base = cdn_base(&st.base.lock().unwrap());
    let expires = chrono::Utc::now().timestamp() + st.opts.attachment_ttl_secs;
    fn walk(v: &mut Value, base: &str, expires: i64) {
        match v {
            Value::Object(o) => {
                if o.get("type") == Some(&json!("upload")) {
                    if let Some(Value::String(u)) = o.get_mut("url") {
                        if u.starts_with("/__cdn/") {
                            *u = format!("{base}{u}?expires={expires}&signature=sim");
                        }
                    }
                }
                if let Some(Value::String(b)) = o.get_mut("body") {
                    if b.contains("src=\"/__cdn/") {
                        *b = b
                            .replace("src=\"/__cdn/", &format!("src=\"{base}/__cdn/"))
                            .replace(
                                "\"></p>",
                                &format!("?expires={expires}&signature=sim\"></p>"),
                            );
                    }
                }
                for x in o.values_mut() {
                    walk(x, base, expires);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, base, expires)),
            _ => {}
        }
    }
    walk(v, &base, expires);
}

/// Fields searched as dates (spec, "Search contacts", "Searching for
/// Timestamp Fields": matched by calendar day in the workspace's
/// timezone, UTC here; `=` is the whole day, `>` from the start of the
/// next day, `<` before the start of that day; `!=`, `>=`, `<=`, `IN` and
/// `NIN` are errors). The spec says so for contacts; conversations and
/// tickets are compared to the second here.
const DATE_FIELDS: &[&str] = &["created_at", "updated_at", "signed_up_at", "last_seen_at"];

/// How a search compares dates.
#[derive(Clone, Copy, PartialEq)]
enum Dates {
    ByDay,
    Exact,
}

/// A search query (`single_filter_search_request` or
/// `multiple_filter_search_request`) against one record.
fn matches(q: &Value, rec: &Value, dates: Dates) -> Result<bool, String> {
    if let Some(op) = q["operator"].as_str().filter(|o| *o == "AND" || *o == "OR") {
        let parts = q["value"]
            .as_array()
            .ok_or("a nested query's value is a list of queries")?;
        let mut out = op == "AND";
        for p in parts {
            let m = matches(p, rec, dates)?;
            out = if op == "AND" { out && m } else { out || m };
        }
        return Ok(out);
    }
    let field = q["field"].as_str().ok_or("a filter needs a field")?;
    let op = q["operator"].as_str().ok_or("a filter needs an operator")?;
    let want = &q["value"];
    if dates == Dates::ByDay && DATE_FIELDS.contains(&field) {
        let want = want
            .as_i64()
            .or_else(|| want.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| format!("{field} takes a UNIX timestamp"))?;
        let day = want - want.rem_euclid(86_400);
        let Some(got) = rec[field].as_i64() else {
            return Ok(false);
        };
        return match op {
            "=" => Ok(got >= day && got < day + 86_400),
            ">" => Ok(got >= day + 86_400),
            "<" => Ok(got < day),
            _ => Err(format!(
                "operator {op} is not supported on the date field {field}"
            )),
        };
    }
    let got = match field {
        "id" | "role" | "email" | "name" | "state" | "external_id" | "created_at"
        | "updated_at" | "open" => rec[field].clone(),
        "contact_ids" => rec["contacts"]["contacts"]
            .get(0)
            .map(|c| c["id"].clone())
            .unwrap_or(Value::Null),
        // Membership lists: `=` is "is among them".
        "segment_id" => rec["__segments"].clone(),
        "tag_id" => json!(rec["tags"]["data"]
            .as_array()
            .map(|a| a.iter().map(|t| t["id"].clone()).collect::<Vec<_>>())
            .unwrap_or_default()),
        _ => {
            return Err(format!(
                "{field} is not a searchable field of this simulator"
            ))
        }
    };
    let num = |v: &Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    if let Some(list) = got.as_array() {
        return match op {
            "=" => Ok(list.iter().any(|g| text(g) == text(want))),
            "!=" => Ok(!list.iter().any(|g| text(g) == text(want))),
            _ => Err(format!("{field} takes only = and !=")),
        };
    }
    Ok(match op {
        "=" => text(&got) == text(want),
        "!=" => text(&got) != text(want),
        "IN" => want
            .as_array()
            .is_some_and(|a| a.iter().any(|w| text(w) == text(&got))),
        "NIN" => want
            .as_array()
            .is_some_and(|a| !a.iter().any(|w| text(w) == text(&got))),
        "<" | "<=" | ">" | ">=" => {
            let (Some(g), Some(w)) = (num(&got), num(want)) else {
                return Ok(false);
            };
            match op {
                "<" => g < w,
                "<=" => g <= w,
                ">" => g > w,
                _ => g >= w,
            }
        }
        "~" => text(&got).contains(&text(want)),
        "!~" => !text(&got).contains(&text(want)),
        "^" => text(&got).starts_with(&text(want)),
        "$" => text(&got).ends_with(&text(want)),
        _ => return Err(format!("operator {op} is not one the API takes")),
    })
}

/// `POST …/search` over `items`: the query, the sort, the pagination in
/// the body (not the query string).
fn search(items: &[Value], body: &Bytes, key: &str, list_type: &str, dates: Dates) -> Response {
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return bad("the body is not JSON");
    };
    if b["query"].is_null() {
        return bad("query is required");
    }
    let mut hits: Vec<&Value> = Vec::new();
    for it in items {
        match matches(&b["query"], it, dates) {
            Ok(true) => hits.push(it),
            Ok(false) => {}
            Err(e) => return bad(&e),
        }
    }
    let field = b["sort"]["field"]
        .as_str()
        .unwrap_or("created_at")
        .to_string();
    let desc = b["sort"]["order"] == "descending";
    hits.sort_by(|x, y| {
        let o = x[&field]
            .as_i64()
            .cmp(&y[&field].as_i64())
            .then_with(|| x["id"].as_str().cmp(&y["id"].as_str()));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    let offset = match offset_of(b["pagination"]["starting_after"].as_str()) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let per = b["pagination"]["per_page"].as_u64().unwrap_or(20) as usize;
    if per > 150 {
        return bad("per_page must be at most 150");
    }
    let (data, pages) = page(&hits, offset, per);
    Json(json!({"type": list_type, key: data, "total_count": hits.len(), "pages": pages}))
        .into_response()
}

/// The CDN's base: `localhost` for the `127.0.0.1` the API is served on.
fn cdn_base(api: &str) -> String {
    api.replacen("://127.0.0.1:", "://localhost:", 1)
}

async fn api(
    State(st): St,
    method: Method,
    Path(path): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Response {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let w = st.ws();
    let per_page = q
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50usize);
    match (method, segs.as_slice()) {
        (Method::GET, ["me"]) => {
            let mut me = w.admins[0].clone();
            me["email_verified"] = json!(true);
            // /me's admin carries an avatar object (admin_with_app), the
            // admin list an image URL string.
            me["avatar"] = json!({"type": "avatar", "image_url": null});
            me["app"] = json!({"type": "app", "id_code": w.app_id, "name": "Simulated workspace", "region": "US", "timezone": "Europe/Dublin", "created_at": 1_600_000_000, "identity_verification": false});
            Json(me).into_response()
        }
        (Method::GET, ["admins"]) => {
            Json(json!({"type": "admin.list", "admins": w.admins})).into_response()
        }
        (Method::GET, ["admins", id]) => w
            .admins
            .iter()
            .find(|a| a["id"] == *id)
            .map(|a| Json(a.clone()).into_response())
            .unwrap_or_else(|| not_found("Admin")),
        (Method::GET, ["teams"]) => {
            Json(json!({"type": "team.list", "teams": w.teams})).into_response()
        }
        (Method::GET, ["teams", id]) => w
            .teams
            .iter()
            .find(|a| a["id"] == *id)
            .map(|a| Json(a.clone()).into_response())
            .unwrap_or_else(|| not_found("Team")),
        (Method::GET, ["tags"]) => Json(json!({"type": "list", "data": w.tags})).into_response(),
        (Method::GET, ["segments"]) => {
            let counts = q.get("include_count").is_some_and(|v| v == "true");
            let segs: Vec<Value> = w
                .segments
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    if counts {
                        s["count"] = json!(w
                            .contact_segments
                            .iter()
                            .filter(|(_, l)| l.iter().any(|x| s["id"] == x.as_str()))
                            .count());
                    }
                    s
                })
                .collect();
            Json(json!({"type": "segment.list", "segments": segs})).into_response()
        }
        (Method::GET, ["data_attributes"]) => {
            let model = q.get("model").map(String::as_str);
            let archived = q.get("include_archived").is_some_and(|v| v == "true");
            let data: Vec<&Value> = w
                .data_attributes
                .iter()
                .filter(|d| model.is_none_or(|m| d["model"] == m))
                .filter(|d| archived || d["archived"] == false)
                .collect();
            Json(json!({"type": "list", "data": data})).into_response()
        }
        (Method::GET, ["companies", "scroll"]) => {
            scroll(&st, q.get("scroll_param").map(String::as_str))
        }
        (Method::GET, ["companies", id]) => w
            .companies
            .iter()
            .find(|c| c["id"] == *id)
            .map(|c| Json(c.clone()).into_response())
            .unwrap_or_else(|| not_found("Company")),
        (Method::GET, ["contacts"]) => {
            let offset = match offset_of(q.get("starting_after").map(String::as_str)) {
                Ok(o) => o,
                Err(r) => return *r,
            };
            let all: Vec<&Value> = w.index.live_contacts.iter().collect();
            let (data, pages) = page(&all, offset, per_page);
            Json(json!({"type": "list", "data": data, "total_count": all.len(), "pages": pages}))
                .into_response()
        }
        (Method::POST, ["contacts", "search"]) => {
            search(&w.index.live_contacts, &body, "data", "list", Dates::ByDay)
        }
        (Method::GET, ["contacts", id]) => match w.contact(id) {
            Some(c) if !w.merged.iter().any(|m| m == id) => Json(c.clone()).into_response(),
            _ => not_found("User"),
        },
        (Method::GET, ["contacts", id, "notes"]) => match w.notes.iter().find(|(c, _)| c == id) {
            Some((_, notes)) => {
                let offset = q
                    .get("page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(1)
                    .saturating_sub(1)
                    * per_page;
                let end = (offset + per_page).min(notes.len());
                let data = notes
                    .get(offset..end)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                Json(json!({"type": "list", "data": data, "total_count": notes.len(),
                            "pages": {"type": "pages", "page": offset / per_page.max(1) + 1, "per_page": per_page, "total_pages": notes.len().div_ceil(per_page.max(1)).max(1)}})).into_response()
            }
            None => not_found("User"),
        },
        (Method::GET, ["contacts", id, "tags"]) => match w.contact(id) {
            Some(c) => {
                let tags: Vec<&Value> = c["tags"]["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| w.tags.iter().find(|x| x["id"] == t["id"]))
                    .collect();
                Json(json!({"type": "list", "data": tags})).into_response()
            }
            None => not_found("User"),
        },
        (Method::GET, ["contacts", id, "companies"]) => match w.contact(id) {
            Some(c) => {
                let cs: Vec<&Value> = c["companies"]["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| w.companies.iter().find(|y| y["id"] == x["id"]))
                    .collect();
                Json(json!({"type": "list", "data": cs, "total_count": cs.len(), "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": 1}})).into_response()
            }
            None => not_found("User"),
        },
        (Method::GET, ["contacts", id, "segments"]) => {
            match w.contact_segments.iter().find(|(c, _)| c == id) {
                Some((_, ids)) => {
                    let s: Vec<&Value> = ids
                        .iter()
                        .filter_map(|i| w.segments.iter().find(|x| x["id"] == i.as_str()))
                        .collect();
                    Json(json!({"type": "list", "data": s})).into_response()
                }
                None => not_found("User"),
            }
        }
        (Method::GET, ["conversations"]) => {
            let offset = match offset_of(q.get("starting_after").map(String::as_str)) {
                Ok(o) => o,
                Err(r) => return *r,
            };
            let items: Vec<&Value> = w.index.conversation_heads.iter().collect();
            let (data, pages) = page(
                &items,
                offset,
                q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(20),
            );
            let mut v = json!({"type": "conversation.list", "conversations": data, "total_count": items.len(), "pages": pages});
            sign(&st, &mut v);
            Json(v).into_response()
        }
        (Method::POST, ["conversations", "search"]) => {
            let r = search(
                &w.index.conversation_heads,
                &body,
                "conversations",
                "conversation.list",
                Dates::Exact,
            );
            resign(&st, r).await
        }
        (Method::GET, ["conversations", id]) => {
            match w.conversation(id) {
                Some(c) => {
                    let mut c = c.clone();
                    // Only the newest 500 parts; total_count still counts all.
                    if let Some(parts) =
                        c["conversation_parts"]["conversation_parts"].as_array_mut()
                    {
                        if parts.len() > PARTS_CAP {
                            let cut = parts.len() - PARTS_CAP;
                            parts.drain(..cut);
                        }
                    }
                    if q.get("display_as").is_some_and(|d| d == "plaintext") {
                        plaintext(&mut c);
                    }
                    sign(&st, &mut c);
                    Json(c).into_response()
                }
                None => not_found("Conversation"),
            }
        }
        (Method::POST, ["tickets", "search"]) => {
            search(&w.tickets, &body, "tickets", "ticket.list", Dates::Exact)
        }
        (Method::GET, ["tickets", id]) => w
            .tickets
            .iter()
            .find(|t| t["id"] == *id)
            .map(|t| Json(t.clone()).into_response())
            .unwrap_or_else(|| not_found("Ticket")),
        (Method::GET, ["ticket_types"]) => {
            Json(json!({"type": "list", "data": w.ticket_types})).into_response()
        }
        (Method::GET, ["help_center", "collections"]) => numbered(&w.collections, &q),
        (Method::GET, ["articles"]) => {
            // Inline images in article bodies are signed CDN links too.
            let mut items = w.articles.clone();
            items.iter_mut().for_each(|a| sign(&st, a));
            numbered(&items, &q)
        }
        (Method::GET, ["events"]) => events(&st, &q),
        (Method::GET | Method::POST | Method::PUT | Method::DELETE, _) => not_found("Resource"),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method Not Allowed",
        ),
    }
}

/// A search answer with its attachment links signed.
async fn resign(st: &SimState, r: Response) -> Response {
    if !r.status().is_success() {
        return r;
    }
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    sign(st, &mut v);
    Json(v).into_response()
}

/// `display_as=plaintext`: bodies without their markup.
fn plaintext(v: &mut Value) {
    let strip = |s: &str| -> String {
        let mut out = String::new();
        let mut tag = false;
        for ch in s.chars() {
            match ch {
                '<' => tag = true,
                '>' => tag = false,
                c if !tag => out.push(c),
                _ => {}
            }
        }
        out
    };
    if let Some(b) = v["source"]["body"].as_str().map(strip) {
        v["source"]["body"] = json!(b);
    }
    for p in v["conversation_parts"]["conversation_parts"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if let Some(b) = p["body"].as_str().map(strip) {
            p["body"] = json!(b);
        }
    }
}

/// Page-number lists (Help Center): `page`, `per_page`.
fn numbered(items: &[Value], q: &HashMap<String, String>) -> Response {
    let per = q
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 150);
    let page_no = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let start = (page_no - 1) * per;
    let data = items
        .get(start..(start + per).min(items.len()))
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    Json(json!({"type": "list", "pages": {"type": "pages", "page": page_no, "per_page": per, "total_pages": items.len().div_ceil(per).max(1)},
                "total_count": items.len(), "data": data})).into_response()
}

/// `GET /companies/scroll`: one open scroll per app, its param expires
/// after `scroll_idle_secs` unused and once the end (an empty page) is
/// reached; a network failure (`scroll_fail_at`) closes it with a 500.
fn scroll(st: &SimState, param: Option<&str>) -> Response {
    const PER: usize = 15;
    let mut open = st.scroll.lock().unwrap();
    let idle = std::time::Duration::from_secs(st.opts.scroll_idle_secs);
    if open.as_ref().is_some_and(|s| s.used.elapsed() > idle) {
        *open = None;
    }
    let mut s = match (param, open.clone()) {
        (None, Some(_)) => return bad(
            "scroll already exists for this workspace: finish it or wait a minute for it to expire",
        ),
        (None, None) => Scroll {
            param: format!("{:x}-{:x}", st.next(), rand::random::<u32>()),
            next: 0,
            pages: 0,
            used: Instant::now(),
        },
        (Some(p), Some(s)) if s.param == p => s,
        (Some(_), _) => {
            return error(
                StatusCode::NOT_FOUND,
                "scroll_param_not_found",
                "scroll_param expired or not found: start a new scroll",
            )
        }
    };
    s.pages += 1;
    if st.opts.scroll_fail_at == Some(s.pages) && !st.scroll_failed.swap(true, Ordering::Relaxed) {
        *open = None;
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Request failed due to an internal network error. Please restart the scroll operation.",
        );
    }
    let data: Vec<Value> = st
        .ws()
        .companies
        .iter()
        .skip(s.next)
        .take(PER)
        .cloned()
        .collect();
    s.next += data.len();
    s.used = Instant::now();
    let param = s.param.clone();
    *open = if data.is_empty() { None } else { Some(s) };
    Json(json!({"type": "list", "data": data, "pages": null, "total_count": null, "scroll_param": param})).into_response()
}

/// `GET /events?type=user&intercom_user_id=…`: the contact's events of the
/// last 90 days (older ones are only counted by `summary=true`).
fn events(st: &SimState, q: &HashMap<String, String>) -> Response {
    if q.get("type").map(String::as_str) != Some("user") {
        return bad("type=user is required");
    }
    let Some(who) = q
        .get("intercom_user_id")
        .or(q.get("user_id"))
        .or(q.get("email"))
    else {
        return bad("one of intercom_user_id, user_id or email is required");
    };
    let w = st.ws();
    let evs: Vec<Value> = w
        .events
        .iter()
        .filter(|(c, e)| {
            c == who
                || e.iter()
                    .any(|x| x["user_id"] == who.as_str() || x["email"] == who.as_str())
        })
        .flat_map(|(_, e)| e.clone())
        .collect();
    let contact = w.contact(who);
    if q.get("summary").is_some_and(|s| s == "true") {
        let mut by: Vec<(String, Vec<i64>)> = Vec::new();
        for e in &evs {
            let n = e["event_name"].as_str().unwrap_or("").to_string();
            let t = e["created_at"].as_i64().unwrap_or(0);
            match by.iter_mut().find(|(k, _)| *k == n) {
                Some((_, ts)) => ts.push(t),
                None => by.push((n, vec![t])),
            }
        }
        let iso = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        };
        let events: Vec<Value> = by.iter().map(|(n, ts)| json!({"name": n, "first": iso(*ts.iter().min().unwrap()), "last": iso(*ts.iter().max().unwrap()), "count": ts.len(), "description": ""})).collect();
        let mut v = json!({"type": "event.summary", "intercom_user_id": who, "events": events});
        // The spec types both as strings: a lead without them has neither.
        for (key, field) in [("email", "email"), ("user_id", "external_id")] {
            if let Some(s) = contact.and_then(|c| c[field].as_str()) {
                v[key] = json!(s);
            }
        }
        return Json(v).into_response();
    }
    let cutoff = chrono::Utc::now().timestamp() - 90 * 86_400;
    let listed: Vec<Value> = evs
        .into_iter()
        .filter(|e| e["created_at"].as_i64().unwrap_or(0) >= cutoff)
        .collect();
    Json(json!({"type": "event.list", "events": listed, "pages": {}})).into_response()
}
