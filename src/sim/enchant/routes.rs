//! HTTP routes of the Enchant simulator, under `/api/v1` as on
//! `https://{site}.enchant.com/api/v1` (community OpenAPI spec).

// Helpers return the ready HTTP error response as their Err.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::store::{public_customer, Invalid, Store};
use super::{gatekeeper, SimState};

type St = State<Arc<SimState>>;
type Q = Query<HashMap<String, String>>;

pub fn router(state: Arc<SimState>) -> Router {
    let api = Router::new()
        .route("/users", get(list_users))
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/{id}", get(get_customer).patch(update_customer))
        .route("/customers/{id}/contacts", post(create_contact))
        .route(
            "/customers/{id}/contacts/{cid}",
            axum::routing::delete(delete_contact),
        )
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{id}", get(get_ticket).patch(update_ticket))
        .route(
            "/tickets/{id}/labels/{ids}",
            put(add_labels).delete(remove_labels),
        )
        .route("/tickets/{id}/messages", post(create_message))
        .route("/attachments", post(create_attachment))
        .route("/attachments/{id}", get(get_attachment));
    Router::new()
        .nest("/api/v1", api)
        .route("/__sim/stats", get(stats))
        .route("/__sim/dump", get(dump))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gatekeeper,
        ))
        .with_state(state)
}

/// `{"message": …}`, the spec's `Error`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

fn invalid(errors: Invalid) -> Response {
    let errors: Vec<Value> = errors.into_iter().map(|m| json!({"message": m})).collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"message": "Validation Failed", "errors": errors})),
    )
        .into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// A JSON body, or the spec's 415 (not JSON) / 400 (malformed).
fn body(headers: &HeaderMap, bytes: &Bytes) -> Result<Value, Response> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !json {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "Problems parsing JSON"))
}

/// `fields=a,b` trims each object to those fields.
fn trim_fields(v: Value, q: &HashMap<String, String>) -> Value {
    let Some(fields) = q.get("fields") else {
        return v;
    };
    let keep: Vec<&str> = fields.split(',').map(str::trim).collect();
    let trim = |o: Value| match o {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .collect(),
        ),
        x => x,
    };
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(trim).collect()),
        x => trim(x),
    }
}

/// A response body: trimmed by `fields`, wrapped when `envelope=true`
/// (then always HTTP 200), `Location` on a 201.
fn reply(
    status: StatusCode,
    v: Value,
    q: &HashMap<String, String>,
    location: Option<String>,
) -> Response {
    let v = trim_fields(v, q);
    if q.get("envelope").is_some_and(|e| e == "true") {
        return Json(json!({"status": status.as_u16(), "headers": {}, "response": v}))
            .into_response();
    }
    let mut r = (status, Json(v)).into_response();
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert("location", l);
    }
    r
}

/// One page of a bare-array list: `page` from 1, `per_page` 0–100
/// (default 10), `count=true` adds `Total-Count`.
fn page(items: Vec<Value>, q: &HashMap<String, String>) -> Response {
    let per_page: usize = match q.get("per_page").map(|p| p.parse::<usize>()) {
        None => 10,
        Some(Ok(p)) if p <= 100 => p,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "per_page must be between 0 and 100",
            )
        }
    };
    let page_no: usize = match q.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        _ => return error(StatusCode::BAD_REQUEST, "page must be 1 or more"),
    };
    let total = items.len();
    let out: Vec<Value> = items
        .into_iter()
        .skip((page_no - 1) * per_page)
        .take(per_page)
        .collect();
    let mut r = reply(StatusCode::OK, Value::Array(out), q, None);
    if q.get("count").is_some_and(|c| c == "true") {
        r.headers_mut()
            .insert("total-count", HeaderValue::from(total));
    }
    r
}

fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/api/v1")
}

async fn stats(State(st): St) -> Json<Value> {
    // The window lock before the closed list, in the gatekeeper's order.
    let current = st.window.lock().unwrap().1;
    let mut windows = st.closed_windows.lock().unwrap().clone();
    windows.push(current);
    let s = st.store.lock().unwrap();
    Json(json!({
        "requests": st.requests.load(std::sync::atomic::Ordering::Relaxed),
        "throttled": st.throttled.load(std::sync::atomic::Ordering::Relaxed),
        "credits_used": st.credits_used.load(std::sync::atomic::Ordering::Relaxed),
        // Credits per minute window, the current one last.
        "credit_windows": windows,
        "customers": s.customers.len(),
        "tickets": s.tickets.len(),
        "messages": s.messages.values().map(Vec::len).sum::<usize>(),
        "attachments": s.attachments.len(),
        "emails_sent": s.emails_sent,
    }))
}

async fn dump(State(st): St) -> Json<Value> {
    Json(st.store.lock().unwrap().dump())
}

