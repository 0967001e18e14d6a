//! The Kustomer simulator as a destination (`ferry sim kustomer
//! --destination`): the write side of Kustomer's published Core Resources
//! spec (`kustomer-openapi.json`) and its bulk guide.
//!
//! - Bulk creates (`POST /v1/{customers,companies,conversations,messages,
//!   notes}/bulk`, `/v1/klasses/{name}/bulk`) take an array of at most 100
//!   create bodies whose keys the spec closes (`additionalProperties:
//!   false`); a malformed request is refused whole (400), an item that
//!   names a missing record, repeats an external id or breaks a value rule
//!   fails alone. The answer is a `bulk` record, `status: "queued"`; its
//!   progress is `GET /v1/bulk/{id}` and the per-item outcome
//!   `GET /v1/bulk/{id}/batches` (`successCount`, `failureCount`,
//!   `objectIds` in request order, `results[]`), as the guide "Bulk
//!   operations" (developer.kustomer.com/docs/guides/bulk-operations)
//!   describes; the spec lists neither path.
//! - Lookups by external id (`/customers/externalId=…`,
//!   `/conversations/externalId=…`, `/messages/externalid=…`,
//!   `/klasses/{name}/externalId=…`, `GET /companies?externalId=…`).
//! - Custom attribute metadata (`GET|PUT /v1/metadata/{resource}`): a
//!   custom attribute must carry a type suffix (`Str`, `Num`, `At`,
//!   `Bool`, `Txt`, `Url`) and be declared before a record uses it.
//! - Klasses (`POST|GET /v1/klasses`), attachments (`POST /v1/attachments`
//!   answers a presigned S3 POST, the bytes go to the storage host),
//!   agents (`GET /v1/users`: those an admin invited, `--users`), the
//!   reads verify uses, and the deletes rollback uses.

// Helpers return a ready HTTP error response as their Err (see routes.rs).
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::{error_response, kb, SimState};

type St = State<Arc<SimState>>;

/// Items a bulk request takes (spec: `maxItems: 100`).
pub const BULK_MAX: usize = 100;

/// Create-body keys per resource, from the spec's bulk request schemas
/// (each `additionalProperties: false`).
const CUSTOMER_KEYS: &[&str] = &[
    "name",
    "company",
    "externalId",
    "username",
    "signedUpAt",
    "lastActivityAt",
    "lastCustomerActivityAt",
    "lastSeenAt",
    "avatarUrl",
    "externalIds",
    "sharedExternalIds",
    "emails",
    "sharedEmails",
    "phones",
    "sharedPhones",
    "whatsapps",
    "facebookIds",
    "instagramIds",
    "socials",
    "sharedSocials",
    "urls",
    "locations",
    "locale",
    "timeZone",
    "tags",
    "sentiment",
    "custom",
    "birthdayAt",
    "gender",
    "createdAt",
    "importedAt",
    "rev",
    "defaultLang",
];
const COMPANY_KEYS: &[&str] = &[
    "name",
    "externalId",
    "avatarUrl",
    "emails",
    "phones",
    "whatsapps",
    "socials",
    "urls",
    "domains",
    "locations",
    "employeeCount",
    "tags",
    "createdAt",
    "importedAt",
    "rev",
    "custom",
    "defaultLang",
];
const CONVERSATION_KEYS: &[&str] = &[
    "id",
    "customer",
    "externalId",
    "name",
    "status",
    "priority",
    "createdAt",
    "importedAt",
    "direction",
    "replyChannel",
    "tags",
    "assignedUsers",
    "assignedTeams",
    "custom",
    "defaultLang",
    "queue",
];
const MESSAGE_KEYS: &[&str] = &[
    "id",
    "externalId",
    "customer",
    "conversation",
    "reference",
    "channel",
    "preview",
    "subject",
    "direction",
    "app",
    "size",
    "related",
    "status",
    "error",
    "errorAt",
    "auto",
    "sentAt",
    "source",
    "shortcuts",
    "kbArticles",
    "attachments",
    "location",
    "meta",
    "custom",
    "sentiment",
    "createdAt",
    "modifiedAt",
    "createdBy",
    "modifiedBy",
    "importedAt",
    "lang",
    "queue",
];
const NOTE_KEYS: &[&str] = &[
    "id",
    "conversation",
    "externalId",
    "body",
    "userMentions",
    "attachments",
    "createdAt",
    "modifiedAt",
    "createdBy",
    "modifiedBy",
    "importedAt",
    "lang",
];
const KOBJECT_KEYS: &[&str] = &[
    "customer",
    "company",
    "externalId",
    "title",
    "description",
    "images",
    "icon",
    "data",
    "custom",
    "tags",
    "createdAt",
    "importedAt",
];
/// Channels a message can be created with (spec enum).
const CHANNELS: &[&str] = &[
    "email",
    "sms",
    "chat",
    "facebook",
    "twitter-dm",
    "twitter-tweet",
    "voice",
    "instagram",
    "whatsapp",
];
/// Type suffixes of custom attribute names (spec descriptions).
const SUFFIXES: &[&str] = &["Str", "Num", "At", "Bool", "Txt", "Url"];

/// One bulk operation and the outcome of each of its items.
#[derive(Debug, Clone)]
pub struct Bulk {
    pub resource: String,
    pub context: String,
    pub created_at: String,
    /// Polls answered so far: the first says `running`, later ones `complete`.
    pub polls: u32,
    /// Per item: the created id, or why it failed.
    pub results: Vec<Result<String, String>>,
}

