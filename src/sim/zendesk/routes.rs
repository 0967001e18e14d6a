//! HTTP routes of the Zendesk simulator.

// Helpers return the ready HTTP error response as their Err.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::paging::{base_url, page};
use super::reads::with_url;
use super::store::{parse_record_id, record_invalid, Invalid};
use super::{error, gatekeeper, SimState};

type St = State<Arc<SimState>>;
type Q = Query<HashMap<String, String>>;

/// Items per bulk request.
const BULK_MAX: usize = 100;
/// Largest upload.
const UPLOAD_MAX: usize = 50 * 1024 * 1024;

pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/api/v2/organizations/create_many", post(orgs_create_many))
        .route("/api/v2/organizations/show_many", get(show_many_orgs))
        .route(
            "/api/v2/organizations/destroy_many",
            delete(destroy_many_orgs),
        )
        .route(
            "/api/v2/users/create_or_update_many",
            post(users_create_or_update_many),
        )
        .route("/api/v2/users/create_many", post(users_create_many))
        .route("/api/v2/users/show_many", get(show_many_users))
        .route("/api/v2/users/destroy_many", delete(destroy_many_users))
        .route(
            "/api/v2/users/{id}/identities",
            post(create_identity).get(list_identities),
        )
        .route("/api/v2/groups", post(create_group).get(list_groups))
        .route("/api/v2/group_memberships", get(list_memberships))
        .route("/api/v2/groups/{id}", delete(destroy_group))
        .route("/api/v2/uploads/{token}", delete(destroy_upload))
        .route("/api/v2/group_memberships/{id}", delete(destroy_membership))
        .route(
            "/api/v2/custom_objects/{key}",
            delete(destroy_custom_object),
        )
        .route(
            "/api/v2/custom_objects/{key}/records/{id}",
            delete(destroy_record),
        )
        .route(
            "/api/v2/group_memberships/create_many",
            post(memberships_create_many),
        )
        .route("/api/v2/uploads", post(upload))
        .route(
            "/api/v2/user_fields",
            post(create_user_field).get(list_user_fields),
        )
        .route(
            "/api/v2/organization_fields",
            post(create_org_field).get(list_org_fields),
        )
        .route(
            "/api/v2/ticket_fields",
            post(create_ticket_field).get(list_ticket_fields),
        )
        .route("/api/v2/user_fields/{id}", delete(destroy_user_field))
        .route(
            "/api/v2/organization_fields/{id}",
            delete(destroy_org_field),
        )
        .route("/api/v2/ticket_fields/{id}", delete(destroy_ticket_field))
        .route("/api/v2/imports/tickets/create_many", post(import_tickets))
        .route("/api/v2/imports/tickets", post(import_ticket))
        .route(
            "/api/v2/tickets",
            get(list_tickets).post(super::updates::create_ticket),
        )
        .route("/api/v2/tickets/count", get(count_tickets))
        .route("/api/v2/users/count", get(count_users))
        .route("/api/v2/organizations/count", get(count_orgs))
        .route("/api/v2/tickets/show_many", get(show_many_tickets))
        .route(
            "/api/v2/tickets/{id}",
            get(show_ticket)
                .put(super::updates::update_ticket)
                .delete(super::updates::destroy_ticket),
        )
        .route("/api/v2/tickets/{id}/comments", get(ticket_comments))
        .route("/attachments/token/{token}/", get(attachment_bytes))
        .route("/api/v2/tickets/destroy_many", delete(destroy_many_tickets))
        .route("/api/v2/job_statuses/show_many", get(job_statuses_many))
        .route("/api/v2/job_statuses/{id}", get(job_status))
        .route("/api/v2/custom_objects", post(create_custom_object))
        .route(
            "/api/v2/custom_objects/{key}/fields",
            post(create_custom_object_field).get(list_custom_object_fields),
        )
        .route(
            "/api/v2/custom_objects/{key}/jobs",
            post(custom_object_jobs),
        )
        .route(
            "/api/v2/custom_objects/{key}/records",
            get(custom_object_records),
        )
        .merge(super::reads::routes())
        // Uploads up to 50 MB; other bodies up to 16 MB.
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_MAX + 1024))
        .route("/api/v2/triggers/active", get(active_triggers))
        .route("/api/v2/automations/active", get(active_automations))
        .route("/__sim/stats", get(stats))
        .route("/__sim/dump", get(dump))
        .route("/__sim/tamper", post(tamper))
        .route("/__sim/users", post(seed_users))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gatekeeper,
        ))
        .with_state(state)
}