async fn list_users(State(st): St, Query(q): Q) -> Response {
    let users = st.store.lock().unwrap().users.clone();
    page(users, &q)
}

async fn list_customers(State(st): St, Query(q): Q) -> Response {
    let s = st.store.lock().unwrap();
    let since = q.get("since_created_at");
    let contact = (q.get("contacts.type"), q.get("contacts.value"));
    let list: Vec<Value> = s
        .customers
        .values()
        .filter(|c| since.is_none_or(|t| c["created_at"].as_str().is_some_and(|x| x >= t.as_str())))
        .filter(|c| match contact {
            (None, None) => true,
            (ty, Some(val)) => c["contacts"].as_array().is_some_and(|l| {
                l.iter().any(|x| {
                    ty.is_none_or(|t| x["type"] == t.as_str())
                        && x["value"]
                            .as_str()
                            .is_some_and(|v| v.eq_ignore_ascii_case(val))
                })
            }),
            (Some(t), None) => c["contacts"]
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x["type"] == t.as_str())),
        })
        .map(public_customer)
        .collect();
    page(list, &q)
}

async fn create_customer(State(st): St, Query(q): Q, headers: HeaderMap, bytes: Bytes) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let bad = s.customer_invalid(&v);
    if !bad.is_empty() {
        return invalid(bad);
    }
    let c = s.create_customer(&v);
    let loc = format!(
        "{}/customers/{}",
        base_of(&headers),
        c["id"].as_str().unwrap_or("")
    );
    reply(StatusCode::CREATED, c, &q, Some(loc))
}