/// What ferry wrote, as the destination org holds it.
#[derive(Default)]
pub struct Store {
    /// Agents an admin invited (`--users`): what `GET /v1/users` lists.
    pub users: Vec<Value>,
    /// Records by id, in creation order per resource.
    pub records: BTreeMap<String, Vec<Value>>,
    by_id: HashMap<String, (String, usize)>,
    /// (resource or `kobjects:<klass>`, externalId) → id.
    by_external: HashMap<(String, String), String>,
    /// Declared custom attributes per resource (`customer`, `conversation`…).
    pub metadata: BTreeMap<String, Map<String, Value>>,
    pub bulks: HashMap<String, Bulk>,
    /// Attachment bytes uploaded to the storage host, by attachment id.
    pub uploads: HashMap<String, Vec<u8>>,
    /// Requests served per operation (`bulk:customers`, `poll`…), for stats.
    pub counts: BTreeMap<String, u64>,
    /// The knowledge base (`kb`).
    pub kb: super::kb::Kb,
    seq: u64,
}

impl Store {
    /// A store with these invited agents (name, email) and these teams
    /// an admin made (no members).
    pub fn with_org(users: &[(String, String)], teams: &[String]) -> Store {
        let mut s = Store::default();
        for (name, email) in users {
            let id = s.next_id(1);
            s.users.push(json!({"type": "user", "id": id, "attributes": {
                "name": name, "displayName": name, "email": email, "userType": "user",
                "createdAt": now(), "updatedAt": now()}, "links": {"self": format!("/v1/users/{id}")}}));
        }
        for name in teams {
            let rec = team_record(s.next_id(9), name, name, &[]);
            s.insert("teams", "teams", rec);
        }
        s
    }

    fn next_id(&mut self, kind: u64) -> String {
        self.seq += 1;
        format!("{:08x}{:016x}", 0x6700_0000u64 + kind, self.seq)
    }

    fn count(&mut self, what: &str) {
        *self.counts.entry(what.to_string()).or_default() += 1;
    }

    /// The record with this id, if any (any resource).
    pub fn get(&self, id: &str) -> Option<&Value> {
        let (res, i) = self.by_id.get(id)?;
        self.records.get(res)?.get(*i).filter(|v| !v.is_null())
    }

    fn exists(&self, resource: &str, id: &str) -> bool {
        self.by_id
            .get(id)
            .is_some_and(|(r, i)| r == resource && !self.records[r][*i].is_null())
    }

    fn insert(&mut self, resource: &str, ext_scope: &str, rec: Value) -> String {
        let id = rec["id"].as_str().unwrap_or_default().to_string();
        if let Some(ext) = rec["attributes"]["externalId"].as_str() {
            self.by_external
                .insert((ext_scope.to_string(), ext.to_string()), id.clone());
        }
        let list = self.records.entry(resource.to_string()).or_default();
        list.push(rec);
        self.by_id
            .insert(id.clone(), (resource.to_string(), list.len() - 1));
        id
    }

    /// The storage host received attachment `id`'s bytes.
    pub fn mark_uploaded(&mut self, id: &str, bytes: Vec<u8>) {
        if let Some((res, i)) = self.by_id.get(id).cloned() {
            self.records.get_mut(&res).unwrap()[i]["attributes"]["uploaded"] = json!(true);
        }
        self.uploads.insert(id.to_string(), bytes);
    }

    fn remove(&mut self, id: &str) -> bool {
        let Some((res, i)) = self.by_id.get(id).cloned() else {
            return false;
        };
        let slot = &mut self.records.get_mut(&res).unwrap()[i];
        if slot.is_null() {
            return false;
        }
        if let Some(ext) = slot["attributes"]["externalId"].as_str() {
            let scope = ext_scope_of(&res, slot);
            self.by_external.remove(&(scope, ext.to_string()));
        }
        *slot = Value::Null;
        true
    }

    /// Live records of a resource.
    pub fn live(&self, resource: &str) -> impl Iterator<Item = &Value> {
        self.records
            .get(resource)
            .into_iter()
            .flatten()
            .filter(|v| !v.is_null())
    }

    fn by_ext(&self, scope: &str, ext: &str) -> Option<&Value> {
        let id = self
            .by_external
            .get(&(scope.to_string(), ext.to_string()))?;
        self.get(id)
    }
}

fn ext_scope_of(resource: &str, rec: &Value) -> String {
    if resource == "kobjects" {
        format!(
            "kobjects:{}",
            rec["relationships"]["klass"]["data"]["name"]
                .as_str()
                .unwrap_or("")
        )
    } else {
        resource.to_string()
    }
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The destination's routes (the gatekeeper and storage are the read side's).
pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/users/current", get(current_user))
        .route("/v1/users", get(users).post(create_user))
        .route("/v1/teams", get(teams).post(create_team))
        .route("/v1/metadata/{resource}", get(metadata).put(put_metadata))
        .route("/v1/klasses", get(klasses).post(create_klass))
        .route(
            "/v1/klasses/{name}/bulk",
            post(bulk_kobjects).delete(bulk_delete_kobjects),
        )
        .route(
            "/v1/klasses/{name}/{id}",
            get(kobject).delete(delete_kobject),
        )
        .route(
            "/v1/customers/bulk",
            post(bulk_customers).delete(bulk_delete_customers),
        )
        .route("/v1/companies/bulk", post(bulk_companies))
        .route("/v1/conversations/bulk", post(bulk_conversations))
        .route("/v1/messages/bulk", post(bulk_messages))
        .route("/v1/notes/bulk", post(bulk_notes))
        .route("/v1/bulk/{id}", get(bulk_status))
        .route("/v1/bulk/{id}/batches", get(bulk_batches))
        .route("/v1/attachments", post(create_attachment))
        .route("/v1/kb/knowledge-bases", get(kb::bases))
        .route(
            "/v1/kb/categories",
            get(kb::categories).post(kb::create_category),
        )
        .route("/v1/kb/categories/{id}", get(kb::category))
        .route(
            "/v1/kb/articles",
            get(kb::articles).post(kb::create_article),
        )
        .route(
            "/v1/kb/articles/{id}",
            get(kb::article).put(kb::update_article),
        )
        .route(
            "/v1/kb/articles/{id}/versions/{lang}",
            post(kb::create_version)
                .put(kb::update_version)
                .delete(kb::delete_versions),
        )
        .route("/v1/companies", get(companies))
        .route(
            "/v1/{object}/{id}",
            get(get_one).put(put_one).delete(delete_one),
        )
        .route(
            "/v1/conversations/{id}/messages",
            get(conversation_messages),
        )
        .route("/v1/conversations/{id}/notes", get(conversation_notes))
        .route("/__sim/stats", get(stats))
        .route("/__sim/dump", get(dump))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::gatekeeper,
        ))
        .with_state(state)
}