fn invalid_response(errs: &[Invalid]) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, record_invalid(errs))
}

/// Validates the bulk envelope: `{key: [..≤100..]}`.
fn items(body: &Value, key: &str) -> Result<Vec<Value>, Response> {
    let Some(list) = body.get(key).and_then(|v| v.as_array()) else {
        return Err(invalid_response(&[(
            key.to_string(),
            format!("{key}: must be an array"),
        )]));
    };
    if list.len() > BULK_MAX {
        return Err(invalid_response(&[(
            key.to_string(),
            format!("{key}: at most {BULK_MAX} items per request"),
        )]));
    }
    Ok(list.clone())
}

/// Which documented result shape a bulk job reports per item.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Bulk create (`organizations/create_many`, `imports/tickets/create_many`,
    /// `group_memberships/create_many`, custom object record jobs): `{id,
    /// index}` (Job Statuses API, "Bulk create"); a failed item `{index,
    /// error, details}`.
    Create,
    /// `users/create_or_update_many`: `{id, status: Created|Updated, email}`
    /// in request order and no `index`; a failed item `{id: <placeholder>,
    /// error, details, status: "Failed"}` (Zendesk developer advocate,
    /// community post 4408861015066).
    UsersUpsert,
}

fn result_item(
    shape: Shape,
    i: usize,
    item: &Value,
    r: Result<(Value, &str), Vec<Invalid>>,
) -> Value {
    let details = |errs: &[Invalid]| {
        errs.iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    match (shape, r) {
        (Shape::Create, Ok((id, _))) => json!({"id": id, "index": i}),
        (Shape::Create, Err(errs)) => {
            json!({"index": i, "error": "RecordInvalid", "details": details(&errs)})
        }
        (Shape::UsersUpsert, Ok((id, status))) => {
            json!({"id": id, "status": status, "email": item["email"]})
        }
        // The placeholder id of a failed item is a small number with no
        // meaning (the advocate's example shows 1 and 2).
        (Shape::UsersUpsert, Err(errs)) => json!({"id": (i % 2) + 1, "error": "UserUpdateError",
            "details": details(&errs), "status": "Failed"}),
    }
}

/// A job doing `work` (results, comments carried), or 429 TooManyJobs
/// without doing it when the account has `MAX_JOBS` queued or running.
fn job_response(st: &SimState, work: impl FnOnce() -> (Vec<Value>, usize)) -> Response {
    match st.enqueue(work) {
        Some(status) => Json(status).into_response(),
        None => too_many_jobs(),
    }
}

/// 429 TooManyJobs ("Job limit", Zendesk's rate-limits reference: a
/// limit on jobs queued or running, not on requests).
fn too_many_jobs() -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "TooManyJobs", "description": format!("Number of queued or running jobs exceeds {}", super::MAX_JOBS)}),
    );
    r.headers_mut()
        .insert("retry-after", axum::http::HeaderValue::from(1));
    r
}