async fn get_customer(State(st): St, Path(id): Path<String>, Query(q): Q) -> Response {
    match st.store.lock().unwrap().customers.get(&id) {
        Some(c) => reply(StatusCode::OK, public_customer(c), &q, None),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn update_customer(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    if !s.customers.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let bad = s.customer_invalid(&v);
    if !bad.is_empty() {
        return invalid(bad);
    }
    let mut new_contacts = Vec::new();
    for c in v["contacts"].as_array().cloned().unwrap_or_default() {
        let cid = s.id(0x61c0_0000);
        new_contacts.push(json!({"id": cid, "type": c["type"], "value": c["value"]}));
    }
    let c = s.customers.get_mut(&id).unwrap();
    for k in ["first_name", "last_name", "summary"] {
        if let Some(x) = v.get(k) {
            c[k] = x.clone();
        }
    }
    if v.get("contacts").is_some() {
        c["contacts"] = json!(new_contacts);
    }
    let out = public_customer(c);
    reply(StatusCode::OK, out, &q, None)
}

async fn create_contact(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    if !s.customers.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let bad = s.customer_invalid(&json!({"contacts": [v.clone()]}));
    if !bad.is_empty() {
        return invalid(bad);
    }
    let cid = s.id(0x61c0_0000);
    let contact = json!({"id": cid, "type": v["type"], "value": v["value"]});
    if let Some(l) = s.customers.get_mut(&id).unwrap()["contacts"].as_array_mut() {
        l.push(contact.clone());
    }
    let loc = format!("{}/customers/{id}/contacts/{cid}", base_of(&headers));
    reply(StatusCode::CREATED, contact, &q, Some(loc))
}

async fn delete_contact(State(st): St, Path((id, cid)): Path<(String, String)>) -> Response {
    let mut s = st.store.lock().unwrap();
    let Some(c) = s.customers.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(l) = c["contacts"].as_array_mut() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let before = l.len();
    l.retain(|x| x["id"] != cid.as_str());
    if l.len() == before {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Comma-separated filter values.
fn any_of(q: &HashMap<String, String>, k: &str, v: &Value) -> bool {
    q.get(k).is_none_or(|list| {
        list.split(',').any(|x| match v {
            Value::Null => x == "null",
            Value::String(s) => s == x,
            Value::Array(a) => a.iter().any(|i| i == x),
            Value::Bool(b) => (if *b { "true" } else { "false" }) == x,
            other => other.as_str() == Some(x),
        })
    })
}

async fn list_tickets(State(st): St, Query(q): Q) -> Response {
    let s = st.store.lock().unwrap();
    let mut list: Vec<Value> = s
        .tickets
        .values()
        .filter(|t| {
            any_of(&q, "id", &t["id"])
                && any_of(&q, "inbox_id", &t["inbox_id"])
                && any_of(&q, "state", &t["state"])
                && any_of(&q, "user_id", &t["user_id"])
                && any_of(&q, "label_id", &t["label_ids"])
                && any_of(&q, "type", &t["type"])
                && any_of(&q, "spam", &t["spam"])
                && any_of(&q, "trash", &t["trash"])
                && q.get("since_created_at")
                    .is_none_or(|x| t["created_at"].as_str().is_some_and(|c| c >= x.as_str()))
                && q.get("since_updated_at")
                    .is_none_or(|x| t["updated_at"].as_str().is_some_and(|c| c >= x.as_str()))
        })
        .cloned()
        .collect();
    let sort = q.get("sort").map(String::as_str).unwrap_or("-created_at");
    let key = |t: &Value, f: &str| {
        format!(
            "{}|{:012}",
            t[f].as_str().unwrap_or(""),
            t["number"].as_u64().unwrap_or(0)
        )
    };
    match sort {
        "created_at" => list.sort_by_key(|t| key(t, "created_at")),
        "-created_at" => list.sort_by_key(|t| std::cmp::Reverse(key(t, "created_at"))),
        "updated_at" => list.sort_by_key(|t| key(t, "updated_at")),
        "-updated_at" => list.sort_by_key(|t| std::cmp::Reverse(key(t, "updated_at"))),
        "user_id,-updated_at" => list.sort_by(|a, b| {
            a["user_id"].as_str().cmp(&b["user_id"].as_str()).then(key(b, "updated_at").cmp(&key(a, "updated_at")))
        }),
        _ => return error(StatusCode::BAD_REQUEST, "sort must be one of updated_at, -updated_at, created_at, -created_at, user_id,-updated_at"),
    }
    page(list, &q)
}

async fn create_ticket(State(st): St, Query(q): Q, headers: HeaderMap, bytes: Bytes) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    let bad = s.ticket_invalid(&v);
    if !bad.is_empty() {
        return invalid(bad);
    }
    let t = s.create_ticket(&v);
    let loc = format!(
        "{}/tickets/{}",
        base_of(&headers),
        t["id"].as_str().unwrap_or("")
    );
    reply(StatusCode::CREATED, t, &q, Some(loc))
}

async fn get_ticket(State(st): St, Path(id): Path<String>, Query(q): Q) -> Response {
    let embed: Vec<&str> = q
        .get("embed")
        .map(|e| e.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if let Some(bad) = embed
        .iter()
        .find(|e| !["user", "inbox", "customer", "labels", "messages", "group"].contains(e))
    {
        return error(StatusCode::BAD_REQUEST, &format!("unknown embed {bad}"));
    }
    match st.store.lock().unwrap().ticket_with(&id, &embed) {
        Some(t) => reply(StatusCode::OK, t, &q, None),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn update_ticket(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    if !s.tickets.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let bad = s.ticket_update_invalid(&v);
    if !bad.is_empty() {
        return invalid(bad);
    }
    let t = s.update_ticket(&id, &v);
    reply(StatusCode::OK, t, &q, None)
}

fn change_labels(st: &SimState, id: &str, ids: &str, add: bool) -> Response {
    let mut s = st.store.lock().unwrap();
    let ids: Vec<String> = ids.split(',').map(|x| x.trim().to_string()).collect();
    if ids
        .iter()
        .any(|l| !s.labels.iter().any(|x| x["id"] == l.as_str()))
    {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(t) = s.tickets.get_mut(id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut have: Vec<String> = t["label_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    if add {
        for l in ids {
            if !have.contains(&l) {
                have.push(l);
            }
        }
    } else {
        have.retain(|l| !ids.contains(l));
    }
    t["label_ids"] = json!(have);
    StatusCode::NO_CONTENT.into_response()
}

async fn add_labels(State(st): St, Path((id, ids)): Path<(String, String)>) -> Response {
    change_labels(&st, &id, &ids, true)
}

async fn remove_labels(State(st): St, Path((id, ids)): Path<(String, String)>) -> Response {
    change_labels(&st, &id, &ids, false)
}

async fn create_message(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut s = st.store.lock().unwrap();
    if !s.tickets.contains_key(&id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let bad = s.message_invalid(&v);
    if !bad.is_empty() {
        return invalid(bad);
    }
    let m = s.add_message(&id, &v);
    reply(StatusCode::CREATED, m, &q, None)
}

async fn create_attachment(
    State(st): St,
    Query(q): Q,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let v = match body(&headers, &bytes) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let data = match Store::attachment_invalid(&v, st.opts.max_attachment_bytes) {
        Ok(d) => d,
        Err(bad) => return invalid(bad),
    };
    let a = st.store.lock().unwrap().add_attachment(&v, data);
    let loc = format!(
        "{}/attachments/{}",
        base_of(&headers),
        a["id"].as_str().unwrap_or("")
    );
    reply(StatusCode::CREATED, a, &q, Some(loc))
}

async fn get_attachment(State(st): St, Path(id): Path<String>, Query(q): Q) -> Response {
    match st.store.lock().unwrap().attachments.get(&id) {
        Some(a) => reply(StatusCode::OK, a.meta.clone(), &q, None),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}