fn bad(detail: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, "bad_request", detail)
}

fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "Resource not found")
}

/// The API key's own machine user.
async fn current_user() -> Response {
    Json(
        json!({"data": {"type": "user", "id": "000000000000000000000001",
        "attributes": {"name": "ferry import key", "userType": "machine",
        "roles": ["org.user", "org.permission.kb.read", "org.permission.kb.create", "org.permission.kb.update"],
        "orgName": "sim"}}}),
    )
    .into_response()
}

#[derive(serde::Deserialize)]
struct Page {
    page: Option<u32>,
    #[serde(rename = "pageSize")]
    page_size: Option<u32>,
    #[serde(rename = "externalId")]
    external_id: Option<String>,
}

fn paged(path: &str, q: &Page, all: Vec<Value>) -> Response {
    let page = q.page.unwrap_or(1).max(1);
    let size = q.page_size.unwrap_or(100).clamp(1, 100);
    let start = ((page - 1) * size) as usize;
    let has_next = all.len() > start + size as usize;
    let data: Vec<Value> = all.into_iter().skip(start).take(size as usize).collect();
    let link = |p: u32| format!("{path}?page={p}&pageSize={size}");
    Json(
        json!({"meta": {"page": page, "pageSize": size}, "data": data,
        "links": {"self": link(page), "first": link(1),
                  "prev": if page > 1 { json!(link(page - 1)) } else { Value::Null },
                  "next": if has_next { json!(link(page + 1)) } else { Value::Null }}}),
    )
    .into_response()
}

async fn users(State(st): St, Query(q): Query<Page>) -> Response {
    let all = st.store.lock().unwrap().users.clone();
    paged("/v1/users", &q, all)
}

/// A single-create body: JSON whose keys are all in `allowed` (the
/// spec's closed key sets), else the 400 to answer.
fn create_body(body: &[u8], allowed: &[&str]) -> Result<Value, Response> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("body is not JSON"));
    };
    if let Some(k) = v
        .as_object()
        .and_then(|o| o.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        return Err(bad(&format!("\"{k}\" is not allowed")));
    }
    Ok(v)
}