/// A bulk create: validates the envelope, applies `create` to each item
/// under the store lock, and answers with a job whose results are per item.
fn bulk_job(
    st: &SimState,
    shape: Shape,
    body: &Value,
    key: &str,
    create: impl Fn(&mut super::store::Store, &Value) -> Result<(Value, &'static str), Vec<Invalid>>,
) -> Response {
    let list = match items(body, key) {
        Ok(l) => l,
        Err(r) => return r,
    };
    // Each comment of a ticket import is a record of its own to write.
    let comments = list
        .iter()
        .map(|i| i["comments"].as_array().map_or(0, Vec::len))
        .sum();
    job_response(st, || {
        let mut store = st.store.lock().unwrap();
        let results = list
            .iter()
            .enumerate()
            .map(|(i, item)| result_item(shape, i, item, create(&mut store, item)))
            .collect();
        (results, comments)
    })
}

async fn orgs_create_many(State(st): St, Json(body): Json<Value>) -> Response {
    bulk_job(&st, Shape::Create, &body, "organizations", |s, o| {
        s.create_organization(o).map(|id| (json!(id), "Created"))
    })
}

/// Bulk user imports are off unless the account asked Zendesk to turn
/// them on: "A 403 Forbidden error is returned if data imports are not
/// enabled" (official spec, Create Many Users / Create Or Update Many
/// Users). The body is Zendesk's usual 403 shape.
fn bulk_users_forbidden(st: &SimState) -> Option<Response> {
    (!st.opts.bulk_user_imports).then(|| {
        error(
            StatusCode::FORBIDDEN,
            json!({"error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."}),
        )
    })
}

/// A verification or welcome email goes out for a user or identity
/// created without `skip_verify_email` (official spec: "If you need to
/// create users without sending out a verification email, include a
/// `skip_verify_email: true` property"; the same for identities). The
/// simulator counts them (`emails_sent` in `/__sim/stats`) instead.
pub(super) fn count_email(st: &SimState, item: &Value, body: &Value) {
    let skip = item["skip_verify_email"] == json!(true) || body["skip_verify_email"] == json!(true);
    if !skip && (item["email"].is_string() || item["type"] == "email") {
        st.emails_sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

async fn users_create_or_update_many(State(st): St, Json(body): Json<Value>) -> Response {
    if let Some(r) = bulk_users_forbidden(&st) {
        return r;
    }
    bulk_job(&st, Shape::UsersUpsert, &body, "users", |s, u| {
        let r = s.create_or_update_user(u);
        if let Ok((_, true)) = r {
            count_email(&st, u, &Value::Null);
        }
        r.map(|(id, created)| (json!(id), if created { "Created" } else { "Updated" }))
    })
}

async fn users_create_many(State(st): St, Json(body): Json<Value>) -> Response {
    if let Some(r) = bulk_users_forbidden(&st) {
        return r;
    }
    bulk_job(&st, Shape::Create, &body, "users", |s, u| {
        let r = s.create_user(u);
        if r.is_ok() {
            count_email(&st, u, &Value::Null);
        }
        r.map(|id| (json!(id), "Created"))
    })
}

/// `POST /api/v2/users` (Create User): 201 with the user.
pub(super) async fn create_user(State(st): St, Json(body): Json<Value>) -> Response {
    let u = &body["user"];
    let r = st.store.lock().unwrap().create_user(u);
    match r {
        Ok(id) => {
            count_email(&st, u, &body);
            let rec = st.store.lock().unwrap().users[&id].clone();
            (StatusCode::CREATED, Json(json!({"user": rec}))).into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

/// `PUT /api/v2/users/{id}` (Update User).
pub(super) async fn update_user(
    State(st): St,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    let r = st.store.lock().unwrap().update_user(id, &body["user"]);
    match r {
        Ok(rec) => Json(json!({"user": rec})).into_response(),
        Err(e) if e.iter().any(|(f, _)| f == "id") => not_found(),
        Err(e) => invalid_response(&e),
    }
}

async fn memberships_create_many(State(st): St, Json(body): Json<Value>) -> Response {
    bulk_job(&st, Shape::Create, &body, "group_memberships", |s, m| {
        s.create_membership(m).map(|id| (json!(id), "Created"))
    })
}

/// `archive_immediately=true` sends closed tickets straight to the archive:
/// they stay readable by id but leave list views (recorded as `archived`).
fn archive_flag(q: &HashMap<String, String>) -> bool {
    q.get("archive_immediately").is_some_and(|v| v == "true")
}

fn import_one(s: &mut super::store::Store, t: &Value, archive: bool) -> Result<u64, Vec<Invalid>> {
    let id = s.import_ticket(t)?;
    if archive && t["status"] == "closed" {
        s.tickets.get_mut(&id).unwrap()["archived"] = json!(true);
    }
    Ok(id)
}

async fn import_tickets(State(st): St, Query(q): Q, Json(body): Json<Value>) -> Response {
    let archive = archive_flag(&q);
    bulk_job(&st, Shape::Create, &body, "tickets", |s, t| {
        import_one(s, t, archive).map(|id| (json!(id), "Created"))
    })
}

/// `POST /api/v2/imports/tickets`: one ticket, answered synchronously.
async fn import_ticket(State(st): St, Query(q): Q, Json(body): Json<Value>) -> Response {
    let mut store = st.store.lock().unwrap();
    match import_one(&mut store, &body["ticket"], archive_flag(&q)) {
        Ok(id) => (
            StatusCode::CREATED,
            Json(json!({"ticket": store.ticket_view(id)})),
        )
            .into_response(),
        Err(e) => invalid_response(&e),
    }
}

fn create_field(st: &SimState, kind: &'static str, one: &str, body: &Value) -> Response {
    match st.store.lock().unwrap().create_field(kind, &body[one]) {
        Ok(id) => {
            let mut rec = body[one].clone();
            rec["id"] = json!(id);
            (StatusCode::CREATED, Json(json!({ one: rec }))).into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

fn list_fields(
    st: &SimState,
    kind: &'static str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let store = st.store.lock().unwrap();
    let list: Vec<Value> = store
        .fields
        .get(kind)
        .map(|m| {
            m.values()
                .map(|f| with_url(f.clone(), headers, kind))
                .collect()
        })
        .unwrap_or_default();
    Json(page(list, kind, q, headers, &format!("/api/v2/{kind}"))).into_response()
}

fn destroy_field(st: &SimState, kind: &'static str, id: u64) -> Response {
    if st.store.lock().unwrap().destroy(kind, &[id]) == 1 {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

async fn create_user_field(State(st): St, Json(body): Json<Value>) -> Response {
    create_field(&st, "user_fields", "user_field", &body)
}
async fn create_org_field(State(st): St, Json(body): Json<Value>) -> Response {
    create_field(&st, "organization_fields", "organization_field", &body)
}
async fn create_ticket_field(State(st): St, Json(body): Json<Value>) -> Response {
    create_field(&st, "ticket_fields", "ticket_field", &body)
}
async fn list_user_fields(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    list_fields(&st, "user_fields", &q, &headers)
}
async fn list_org_fields(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    list_fields(&st, "organization_fields", &q, &headers)
}
async fn list_ticket_fields(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    list_fields(&st, "ticket_fields", &q, &headers)
}
async fn destroy_user_field(State(st): St, Path(id): Path<u64>) -> Response {
    destroy_field(&st, "user_fields", id)
}
async fn destroy_org_field(State(st): St, Path(id): Path<u64>) -> Response {
    destroy_field(&st, "organization_fields", id)
}
async fn destroy_ticket_field(State(st): St, Path(id): Path<u64>) -> Response {
    destroy_field(&st, "ticket_fields", id)
}

fn count_of(st: &SimState, object: &str) -> Response {
    let store = st.store.lock().unwrap();
    let n = match object {
        "tickets" => store.tickets.len(),
        "users" => store.users.len(),
        _ => store.organizations.len(),
    };
    Json(json!({"count": {"value": n, "refreshed_at": chrono::Utc::now().to_rfc3339()}}))
        .into_response()
}

async fn count_tickets(State(st): St) -> Response {
    count_of(&st, "tickets")
}

async fn count_users(State(st): St) -> Response {
    count_of(&st, "users")
}

async fn count_orgs(State(st): St) -> Response {
    count_of(&st, "organizations")
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!({"error": "RecordNotFound", "description": "Not found"}),
    )
}

fn id_list(q: &HashMap<String, String>) -> Vec<u64> {
    list_param(q, "ids")
        .iter()
        .filter_map(|i| i.parse().ok())
        .collect()
}

async fn show_many_tickets(State(st): St, Query(q): Q) -> Response {
    let ids = id_list(&q);
    Json(json!({"tickets": st.store.lock().unwrap().by_ids("tickets", &ids)})).into_response()
}

async fn show_ticket(State(st): St, Path(id): Path<u64>, headers: HeaderMap) -> Response {
    match st.store.lock().unwrap().ticket_view(id) {
        Some(t) => Json(json!({"ticket": with_url(t, &headers, "tickets")})).into_response(),
        None => not_found(),
    }
}

/// Comments oldest first, 100 a page ("List Comments": offset or cursor
/// pagination; `sort_order=desc` reverses).
async fn ticket_comments(
    State(st): St,
    Path(id): Path<u64>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    match st.store.lock().unwrap().ticket_comments(id) {
        Some(mut c) => {
            if q.get("sort_order").is_some_and(|o| o == "desc") {
                c.reverse();
            }
            Json(page(
                c,
                "comments",
                &q,
                &headers,
                &format!("/api/v2/tickets/{id}/comments"),
            ))
            .into_response()
        }
        None => not_found(),
    }
}

async fn attachment_bytes(State(st): St, Path(token): Path<String>, Query(q): Q) -> Response {
    let name = q.get("name").cloned().unwrap_or_default();
    match st.store.lock().unwrap().files.get(&(token, name)) {
        Some(b) => b.clone().into_response(),
        None => not_found(),
    }
}

/// Test hook: change what the destination holds behind ferry's back
/// (`{"ticket_id", "comment_index", "body"}`), so `ferry verify` can be
/// shown to catch it.
async fn tamper(State(st): St, Json(body): Json<Value>) -> Response {
    let mut store = st.store.lock().unwrap();
    let Some(t) = body["ticket_id"]
        .as_u64()
        .and_then(|id| store.tickets.get_mut(&id))
    else {
        return not_found();
    };
    let i = body["comment_index"].as_u64().unwrap_or(0) as usize;
    let Some(c) = t["comments"].get_mut(i) else {
        return not_found();
    };
    c["html_body"] = body["body"].clone();
    c["body"] = body["body"].clone();
    Json(json!({"ok": true})).into_response()
}

async fn custom_object_jobs(
    State(st): St,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let job = body.get("job").cloned().unwrap_or(Value::Null);
    // ferry sends `create` and `update` (official spec, Custom Object
    // Record Bulk Jobs: "For an \"update\" action, an array of JSON
    // objects representing the custom object records being updated").
    let update = job["action"] == "update";
    if job["action"] != "create" && !update {
        return invalid_response(&[(
            "action".into(),
            "only `create` and `update` are supported".into(),
        )]);
    }
    // A records job's results are the records themselves (official spec,
    // CustomObjectRecordsJobsResponse: `results` items are
    // CustomObjectRecord, string ids), and its id is a "V3-" one as in
    // the spec's example, so a client can tell it from a Support job.
    let list = match items(&job, "items") {
        Ok(l) => l,
        Err(r) => return r,
    };
    let work = || {
        let mut store = st.store.lock().unwrap();
        let results = list
            .iter()
            .enumerate()
            .map(|(i, item)| {
                match if update {
                    store.update_custom_object_record(&key, item)
                } else {
                    store.create_custom_object_record(&key, item)
                } {
                    Ok(id) => store.custom_object_records[&id].clone(),
                    Err(errs) => result_item(Shape::Create, i, item, Err(errs)),
                }
            })
            .collect();
        (results, 0)
    };
    match st.enqueue_as("V3-", work) {
        // "201 Created" (official spec, Custom Object Record Bulk Jobs).
        Some(status) => (StatusCode::CREATED, Json(status)).into_response(),
        None => too_many_jobs(),
    }
}

/// `GET /api/v2/job_statuses/show_many?ids=a,b` (official spec,
/// ShowManyJobStatuses): the statuses of the ids the account still keeps.
async fn job_statuses_many(State(st): St, Query(q): Q) -> Response {
    let ids = list_param(&q, "ids");
    if ids.is_empty() {
        return invalid_response(&[("ids".into(), "ids: required".into())]);
    }
    if ids.len() > BULK_MAX {
        return invalid_response(&[("ids".into(), format!("ids: at most {BULK_MAX}"))]);
    }
    Json(json!({"job_statuses": st.jobs_of(&ids)})).into_response()
}

async fn job_status(State(st): St, Path(id): Path<String>) -> Response {
    match st.job(&id) {
        Some(v) => Json(v).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        ),
    }
}

async fn create_identity(State(st): St, Path(id): Path<u64>, Json(body): Json<Value>) -> Response {
    let r = st
        .store
        .lock()
        .unwrap()
        .create_identity(id, &body["identity"]);
    if r.is_ok() {
        count_email(&st, &body["identity"], &body);
    }
    match r {
        // The identity as the spec's UserIdentityObject has it.
        Ok(iid) => {
            let mut rec = st.store.lock().unwrap().identities[&iid].clone();
            rec["verified"] = json!(body["identity"]["verified"] == json!(true));
            rec["primary"] = json!(false);
            rec["created_at"] = json!(super::store::now_iso());
            rec["updated_at"] = rec["created_at"].clone();
            (StatusCode::CREATED, Json(json!({ "identity": rec }))).into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

async fn create_group(State(st): St, Json(body): Json<Value>) -> Response {
    let r = st.store.lock().unwrap().create_group(&body["group"]);
    match r {
        Ok(id) => {
            let rec = st.store.lock().unwrap().groups[&id].clone();
            (StatusCode::CREATED, Json(json!({"group": rec}))).into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

async fn upload(State(st): St, Query(q): Q, headers: HeaderMap, body: Bytes) -> Response {
    let limit = (st.opts.attachment_size as usize).min(UPLOAD_MAX);
    if body.len() > limit {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "FileTooLarge", "description": format!("Attachments are limited to {limit} bytes")}),
        );
    }
    let Some(name) = q.get("filename").filter(|n| !n.is_empty()) else {
        return invalid_response(&[("filename".into(), "filename: cannot be blank".into())]);
    };
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/binary");
    let v = st.store.lock().unwrap().create_upload(
        &base_url(&headers),
        name,
        ctype,
        &body,
        q.get("token").cloned(),
    );
    (StatusCode::CREATED, Json(v)).into_response()
}

async fn create_custom_object(State(st): St, Json(body): Json<Value>) -> Response {
    let r = st
        .store
        .lock()
        .unwrap()
        .create_custom_object(&body["custom_object"]);
    match r {
        // The object as created (official spec, CustomObjectResponse:
        // key, title, title_pluralized…), without its field list.
        Ok(key) => {
            let mut rec = st.store.lock().unwrap().custom_objects[&key].clone();
            if let Some(o) = rec.as_object_mut() {
                o.remove("fields");
            }
            (StatusCode::CREATED, Json(json!({ "custom_object": rec }))).into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

async fn create_custom_object_field(
    State(st): St,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let r = st
        .store
        .lock()
        .unwrap()
        .create_custom_object_field(&key, &body["custom_object_field"]);
    match r {
        // The field as created (official spec, CustomObjectFieldResponse).
        Ok(id) => {
            let store = st.store.lock().unwrap();
            let rec = store.custom_objects[&key]["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["id"] == json!(id)).cloned())
                .unwrap_or_else(|| json!({ "id": id }));
            (
                StatusCode::CREATED,
                Json(json!({ "custom_object_field": rec })),
            )
                .into_response()
        }
        Err(e) => invalid_response(&e),
    }
}

async fn list_custom_object_fields(State(st): St, Path(key): Path<String>) -> Response {
    let store = st.store.lock().unwrap();
    match store.custom_objects.get(&key) {
        Some(o) => Json(json!({"custom_object_fields": o["fields"]})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        ),
    }
}

fn list_param<'a>(q: &'a HashMap<String, String>, key: &str) -> Vec<&'a str> {
    q.get(key)
        .map(|v| v.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

async fn show_many_orgs(State(st): St, Query(q): Q) -> Response {
    let store = st.store.lock().unwrap();
    let orgs = if q.contains_key("ids") {
        store.by_ids("organizations", &id_list(&q))
    } else {
        store.by_external_ids("organizations", &list_param(&q, "external_ids"))
    };
    Json(json!({"organizations": orgs})).into_response()
}

async fn show_many_users(State(st): St, Query(q): Q) -> Response {
    let store = st.store.lock().unwrap();
    let users = if q.contains_key("ids") {
        store.by_ids("users", &id_list(&q))
    } else {
        store.by_external_ids("users", &list_param(&q, "external_ids"))
    };
    Json(json!({"users": users})).into_response()
}

/// `GET /api/v2/tickets`: every ticket, or those with one `external_id`
/// (the parameter takes a single value; several tickets may share it).
/// Archived tickets are left out, as the real list does.
async fn list_tickets(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let store = st.store.lock().unwrap();
    let list: Vec<Value> = match q.get("external_id") {
        Some(ext) => store.by_external_ids("tickets", &[ext.as_str()]),
        None => store
            .tickets
            .keys()
            .filter_map(|id| store.ticket_view(*id))
            .collect(),
    };
    let list = list
        .into_iter()
        .filter(|t| t["archived"] != Value::Bool(true))
        .map(|t| with_url(t, &headers, "tickets"))
        .collect();
    Json(page(list, "tickets", &q, &headers, "/api/v2/tickets")).into_response()
}

/// Records of one custom object: all of them, or those named by
/// `filter[external_ids]` / `filter[ids]`. Cursor pagination only
/// (Custom Object Records API), so every answer has `meta` and `links`.
async fn custom_object_records(
    State(st): St,
    Path(key): Path<String>,
    Query(mut q): Q,
    headers: HeaderMap,
) -> Response {
    let store = st.store.lock().unwrap();
    if !store.custom_objects.contains_key(&key) {
        return not_found();
    }
    let exts = list_param(&q, "filter[external_ids]");
    let ids = list_param(&q, "filter[ids]");
    let base = base_url(&headers);
    let recs: Vec<Value> = store
        .custom_object_records
        .values()
        .filter(|r| r["custom_object_key"] == key.as_str())
        .filter(|r| exts.is_empty() || r["external_id"].as_str().is_some_and(|e| exts.contains(&e)))
        .filter(|r| ids.is_empty() || r["id"].as_str().is_some_and(|i| ids.contains(&i)))
        .map(|r| {
            let mut r = r.clone();
            r["url"] = json!(format!(
                "{base}/api/v2/custom_objects/{key}/records/{}.json",
                r["id"].as_str().unwrap_or("")
            ));
            r
        })
        .collect();
    q.entry("page[size]".into()).or_insert_with(|| "100".into());
    Json(page(
        recs,
        "custom_object_records",
        &q,
        &headers,
        &format!("/api/v2/custom_objects/{key}/records"),
    ))
    .into_response()
}

fn destroy(st: &SimState, object: &str, q: &HashMap<String, String>) -> Response {
    let ids: Vec<u64> = list_param(q, "ids")
        .iter()
        .filter_map(|i| i.parse().ok())
        .collect();
    if ids.len() > BULK_MAX {
        return invalid_response(&[("ids".into(), format!("ids: at most {BULK_MAX}"))]);
    }
    // Bulk delete results name each id with its action (Job Statuses API,
    // "Bulk update": `{id, action, success, status}`).
    job_response(st, || {
        let gone = st.store.lock().unwrap().destroy_ids(object, &ids);
        let results = gone
            .into_iter()
            .map(|id| json!({"id": id, "action": "destroy", "success": true, "status": "Deleted"}))
            .collect();
        (results, 0)
    })
}

async fn destroy_many_orgs(State(st): St, Query(q): Q) -> Response {
    destroy(&st, "organizations", &q)
}

async fn destroy_many_users(State(st): St, Query(q): Q) -> Response {
    destroy(&st, "users", &q)
}

async fn destroy_many_tickets(State(st): St, Query(q): Q) -> Response {
    destroy(&st, "tickets", &q)
}

/// A user's identities: the primary email first (Zendesk makes one for
/// the `email` a user is created with, "primary": true), then the others.
async fn list_identities(
    State(st): St,
    Path(id): Path<u64>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let store = st.store.lock().unwrap();
    let Some(user) = store.users.get(&id) else {
        return not_found();
    };
    let primary = user["email"].as_str().map(|e| {
        json!({"id": id * 100, "user_id": id, "type": "email", "value": e, "primary": true,
               "verified": true, "created_at": user["created_at"], "updated_at": user["updated_at"]})
    });
    let list: Vec<Value> = primary
        .into_iter()
        .chain(
            store
                .identities
                .values()
                .filter(|i| i["user_id"] == id)
                .map(|i| {
                    let mut i = i.clone();
                    i["primary"] = json!(false);
                    i
                }),
        )
        .collect();
    Json(page(
        list,
        "identities",
        &q,
        &headers,
        &format!("/api/v2/users/{id}/identities"),
    ))
    .into_response()
}

async fn list_groups(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let list = st
        .store
        .lock()
        .unwrap()
        .groups
        .values()
        .map(|g| with_url(g.clone(), &headers, "groups"))
        .collect();
    Json(page(list, "groups", &q, &headers, "/api/v2/groups")).into_response()
}

async fn list_memberships(State(st): St, Query(q): Q, headers: HeaderMap) -> Response {
    let list = st
        .store
        .lock()
        .unwrap()
        .group_memberships
        .values()
        .map(|m| with_url(m.clone(), &headers, "group_memberships"))
        .collect();
    Json(page(
        list,
        "group_memberships",
        &q,
        &headers,
        "/api/v2/group_memberships",
    ))
    .into_response()
}

fn destroy_one(st: &SimState, object: &str, id: u64) -> Response {
    if st.store.lock().unwrap().destroy(object, &[id]) == 1 {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        )
    }
}

async fn destroy_upload(State(st): St, Path(token): Path<String>) -> Response {
    match st.store.lock().unwrap().uploads.remove(&token) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        ),
    }
}

async fn destroy_group(State(st): St, Path(id): Path<u64>) -> Response {
    destroy_one(&st, "groups", id)
}

async fn destroy_membership(State(st): St, Path(id): Path<u64>) -> Response {
    destroy_one(&st, "group_memberships", id)
}

async fn destroy_record(State(st): St, Path((_key, id)): Path<(String, String)>) -> Response {
    match parse_record_id(&id) {
        Some(n) => destroy_one(&st, "custom_object_records", n),
        None => not_found(),
    }
}

async fn destroy_custom_object(State(st): St, Path(key): Path<String>) -> Response {
    let mut store = st.store.lock().unwrap();
    if store.custom_objects.contains_key(&key)
        && store
            .custom_object_records
            .values()
            .any(|r| r["custom_object_key"] == key.as_str())
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "RecordInvalid", "description": "Delete the records of this custom object first"}),
        );
    }
    match store.custom_objects.remove(&key) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            json!({"error": "RecordNotFound", "description": "Not found"}),
        ),
    }
}

/// A new Zendesk account's defaults: they email requesters and close
/// solved tickets, which is what the pre-flight must warn about.
async fn active_triggers() -> Response {
    Json(json!({"triggers": [
        {"id": 1, "title": "Notify requester and CCs of received request", "active": true},
        {"id": 2, "title": "Notify requester and CCs of comment update", "active": true}
    ]}))
    .into_response()
}

async fn active_automations() -> Response {
    Json(json!({"automations": [
        {"id": 3, "title": "Close ticket 4 days after status is set to solved", "active": true}
    ]}))
    .into_response()
}

async fn stats(State(st): St) -> Response {
    Json(json!({
        "requests": st.requests.load(std::sync::atomic::Ordering::Relaxed),
        "throttled": st.throttled.load(std::sync::atomic::Ordering::Relaxed),
        "emails_sent": st.emails_sent.load(std::sync::atomic::Ordering::Relaxed),
        "jobs": st.jobs_created.load(std::sync::atomic::Ordering::Relaxed),
        "job_polls": st.job_polls.load(std::sync::atomic::Ordering::Relaxed),
        "job_polls_one": st.job_polls_one.load(std::sync::atomic::Ordering::Relaxed),
        "too_many_jobs": st.too_many_jobs.load(std::sync::atomic::Ordering::Relaxed),
        "objects": st.store.lock().unwrap().counts(),
    }))
    .into_response()
}

/// `POST /__sim/users {"users": [...]}`: people the account gets as if
/// an admin or an earlier tool had made them (a test that needs one
/// sharing an id the source generated at run time adds it here).
async fn seed_users(State(st): St, Json(body): Json<Value>) -> Response {
    let mut store = st.store.lock().unwrap();
    let ids: Vec<u64> = body["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| store.seed_user(u))
        .collect();
    Json(json!({ "ids": ids })).into_response()
}

async fn dump(State(st): St) -> Response {
    Json(st.store.lock().unwrap().dump()).into_response()
}