/// `POST /v1/users`: not in the published Core Resources spec (users are
/// in another API category; kustomer-api.md lists the write). Takes the
/// User record's attributes; an email is one user per org.
async fn create_user(State(st): St, body: Bytes) -> Response {
    let v = match create_body(
        &body,
        &[
            "name",
            "displayName",
            "email",
            "userType",
            "roles",
            "roleGroups",
        ],
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(email) = v["email"].as_str().filter(|e| e.contains('@')) else {
        return bad("email is required");
    };
    let Some(name) = v["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return bad("name is required");
    };
    let mut s = st.store.lock().unwrap();
    s.count("users");
    if s.users.iter().any(|u| {
        u["attributes"]["email"]
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }) {
        return error_response(
            StatusCode::CONFLICT,
            "duplicate",
            &format!("a user with the email {email} exists"),
        );
    }
    let id = s.next_id(1);
    let rec = json!({"type": "user", "id": id, "attributes": {
        "name": name, "displayName": v["displayName"].as_str().unwrap_or(name), "email": email,
        "userType": v["userType"].as_str().unwrap_or("user"), "createdAt": now(), "updatedAt": now()},
        "links": {"self": format!("/v1/users/{id}")}});
    s.users.push(rec.clone());
    (StatusCode::CREATED, Json(json!({"data": rec}))).into_response()
}

async fn teams(State(st): St, Query(q): Query<Page>) -> Response {
    let all: Vec<Value> = st.store.lock().unwrap().live("teams").cloned().collect();
    paged("/v1/teams", &q, all)
}

/// A team as `GET /v1/teams` lists it (kustomer-api.md, "Team": `name`,
/// `displayName`, `icon`, `members[]` user ids, timestamps).
fn team_record(id: String, name: &str, display: &str, members: &[Value]) -> Value {
    json!({"type": "team", "id": id, "attributes": {"name": name, "displayName": display,
        "icon": Value::Null, "members": members, "deleted": false,
        "createdAt": now(), "updatedAt": now()}, "links": {"self": format!("/v1/teams/{id}")}})
}

/// `POST /v1/teams`: not in the published Core Resources spec (teams are
/// in another API category; kustomer-api.md lists the write). Takes the
/// Team record's own attributes; a name is unique in an org, and every
/// member must be a user of the org.
async fn create_team(State(st): St, body: Bytes) -> Response {
    let v = match create_body(&body, &["name", "displayName", "icon", "members"]) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(name) = v["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return bad("name is required");
    };
    let members = v["members"].as_array().cloned().unwrap_or_default();
    let mut s = st.store.lock().unwrap();
    s.count("teams");
    if let Some(m) = members
        .iter()
        .find(|m| !s.users.iter().any(|u| &u["id"] == *m))
    {
        return bad(&format!("members: user {m} does not exist"));
    }
    if s.live("teams").any(|t| t["attributes"]["name"] == name) {
        return error_response(
            StatusCode::CONFLICT,
            "duplicate",
            &format!("team {name} exists"),
        );
    }
    let display = v["displayName"].as_str().unwrap_or(name).to_string();
    let rec = team_record(s.next_id(9), name, &display, &members);
    s.insert("teams", "teams", rec.clone());
    (StatusCode::CREATED, Json(json!({"data": rec}))).into_response()
}

async fn metadata(State(st): St, Path(resource): Path<String>) -> Response {
    let s = st.store.lock().unwrap();
    let props = s.metadata.get(&resource).cloned().unwrap_or_default();
    Json(json!({"data": {"type": "metadata", "id": resource,
        "attributes": {"properties": props}, "links": {"self": format!("/v1/metadata/{resource}")}}}))
    .into_response()
}

/// Declares custom attributes: each name must end in a type suffix and
/// carry a `type` and `displayName`; declared ones merge with what exists.
async fn put_metadata(State(st): St, Path(resource): Path<String>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return bad("body is not JSON");
    };
    let Some(o) = v.as_object() else {
        return bad("body must be an object");
    };
    if let Some(k) = o.keys().find(|k| {
        ![
            "standardProperties",
            "relationships",
            "properties",
            "validations",
        ]
        .contains(&k.as_str())
    }) {
        return bad(&format!("\"{k}\" is not allowed"));
    }
    let props = o
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, p) in &props {
        if !SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return bad(&format!(
                "custom attribute {name}: the name must end in a type suffix ({})",
                SUFFIXES.join(", ")
            ));
        }
        if p["displayName"].as_str().is_none_or(str::is_empty) {
            return bad(&format!("custom attribute {name}: displayName is required"));
        }
        if p["type"].as_str().is_none() {
            return bad(&format!("custom attribute {name}: type is required"));
        }
    }
    let mut s = st.store.lock().unwrap();
    s.count("metadata");
    let entry = s.metadata.entry(resource.clone()).or_default();
    for (k, p) in props {
        entry.insert(k, p);
    }
    let all = entry.clone();
    Json(json!({"data": {"type": "metadata", "id": resource,
        "attributes": {"properties": all}, "links": {"self": format!("/v1/metadata/{resource}")}}}))
    .into_response()
}

async fn klasses(State(st): St, Query(q): Query<Page>) -> Response {
    let all: Vec<Value> = st.store.lock().unwrap().live("klasses").cloned().collect();
    paged("/v1/klasses", &q, all)
}

async fn create_klass(State(st): St, body: Bytes) -> Response {
    let v = match create_body(
        &body,
        &[
            "name",
            "displayName",
            "icon",
            "color",
            "jsonSchema",
            "klassSchema",
            "mixins",
            "status",
        ],
    ) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(name) = v["name"].as_str().filter(|n| !n.is_empty()) else {
        return bad("name is required");
    };
    let mut s = st.store.lock().unwrap();
    s.count("klasses");
    if s.live("klasses").any(|k| k["attributes"]["name"] == name) {
        return error_response(
            StatusCode::CONFLICT,
            "duplicate",
            &format!("klass {name} exists"),
        );
    }
    let id = s.next_id(7);
    let rec = json!({"type": "klass", "id": id, "attributes": {"name": name,
        "displayName": v["displayName"], "icon": v["icon"], "status": v["status"].as_str().unwrap_or("enabled"),
        "metadata": {"properties": v["jsonSchema"]["properties"]}, "createdAt": now(), "updatedAt": now()},
        "links": {"self": format!("/v1/klasses/{id}")}});
    s.insert("klasses", "klasses", rec.clone());
    Json(json!({"data": rec})).into_response()
}

/// Checks the keys and value rules the spec gives one create body; `Err`
/// is the reason the whole request is refused.
fn check_shape(resource: &str, item: &Value) -> Result<(), String> {
    let keys = match resource {
        "customers" => CUSTOMER_KEYS,
        "companies" => COMPANY_KEYS,
        "conversations" => CONVERSATION_KEYS,
        "messages" => MESSAGE_KEYS,
        "notes" => NOTE_KEYS,
        _ => KOBJECT_KEYS,
    };
    let o = item.as_object().ok_or("every item must be an object")?;
    if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("\"{k}\" is not allowed"));
    }
    let text = |k: &str, max: usize| -> Result<(), String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(()),
            Some(Value::String(_)) => Err(format!("\"{k}\" is longer than {max} characters")),
            Some(_) => Err(format!("\"{k}\" must be a string")),
        }
    };
    text("externalId", 256)?;
    match resource {
        "conversations" => {
            text("name", 256)?;
            if o.get("customer").and_then(Value::as_str).is_none() {
                return Err("\"customer\" is required".into());
            }
            if let Some(s) = o.get("status") {
                if !matches!(s.as_str(), Some("open") | Some("done")) {
                    return Err("\"status\" must be one of open, done".into());
                }
            }
            if let Some(p) = o.get("priority") {
                if !p.as_i64().is_some_and(|p| (1..=5).contains(&p)) {
                    return Err("\"priority\" must be an integer from 1 to 5".into());
                }
            }
            if let Some(t) = o.get("tags") {
                let tags = t.as_array().ok_or("\"tags\" must be an array")?;
                if tags.len() > 20 {
                    return Err("\"tags\" takes at most 20 items".into());
                }
                for tag in tags {
                    let s = tag.as_str().ok_or("a tag must be a string")?;
                    if s.is_empty() || s.chars().count() > 64 || s.starts_with(' ') {
                        return Err(format!("tag \"{s}\" does not match the tag pattern"));
                    }
                }
            }
        }
        "messages" => {
            text("preview", 10_240)?;
            text("subject", 256)?;
            match o.get("channel").and_then(Value::as_str) {
                Some(c) if CHANNELS.contains(&c) => {}
                _ => {
                    return Err(format!(
                        "\"channel\" is required, one of {}",
                        CHANNELS.join(", ")
                    ))
                }
            }
            if o.get("app").and_then(Value::as_str).is_none() {
                return Err("\"app\" is required".into());
            }
            if let Some(d) = o.get("direction") {
                if !matches!(d.as_str(), Some("in") | Some("out")) {
                    return Err("\"direction\" must be in or out".into());
                }
            }
            if o.get("meta")
                .and_then(Value::as_object)
                .is_some_and(|m| m.len() > 100)
            {
                return Err("\"meta\" takes at most 100 properties".into());
            }
        }
        "notes" => {
            match o.get("body").and_then(Value::as_str) {
                Some(b) if !b.is_empty() && b.chars().count() <= 10_240 => {}
                Some(_) => return Err("\"body\" must be 1 to 10240 characters".into()),
                None => return Err("\"body\" is required".into()),
            }
            if o.get("conversation").and_then(Value::as_str).is_none() {
                return Err("\"conversation\" is required".into());
            }
        }
        "companies" => {
            if o.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err("\"name\" is required".into());
            }
        }
        "customers" => text("name", 256)?,
        _ => {
            if o.get("title")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err("\"title\" is required".into());
            }
        }
    }
    for t in ["createdAt", "importedAt", "sentAt", "signedUpAt"] {
        if let Some(v) = o.get(t).filter(|v| !v.is_null()) {
            let ok = v
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
            if !ok {
                return Err(format!("\"{t}\" must be an ISO 8601 date-time"));
            }
        }
    }
    Ok(())
}

/// The metadata resource a record's custom attributes are declared on.
fn metadata_resource(resource: &str, klass: Option<&str>) -> String {
    match resource {
        "customers" => "customer".into(),
        "companies" => "company".into(),
        "conversations" => "conversation".into(),
        "messages" => "message".into(),
        _ => format!("kobject.{}", klass.unwrap_or("")),
    }
}

/// Item rules that fail one item of a bulk request, not the request.
fn check_item(s: &Store, resource: &str, klass: Option<&str>, item: &Value) -> Result<(), String> {
    let scope = match klass {
        Some(k) => format!("kobjects:{k}"),
        None => resource.to_string(),
    };
    if let Some(ext) = item["externalId"].as_str() {
        if s.by_ext(&scope, ext).is_some() {
            return Err(format!("duplicate detected: externalId {ext} exists"));
        }
    }
    let refs: &[(&str, &str)] = &[
        ("customer", "customers"),
        ("company", "companies"),
        ("conversation", "conversations"),
        ("createdBy", "users"),
    ];
    for (key, res) in refs {
        if let Some(id) = item[*key].as_str() {
            let ok = if *res == "users" {
                s.users.iter().any(|u| u["id"] == id)
            } else {
                s.exists(res, id)
            };
            if !ok {
                return Err(format!("{key} {id} does not exist"));
            }
        }
    }
    for key in ["assignedUsers"] {
        for id in item[key].as_array().into_iter().flatten() {
            if !s.users.iter().any(|u| &u["id"] == id) {
                return Err(format!("{key}: user {id} does not exist"));
            }
        }
    }
    for id in item["assignedTeams"].as_array().into_iter().flatten() {
        if !s.live("teams").any(|t| &t["id"] == id) {
            return Err(format!("assignedTeams: team {id} does not exist"));
        }
    }
    if let Some(custom) = item["custom"].as_object() {
        let declared = s.metadata.get(&metadata_resource(resource, klass));
        for k in custom.keys() {
            if !SUFFIXES.iter().any(|x| k.ends_with(x)) {
                return Err(format!("custom attribute {k} has no type suffix"));
            }
            if !declared.is_some_and(|d| d.contains_key(k)) {
                return Err(format!(
                    "custom attribute {k} is not declared in /v1/metadata/{}",
                    metadata_resource(resource, klass)
                ));
            }
        }
    }
    for a in item["attachments"].as_array().into_iter().flatten() {
        let id = a["_id"].as_str().or(a.as_str()).unwrap_or("");
        if !s.uploads.contains_key(id) {
            return Err(format!("attachment {id} was never uploaded"));
        }
    }
    if resource == "messages" {
        if let (Some(c), Some(cu)) = (item["conversation"].as_str(), item["customer"].as_str()) {
            let owner = s
                .get(c)
                .and_then(|r| r["relationships"]["customer"]["data"]["id"].as_str());
            if owner.is_some_and(|o| o != cu) {
                return Err(format!("conversation {c} belongs to another customer"));
            }
        }
    }
    Ok(())
}

/// The stored record of a created item: attributes, and relationships for
/// the ids it names.
fn stored(resource: &str, klass: Option<&str>, id: &str, item: &Value) -> Value {
    let mut attrs = item.as_object().cloned().unwrap_or_default();
    let mut rels = Map::new();
    for (key, ty) in [
        ("customer", "customer"),
        ("company", "company"),
        ("conversation", "conversation"),
        ("createdBy", "user"),
    ] {
        if let Some(v) = attrs.remove(key).filter(|v| !v.is_null()) {
            rels.insert(key.into(), json!({"data": {"type": ty, "id": v}}));
        }
    }
    attrs.remove("id");
    if let Some(att) = attrs.remove("attachments") {
        let list: Vec<Value> = att
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| json!({"type": "attachment", "id": a["_id"].as_str().or(a.as_str())}))
            .collect();
        rels.insert("attachments".into(), json!({"data": list}));
    }
    if let Some(k) = klass {
        rels.insert(
            "klass".into(),
            json!({"data": {"type": "klass", "name": k}}),
        );
    }
    let created = attrs
        .get("createdAt")
        .cloned()
        .filter(|v| !v.is_null())
        .unwrap_or(json!(now()));
    attrs.insert("createdAt".into(), created);
    attrs.insert("updatedAt".into(), json!(now()));
    let ty = match resource {
        "customers" => "customer",
        "companies" => "company",
        "conversations" => "conversation",
        "messages" => "message",
        "notes" => "note",
        _ => "kobject",
    };
    let path = match klass {
        Some(k) => format!("/v1/klasses/{k}/{id}"),
        None => format!("/v1/{resource}/{id}"),
    };
    json!({"type": ty, "id": id, "attributes": attrs, "relationships": rels, "links": {"self": path}})
}

fn id_kind(resource: &str) -> u64 {
    match resource {
        "customers" => 2,
        "companies" => 3,
        "conversations" => 4,
        "messages" => 5,
        "notes" => 6,
        _ => 8,
    }
}

/// A bulk create: the shape checked for the whole request, each item
/// created or failed on its own, the `bulk` record answered.
fn bulk_create(st: &SimState, resource: &str, klass: Option<&str>, body: &[u8]) -> Response {
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(a)) => a,
        Ok(_) => return bad("the body must be an array of records"),
        Err(e) => return bad(&format!("body is not JSON: {e}")),
    };
    if items.is_empty() || items.len() > BULK_MAX {
        return bad(&format!(
            "a bulk request takes 1 to {BULK_MAX} items, not {}",
            items.len()
        ));
    }
    for (i, it) in items.iter().enumerate() {
        if let Err(e) = check_shape(resource, it) {
            return bad(&format!("item {i}: {e}"));
        }
    }
    let mut s = st.store.lock().unwrap();
    if let Some(k) = klass {
        if !s.live("klasses").any(|r| r["attributes"]["name"] == k) {
            return error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("klass {k} does not exist"),
            );
        }
    }
    s.count(&format!("bulk:{resource}"));
    let scope = match klass {
        Some(k) => format!("kobjects:{k}"),
        None => resource.to_string(),
    };
    let mut results = Vec::with_capacity(items.len());
    for it in &items {
        let r = match check_item(&s, resource, klass, it) {
            Ok(()) => {
                let id = match it["id"].as_str() {
                    Some(id) if !s.by_id.contains_key(id) => id.to_string(),
                    Some(id) => {
                        results.push(Err(format!("duplicate detected: id {id} exists")));
                        continue;
                    }
                    None => s.next_id(id_kind(resource)),
                };
                let rec = stored(resource, klass, &id, it);
                let store_as = if klass.is_some() {
                    "kobjects"
                } else {
                    resource
                };
                Ok(s.insert(store_as, &scope, rec))
            }
            Err(e) => Err(e),
        };
        results.push(r);
    }
    let bid = s.next_id(9);
    let context = format!("api.sobjects.{resource}.bulk-create");
    let created_at = now();
    s.bulks.insert(
        bid.clone(),
        Bulk {
            resource: resource.to_string(),
            context: context.clone(),
            created_at: created_at.clone(),
            polls: 0,
            results,
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({"data": {"type": "bulk", "id": bid, "attributes": {
            "ids": [], "context": context, "status": "queued", "v2": true,
            "createdAt": created_at, "updatedAt": created_at, "completed": false},
            "links": {"self": format!("/v1/bulk/{bid}")}}})),
    )
        .into_response()
}

async fn bulk_customers(State(st): St, body: Bytes) -> Response {
    bulk_create(&st, "customers", None, &body)
}
async fn bulk_companies(State(st): St, body: Bytes) -> Response {
    bulk_create(&st, "companies", None, &body)
}
async fn bulk_conversations(State(st): St, body: Bytes) -> Response {
    bulk_create(&st, "conversations", None, &body)
}
async fn bulk_messages(State(st): St, body: Bytes) -> Response {
    bulk_create(&st, "messages", None, &body)
}
async fn bulk_notes(State(st): St, body: Bytes) -> Response {
    bulk_create(&st, "notes", None, &body)
}
async fn bulk_kobjects(State(st): St, Path(name): Path<String>, body: Bytes) -> Response {
    bulk_create(&st, "kobjects", Some(&name), &body)
}

/// `GET /v1/bulk/{id}`: `running` at the first poll, `complete` after.
async fn bulk_status(State(st): St, Path(id): Path<String>) -> Response {
    let mut s = st.store.lock().unwrap();
    s.count("poll");
    let Some(b) = s.bulks.get_mut(&id) else {
        return not_found();
    };
    b.polls += 1;
    let done = b.polls > st.opts.bulk_running_polls;
    let n = b.results.len();
    Json(json!({"data": {"type": "bulk", "id": id, "attributes": {
        "context": b.context, "status": if done { "complete" } else { "running" },
        "completed": done, "batches": {"complete": if done { 1 } else { 0 }, "total": 1},
        "count": n, "createdAt": b.created_at, "updatedAt": now()},
        "links": {"self": format!("/v1/bulk/{id}")}}}))
    .into_response()
}

/// `GET /v1/bulk/{id}/batches`: counts, `objectIds` in request order (an
/// item that failed has none: its slot is null), and `results[]`.
async fn bulk_batches(State(st): St, Path(id): Path<String>) -> Response {
    let mut s = st.store.lock().unwrap();
    s.count("batches");
    let Some(b) = s.bulks.get(&id) else {
        return not_found();
    };
    let ok = b.results.iter().filter(|r| r.is_ok()).count();
    let ids: Vec<Value> = b
        .results
        .iter()
        .map(|r| r.as_ref().map_or(Value::Null, |id| json!(id)))
        .collect();
    let results: Vec<Value> = b
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(id) => json!({"index": i, "objectId": id, "status": "created"}),
            Err(e) => json!({"index": i, "status": "error", "error": e}),
        })
        .collect();
    Json(
        json!({"data": [{"type": "bulk-batch", "id": format!("{id}-0"), "attributes": {
        "successCount": ok, "failureCount": b.results.len() - ok, "objectIds": ids,
        "results": results}}]}),
    )
    .into_response()
}

/// `POST /v1/attachments`: the record and an S3 presigned POST for the bytes.
async fn create_attachment(State(st): St, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return bad("body is not JSON");
    };
    for k in ["name", "contentType"] {
        if v[k].as_str().is_none_or(str::is_empty) {
            return bad(&format!("\"{k}\" is required"));
        }
    }
    let Some(len) = v["contentLength"].as_u64() else {
        return bad("\"contentLength\" is required (a number)");
    };
    let mut s = st.store.lock().unwrap();
    s.count("attachments");
    let id = s.next_id(10);
    let rec = json!({"id": id, "type": "attachment", "attributes": {"name": v["name"],
        "contentType": v["contentType"], "contentLength": len, "uploaded": false, "redacted": false},
        "links": {"self": format!("/v1/attachments/{id}"), "related": format!("/v1/attachments/{id}")}});
    s.insert("attachments", "attachments", rec.clone());
    let storage = st.storage_url.get().cloned().unwrap_or_default();
    let key = format!("attachments/sim/{id}-{}", v["name"].as_str().unwrap_or(""));
    (
        StatusCode::CREATED,
        Json(json!({"data": rec, "meta": {"upload": {"url": format!("{storage}/{}", super::storage::UPLOAD_BUCKET),
            "fields": {"key": key, "acl": "private", "Content-Type": v["contentType"],
                "X-Amz-Meta-Attachment-Id": id, "bucket": super::storage::UPLOAD_BUCKET,
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "SIMKEY/20260101/us-east-1/s3/aws4_request",
                "X-Amz-Date": chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
                "Policy": super::storage::upload_policy(&id, len), "X-Amz-Signature": super::storage::upload_signature(&id)}}}})),
    )
        .into_response()
}

async fn companies(State(st): St, Query(q): Query<Page>) -> Response {
    let s = st.store.lock().unwrap();
    let all: Vec<Value> = match &q.external_id {
        Some(ext) => s.by_ext("companies", ext).cloned().into_iter().collect(),
        None => s.live("companies").cloned().collect(),
    };
    drop(s);
    paged("/v1/companies", &q, all)
}

/// `GET /v1/{object}/{id}`, and the `externalId=` lookups on the same shape.
async fn get_one(State(st): St, Path((object, id)): Path<(String, String)>) -> Response {
    let s = st.store.lock().unwrap();
    let found = match id
        .strip_prefix("externalId=")
        .or_else(|| id.strip_prefix("externalid="))
    {
        Some(ext) => {
            let ext = percent_decode(ext);
            s.by_ext(&object, &ext)
        }
        None => s.get(&id).filter(|_| s.by_id[&id].0 == object),
    };
    match found {
        Some(r) if object == "attachments" => {
            let mut r = r.clone();
            let id = r["id"].as_str().unwrap_or("").to_string();
            if let Some(storage) = st.storage_url.get() {
                r["links"]["related"] = json!(super::storage::uploaded_link(storage, &id));
            }
            Json(json!({"data": r})).into_response()
        }
        Some(r) => Json(json!({"data": r})).into_response(),
        None => not_found(),
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn kobject(State(st): St, Path((name, id)): Path<(String, String)>) -> Response {
    let s = st.store.lock().unwrap();
    let found = match id.strip_prefix("externalId=") {
        Some(ext) => s.by_ext(&format!("kobjects:{name}"), &percent_decode(ext)),
        None => s.get(&id),
    };
    match found {
        Some(r) => Json(json!({"data": r})).into_response(),
        None => not_found(),
    }
}

fn children(st: &SimState, conv: &str, resource: &str, q: &Page, path: String) -> Response {
    let s = st.store.lock().unwrap();
    if !s.exists("conversations", conv) {
        return not_found();
    }
    let mut all: Vec<Value> = s
        .live(resource)
        .filter(|r| r["relationships"]["conversation"]["data"]["id"] == conv)
        .cloned()
        .collect();
    drop(s);
    all.sort_by(|a, b| {
        let t = |v: &Value| {
            v["attributes"]["createdAt"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        t(a).cmp(&t(b))
    });
    paged(&path, q, all)
}

async fn conversation_messages(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Query<Page>,
) -> Response {
    children(
        &st,
        &id,
        "messages",
        &q,
        format!("/v1/conversations/{id}/messages"),
    )
}

async fn conversation_notes(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Query<Page>,
) -> Response {
    children(
        &st,
        &id,
        "notes",
        &q,
        format!("/v1/conversations/{id}/notes"),
    )
}

/// `PUT /v1/{customers,companies,conversations}/{id}`: the fields given
/// replace the record's (a related id becomes the relationship).
async fn put_one(
    State(st): St,
    Path((object, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&body) else {
        return bad("the body must be a JSON object");
    };
    let resource = object.as_str();
    if !["customers", "companies", "conversations"].contains(&resource) {
        return not_found();
    }
    if let Err(e) = check_shape_update(resource, &o) {
        return bad(&e);
    }
    let mut s = st.store.lock().unwrap();
    if !s.exists(resource, &id) {
        return not_found();
    }
    s.count(&format!("update:{resource}"));
    let (res, i) = s.by_id[&id].clone();
    let rec = &mut s.records.get_mut(&res).unwrap()[i];
    for (k, v) in o {
        match k.as_str() {
            "customer" | "company" => {
                rec["relationships"][&k] = json!({"data": {"type": k, "id": v}});
            }
            _ => rec["attributes"][&k] = v,
        }
    }
    rec["attributes"]["updatedAt"] = json!(now());
    let out = rec.clone();
    Json(json!({"data": out})).into_response()
}

/// Keys an update may carry: those of the resource's create body.
fn check_shape_update(resource: &str, o: &Map<String, Value>) -> Result<(), String> {
    let keys = match resource {
        "customers" => CUSTOMER_KEYS,
        "companies" => COMPANY_KEYS,
        _ => CONVERSATION_KEYS,
    };
    match o
        .keys()
        .find(|k| !keys.contains(&k.as_str()) && !["status", "snooze"].contains(&k.as_str()))
    {
        Some(k) => Err(format!("\"{k}\" is not allowed")),
        None => Ok(()),
    }
}

/// Deletes a record; a conversation takes its messages and notes with it.
async fn delete_one(State(st): St, Path((object, id)): Path<(String, String)>) -> Response {
    let mut s = st.store.lock().unwrap();
    if s.by_id.get(&id).is_none_or(|(r, _)| *r != object) || !s.remove(&id) {
        return not_found();
    }
    s.count(&format!("delete:{object}"));
    if object == "conversations" {
        let kids: Vec<String> = ["messages", "notes"]
            .iter()
            .flat_map(|r| s.live(r))
            .filter(|r| r["relationships"]["conversation"]["data"]["id"] == id.as_str())
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        for k in kids {
            s.remove(&k);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_kobject(State(st): St, Path((_name, id)): Path<(String, String)>) -> Response {
    let mut s = st.store.lock().unwrap();
    if s.remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

#[derive(serde::Deserialize)]
struct Ids {
    ids: Option<String>,
}

fn bulk_delete(st: &SimState, q: &Ids) -> Response {
    let ids: Vec<String> = q
        .ids
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() || ids.len() > BULK_MAX {
        return bad(&format!("ids takes 1 to {BULK_MAX} comma-separated ids"));
    }
    let mut s = st.store.lock().unwrap();
    s.count("bulk_delete");
    let results: Vec<Result<String, String>> = ids
        .iter()
        .map(|id| {
            if s.remove(id) {
                Ok(id.clone())
            } else {
                Err("not found".into())
            }
        })
        .collect();
    let bid = s.next_id(9);
    s.bulks.insert(
        bid.clone(),
        Bulk {
            resource: "delete".into(),
            context: "api.bulk-delete".into(),
            created_at: now(),
            polls: 0,
            results,
        },
    );
    (
        StatusCode::ACCEPTED,
        Json(json!({"data": {"type": "bulk", "id": bid, "attributes": {"status": "queued", "completed": false}}})),
    )
        .into_response()
}

async fn bulk_delete_customers(State(st): St, Query(q): Query<Ids>) -> Response {
    bulk_delete(&st, &q)
}
async fn bulk_delete_kobjects(
    State(st): St,
    Path(_name): Path<String>,
    Query(q): Query<Ids>,
) -> Response {
    bulk_delete(&st, &q)
}

async fn stats(State(st): St) -> Response {
    let s = st.store.lock().unwrap();
    let live: BTreeMap<&String, usize> = s
        .records
        .iter()
        .map(|(k, v)| (k, v.iter().filter(|x| !x.is_null()).count()))
        .collect();
    Json(json!({
        "requests": st.requests.load(std::sync::atomic::Ordering::Relaxed),
        "throttled": st.throttled.load(std::sync::atomic::Ordering::Relaxed),
        "by_operation": s.counts, "records": live, "uploads": s.uploads.len(),
    }))
    .into_response()
}

/// Everything the org holds, for tests: records by resource, metadata,
/// and each upload's SHA-256.
async fn dump(State(st): St, _h: HeaderMap) -> Response {
    use sha2::{Digest, Sha256};
    let s = st.store.lock().unwrap();
    let records: BTreeMap<&String, Vec<&Value>> = s
        .records
        .iter()
        .map(|(k, v)| (k, v.iter().filter(|x| !x.is_null()).collect()))
        .collect();
    let uploads: BTreeMap<&String, String> = s
        .uploads
        .iter()
        .map(|(k, b)| (k, hex::encode(Sha256::digest(b))))
        .collect();
    let kb = json!({"bases": s.kb.bases, "categories": s.kb.categories, "articles": s.kb.articles});
    Json(json!({"records": records, "metadata": s.metadata, "users": s.users, "uploads": uploads, "kb": kb}))
        .into_response()
}
