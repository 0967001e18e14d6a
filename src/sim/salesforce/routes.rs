//! The Salesforce simulator's endpoints. One dispatcher reads the path
//! under `/services/data/vXX.X/` the way the REST API lays it out
//! (sobjects, composite/sobjects, jobs/ingest, query, limits), because
//! Salesforce accepts trailing slashes and any listed version everywhere.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Map, Value};

use super::bulk::{self, Job};
use super::store::{now_iso, SfError, Upserted};
use super::{rest_error, SimState, VERSIONS};

type St = State<Arc<SimState>>;

pub fn router(st: Arc<SimState>) -> Router {
    Router::new()
        .route("/services/oauth2/token", post(token))
        .route("/services/data", get(versions))
        .route("/services/data/", get(versions))
        .route("/services/data/{*rest}", any(api))
        .route("/__sim/stats", get(stats))
        .route("/__sim/dump", get(dump))
        .route("/__sim/custom_fields", post(custom_fields))
        // Bulk uploads take up to 150 MB of CSV and multipart files up to
        // 2 GB; the simulator holds what tests and benches send.
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024 * 1024))
        .with_state(st)
}

/// `POST /services/oauth2/token`, form-encoded: `client_credentials`
/// (client id and secret in the body or as HTTP Basic) or
/// `refresh_token`. Errors are OAuth's `{error, error_description}`.
async fn token(
    State(st): St,
    headers: HeaderMap,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Response {
    st.count("token");
    let oauth_err = |code: &str, msg: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": code, "error_description": msg})),
        )
            .into_response()
    };
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let (id, secret) = match basic {
        Some(x) => x,
        None => (
            f.get("client_id").cloned().unwrap_or_default(),
            f.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    let grant = f.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        "" => return oauth_err("unsupported_grant_type", "grant type not supported"),
        "client_credentials" => {
            if id != st.opts.client_id || secret != st.opts.client_secret {
                return oauth_err("invalid_client", "invalid client credentials");
            }
        }
        "refresh_token" => {
            if id != st.opts.client_id {
                return oauth_err("invalid_client_id", "client identifier invalid");
            }
            if f.get("refresh_token") != Some(&st.opts.refresh_token) {
                return oauth_err("invalid_grant", "expired access/refresh token");
            }
        }
        _ => return oauth_err("unsupported_grant_type", "grant type not supported"),
    }
    let n = st.next();
    let access = format!("00D5g0000000Sim!AQ{:016x}", n * 0x9E37_79B9);
    st.tokens.lock().unwrap().insert(access.clone(), 0);
    let base = st.base.lock().unwrap().clone();
    let user = st.store.lock().unwrap().api_user.clone();
    Json(json!({
        "access_token": access,
        "instance_url": base,
        "id": format!("{base}/id/00D5g0000000SimEAA/{user}"),
        "token_type": "Bearer",
        "issued_at": chrono::Utc::now().timestamp_millis().to_string(),
        "signature": "c2ltdWxhdGVk",
        "scope": "api",
    }))
    .into_response()
}

/// `GET /services/data/`: the versions, no session needed.
async fn versions() -> Response {
    Json(
        VERSIONS
            .iter()
            .map(|(label, v)| json!({"label": label, "url": format!("/services/data/v{v}"), "version": v}))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn stats(State(st): St) -> Response {
    let store = st.store.lock().unwrap();
    let counts: Map<String, Value> = store
        .records
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.len())))
        .collect();
    let jobs = st.jobs.lock().unwrap();
    Json(json!({
        "requests": st.requests.load(Ordering::Relaxed),
        "api_usage": st.api_used.load(Ordering::Relaxed),
        "daily_requests": st.opts.daily_requests,
        "refused": st.refused.load(Ordering::Relaxed),
        "record_locks": st.record_locks.load(Ordering::Relaxed),
        "bulk_batches": st.batches_used.load(Ordering::Relaxed),
        "bulk_jobs": jobs.len(),
        "by_kind": *st.by_kind.lock().unwrap(),
        "records": counts,
    }))
    .into_response()
}

async fn dump(State(st): St) -> Response {
    Json(st.store.lock().unwrap().dump()).into_response()
}

fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(rest_error(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            &format!("The request body is not valid JSON: {e}"),
        ))
    })
}

fn errors_response(status: StatusCode, errs: &[SfError]) -> Response {
    (
        status,
        Json(errs.iter().map(SfError::rest).collect::<Vec<_>>()),
    )
        .into_response()
}

fn not_found() -> Response {
    rest_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

fn query_params(uri: &Uri) -> std::collections::HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Everything under `/services/data/vXX.X/`.
async fn api(State(st): St, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri
        .path()
        .trim_start_matches("/services/data/")
        .trim_end_matches('/');
    let mut segs: Vec<String> = path
        .split('/')
        .map(|s| {
            url::form_urlencoded::parse(s.as_bytes())
                .map(|(k, v)| {
                    if v.is_empty() {
                        k.into_owned()
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect::<String>()
        })
        .collect();
    let version = segs.remove(0);
    let Some(version) = version
        .strip_prefix('v')
        .filter(|v| VERSIONS.iter().any(|(_, x)| x == v))
        .map(str::to_string)
    else {
        return rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist (unknown API version)",
        );
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let q = query_params(&uri);
    match (method.clone(), segs.as_slice()) {
        (Method::GET, []) => {
            st.count("resources");
            Json(json!({
                "sobjects": format!("/services/data/v{version}/sobjects"),
                "query": format!("/services/data/v{version}/query"),
                "limits": format!("/services/data/v{version}/limits"),
                "composite": format!("/services/data/v{version}/composite"),
                "jobs": format!("/services/data/v{version}/jobs"),
            }))
            .into_response()
        }
        (Method::GET, ["limits"]) => limits(&st),
        (Method::GET, ["sobjects"]) => {
            st.count("describe");
            let store = st.store.lock().unwrap();
            let list: Vec<Value> = store
                .objects
                .iter()
                .map(|o| json!({"name": o.name, "label": o.label, "keyPrefix": o.prefix, "custom": o.custom, "createable": true, "queryable": true,
                    "urls": {"sobject": format!("/services/data/v{version}/sobjects/{}", o.name), "describe": format!("/services/data/v{version}/sobjects/{}/describe", o.name)}}))
                .collect();
            Json(json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}))
                .into_response()
        }
        (Method::GET, ["sobjects", obj, "describe"]) => {
            st.count("describe");
            let store = st.store.lock().unwrap();
            match store.object(obj) {
                Some(o) => Json(o.describe(store.audit_for(&o.name), &version)).into_response(),
                None => not_found(),
            }
        }
        (Method::GET, ["sobjects", obj]) => {
            st.count("describe");
            let store = st.store.lock().unwrap();
            match store.object(obj) {
                Some(o) => Json(json!({"objectDescribe": {"name": o.name, "keyPrefix": o.prefix, "label": o.label}, "recentItems": []})).into_response(),
                None => not_found(),
            }
        }
        (Method::POST, ["sobjects", obj]) => {
            st.count("rest");
            let multipart = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .and_then(|ct| ct.strip_prefix("multipart/form-data"))
                .map(str::to_string);
            let v = match multipart {
                Some(params) => match multipart_record(&params, &body) {
                    Ok(v) => {
                        st.count("multipart");
                        v
                    }
                    Err(e) => return rest_error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", &e),
                },
                None if body.len() > JSON_BLOB_MAX => {
                    return rest_error(
                        StatusCode::BAD_REQUEST,
                        "JSON_PARSER_ERROR",
                        "a non-multipart request takes at most 37.5 MB of base64-encoded data: send the file as multipart/form-data",
                    )
                }
                None => match json_body(&body) {
                    Ok(v) => v,
                    Err(r) => return *r,
                },
            };
            let Some(m) = v.as_object() else {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "JSON_PARSER_ERROR",
                    "expected a JSON object",
                );
            };
            let mut store = st.store.lock().unwrap();
            if store.object(obj).is_none() {
                return not_found();
            }
            match store.insert(obj, m) {
                Ok(id) => (
                    StatusCode::CREATED,
                    Json(json!({"id": id, "success": true, "errors": []})),
                )
                    .into_response(),
                Err(e) => errors_response(StatusCode::BAD_REQUEST, &e),
            }
        }
        (Method::GET, ["sobjects", "ContentVersion", id, "VersionData"]) => {
            st.count("rest");
            let store = st.store.lock().unwrap();
            match store.blobs.get(&super::ids::normalize(id)) {
                Some(b) => {
                    ([("content-type", "application/octetstream")], b.clone()).into_response()
                }
                None => not_found(),
            }
        }
        (m, ["sobjects", obj, id]) if [Method::GET, Method::PATCH, Method::DELETE].contains(&m) => {
            st.count("rest");
            record(&st, m, obj, id, &q, &body, &version)
        }
        (m, ["sobjects", obj, field, value]) => {
            st.count("rest");
            by_external_id(&st, m, obj, field, value, &body, &version)
        }
        (Method::GET, ["query"]) | (Method::GET, ["queryAll"]) => {
            st.count("query");
            let page = headers
                .get("sforce-query-options")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split("batchSize=").nth(1))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .map(|n| n.clamp(200, 2000))
                .unwrap_or(st.opts.query_page)
                .min(st.opts.query_page);
            query(
                &st,
                q.get("q").map(String::as_str).unwrap_or(""),
                page,
                &version,
            )
        }
        (Method::GET, ["query", locator]) | (Method::GET, ["queryAll", locator]) => {
            st.count("query");
            next_page(&st, locator, &version)
        }
        (m, ["composite", "sobjects", rest @ ..]) => {
            st.count("collections");
            collections(&st, m, rest, &q, &body, &version)
        }
        (m, ["jobs", "ingest", rest @ ..]) => {
            st.count("bulk");
            ingest(&st, m, rest, &headers, &body, &version).await
        }
        _ => not_found(),
    }
}

fn limits(st: &SimState) -> Response {
    st.count("limits");
    let used = st.api_used.load(Ordering::Relaxed);
    let max = st.opts.daily_requests;
    let batches = st.batches_used.load(Ordering::Relaxed);
    Json(json!({
        "DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)},
        "DailyBulkApiBatches": {"Max": st.opts.daily_batches, "Remaining": st.opts.daily_batches.saturating_sub(batches)},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 10240, "Remaining": 10000},
        "FileStorageMB": {"Max": 10240, "Remaining": 10000},
    }))
    .into_response()
}

/// GET/PATCH/DELETE `/sobjects/{obj}/{id}`.
fn record(
    st: &SimState,
    m: Method,
    obj: &str,
    id: &str,
    q: &std::collections::HashMap<String, String>,
    body: &Bytes,
    version: &str,
) -> Response {
    let mut store = st.store.lock().unwrap();
    let Some(name) = store.canonical(obj) else {
        return not_found();
    };
    if !super::ids::well_formed(id) {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_ID",
            &format!("{name} ID: id value of incorrect type: {id}"),
        );
    }
    match m {
        Method::GET => match store.get(&name, id) {
            Some(r) => {
                let full = store.public(&name, r, version);
                match q.get("fields") {
                    Some(fields) => {
                        let mut out = Map::new();
                        out.insert("attributes".into(), full["attributes"].clone());
                        for f in fields.split(',') {
                            out.insert(f.to_string(), full.get(f).cloned().unwrap_or(Value::Null));
                        }
                        Json(Value::Object(out)).into_response()
                    }
                    None => Json(full).into_response(),
                }
            }
            None => not_found(),
        },
        Method::PATCH => {
            let v = match json_body(body) {
                Ok(v) => v,
                Err(r) => return *r,
            };
            if store.get(&name, id).is_none() {
                return not_found();
            }
            match store.update(&name, id, v.as_object().unwrap_or(&Map::new())) {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => errors_response(StatusCode::BAD_REQUEST, &e),
            }
        }
        _ => match store.delete(&name, id) {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(_) => not_found(),
        },
    }
}

/// `/sobjects/{obj}/{externalIdField}/{value}`: GET the record, PATCH
/// upserts (201 created / 200 updated, v46+), DELETE.
fn by_external_id(
    st: &SimState,
    m: Method,
    obj: &str,
    field: &str,
    value: &str,
    body: &Bytes,
    version: &str,
) -> Response {
    let mut store = st.store.lock().unwrap();
    let Some(name) = store.canonical(obj) else {
        return not_found();
    };
    if !store
        .object(&name)
        .and_then(|o| o.field(field))
        .is_some_and(|f| f.external_id || f.name == "Id")
    {
        return rest_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("Provided external ID field does not exist or is not accessible: {field}"),
        );
    }
    let found = store.find_by(&name, field, value);
    match m {
        Method::GET => match found.as_slice() {
            [id] => {
                Json(store.public(&name, store.get(&name, id).unwrap(), version)).into_response()
            }
            [] => not_found(),
            many => (
                StatusCode::MULTIPLE_CHOICES,
                Json(
                    many.iter()
                        .map(|id| format!("/services/data/v{version}/sobjects/{name}/{id}"))
                        .collect::<Vec<_>>(),
                ),
            )
                .into_response(),
        },
        Method::PATCH => {
            let v = match json_body(body) {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let b = v.as_object().cloned().unwrap_or_default();
            if b.keys().any(|k| k.eq_ignore_ascii_case(field) || k == "Id") {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_FIELD",
                    &format!(
                        "The body of an upsert must not hold the external id field {field} or Id"
                    ),
                );
            }
            if found.len() > 1 {
                return (
                    StatusCode::MULTIPLE_CHOICES,
                    Json(
                        found
                            .iter()
                            .map(|id| format!("/services/data/v{version}/sobjects/{name}/{id}"))
                            .collect::<Vec<_>>(),
                    ),
                )
                    .into_response();
            }
            match store.upsert(&name, field, value, &b) {
                Ok((id, Upserted::Created)) => (
                    StatusCode::CREATED,
                    Json(json!({"id": id, "success": true, "errors": [], "created": true})),
                )
                    .into_response(),
                Ok((id, Upserted::Updated)) => (
                    StatusCode::OK,
                    Json(json!({"id": id, "success": true, "errors": [], "created": false})),
                )
                    .into_response(),
                Err(e) => errors_response(StatusCode::BAD_REQUEST, &e),
            }
        }
        Method::DELETE => match found.as_slice() {
            [id] => {
                let id = id.clone();
                let _ = store.delete(&name, &id);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => not_found(),
        },
        _ => rest_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "HTTP Method not allowed for this resource",
        ),
    }
}

/// `POST /__sim/custom_fields`: the admin's Setup step (not a Salesforce
/// API: ferry's data calls cannot create a schema). A JSON array of
/// `{object, field, type, length, reference_to}` rows, as ferry's
/// `out_salesforce_custom_fields` lists them.
async fn custom_fields(State(st): St, Json(rows): Json<Vec<Value>>) -> Response {
    let mut store = st.store.lock().unwrap();
    let mut added = 0;
    for r in &rows {
        let (Some(object), Some(field), Some(kind)) = (
            r["object"].as_str(),
            r["field"].as_str(),
            r["type"].as_str(),
        ) else {
            return (
                StatusCode::BAD_REQUEST,
                "each row needs object, field and type",
            )
                .into_response();
        };
        let length = r["length"].as_u64().map(|n| n as usize);
        let made = super::schema::admin_field(field, kind, length, r["reference_to"].as_str())
            .and_then(|f| store.add_custom_field(object, f));
        if let Err(e) = made {
            return (StatusCode::BAD_REQUEST, e).into_response();
        }
        added += 1;
    }
    Json(json!({"fields": added})).into_response()
}

/// Bytes a non-multipart blob request may carry (37.5 MB of base64 plus
/// the record's other fields; REST API guide, "Insert or Update Blob
/// Data").
const JSON_BLOB_MAX: usize = 37_500_000 + 64 * 1024;

/// A multipart ContentVersion create: the record's JSON in the part named
/// `entity_content`, the bytes in `VersionData` (REST API guide, "Insert
/// or Update Blob Data"); the bytes become the base64 `VersionData` the
/// store takes.
fn multipart_record(params: &str, body: &[u8]) -> Result<Value, String> {
    use base64::Engine;
    let parts = crate::sim::multipart_parts(params, body)?;
    let entity = parts
        .iter()
        .find(|(n, _)| n == "entity_content")
        .ok_or("no part named entity_content (the record's JSON)")?;
    let mut v: Value =
        serde_json::from_slice(&entity.1).map_err(|e| format!("entity_content: {e}"))?;
    let data = parts
        .iter()
        .find(|(n, _)| n == "versiondata")
        .ok_or("no part named VersionData (the file's bytes)")?;
    v["VersionData"] = json!(base64::engine::general_purpose::STANDARD.encode(&data.1));
    Ok(v)
}

/// Salesforce refuses a ContentDocumentLink query that does not filter on
/// the document or the linked record ("Implementation restriction:
/// ContentDocumentLink requires a filter by a single Id on
/// ContentDocumentId or LinkedEntityId using the equals operator or
/// multiple Id's using the IN operator", SOQL and SOSL reference).
fn restricted(q: &str) -> Option<&'static str> {
    let l = q.to_lowercase();
    let from_cdl = l
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w == ["from", "contentdocumentlink"]);
    let filtered = l
        .split_once(" where ")
        .is_some_and(|(_, w)| w.contains("linkedentityid") || w.contains("contentdocumentid"));
    (from_cdl && !filtered).then_some("Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.")
}

fn query(st: &SimState, q: &str, page: usize, version: &str) -> Response {
    if let Some(why) = restricted(q) {
        return rest_error(StatusCode::BAD_REQUEST, "MALFORMED_QUERY", why);
    }
    let parsed = match super::soql::parse(q) {
        Ok(p) => p,
        Err(e) => {
            return rest_error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_QUERY",
                &format!("unexpected token in query: {e}"),
            )
        }
    };
    let store = st.store.lock().unwrap();
    let (total, rows) = match super::soql::run(&store, &parsed, version) {
        Ok(x) => x,
        Err(e) => return errors_response(StatusCode::BAD_REQUEST, &[e]),
    };
    drop(store);
    if rows.len() <= page {
        return Json(json!({"totalSize": total, "done": true, "records": rows})).into_response();
    }
    let first: Vec<Value> = rows[..page].to_vec();
    let locator = format!("01gSim{:012}", st.next());
    st.cursors
        .lock()
        .unwrap()
        .insert(locator.clone(), (rows, page));
    Json(json!({
        "totalSize": total,
        "done": false,
        "nextRecordsUrl": format!("/services/data/v{version}/query/{locator}-{page}"),
        "records": first,
    }))
    .into_response()
}

fn next_page(st: &SimState, locator: &str, version: &str) -> Response {
    let (loc, _) = locator.rsplit_once('-').unwrap_or((locator, ""));
    let mut cursors = st.cursors.lock().unwrap();
    let Some((rows, at)) = cursors.get_mut(loc) else {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        );
    };
    let page = st.opts.query_page;
    let total = rows.len();
    let end = (*at + page).min(total);
    let out: Vec<Value> = rows[*at..end].to_vec();
    *at = end;
    let done = end >= total;
    let body = if done {
        json!({"totalSize": total, "done": true, "records": out})
    } else {
        json!({"totalSize": total, "done": false, "nextRecordsUrl": format!("/services/data/v{version}/query/{loc}-{end}"), "records": out})
    };
    if done {
        cursors.remove(loc);
    }
    Json(body).into_response()
}

/// sObject Collections: POST create, PATCH update, PATCH
/// `{obj}/{extField}` upsert, GET `{obj}?ids=&fields=`, DELETE `?ids=`.
/// At most 200 records; per-record results in request order; HTTP 200
/// even when records fail (`allOrNone=false`).
fn collections(
    st: &SimState,
    m: Method,
    rest: &[&str],
    q: &std::collections::HashMap<String, String>,
    body: &Bytes,
    version: &str,
) -> Response {
    let mut store = st.store.lock().unwrap();
    if m == Method::GET {
        let [obj] = rest else { return not_found() };
        let Some(name) = store.canonical(obj) else {
            return not_found();
        };
        let ids: Vec<&str> = q
            .get("ids")
            .map(|s| s.split(',').collect())
            .unwrap_or_default();
        let fields: Vec<&str> = q
            .get("fields")
            .map(|s| s.split(',').collect())
            .unwrap_or_default();
        if ids.len() > 2000 {
            return rest_error(
                StatusCode::BAD_REQUEST,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 2000 records in this operation",
            );
        }
        let out: Vec<Value> = ids
            .iter()
            .map(|id| match store.get(&name, id) {
                Some(r) => {
                    let full = store.public(&name, r, version);
                    let mut o = Map::new();
                    o.insert("attributes".into(), full["attributes"].clone());
                    for f in &fields {
                        o.insert(f.to_string(), full.get(*f).cloned().unwrap_or(Value::Null));
                    }
                    Value::Object(o)
                }
                None => Value::Null,
            })
            .collect();
        return Json(out).into_response();
    }
    if m == Method::DELETE {
        let ids: Vec<String> = q
            .get("ids")
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        if ids.len() > 200 {
            return rest_error(
                StatusCode::BAD_REQUEST,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records in this operation",
            );
        }
        let out: Vec<Value> = ids
            .iter()
            .map(|id| {
                let obj = store.object_of_id(id).map(|o| o.name.clone());
                match obj.map(|o| store.delete(&o, id)) {
                    Some(Ok(())) => json!({"id": id, "success": true, "errors": []}),
                    _ => json!({"id": id, "success": false, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]}),
                }
            })
            .collect();
        return Json(out).into_response();
    }
    let v = match json_body(body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let all_or_none = v["allOrNone"].as_bool().unwrap_or(false);
    let Some(records) = v["records"].as_array() else {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            "records: an array is required",
        );
    };
    if records.len() > 200 {
        return rest_error(
            StatusCode::BAD_REQUEST,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        );
    }
    let upsert = match (m.clone(), rest) {
        (Method::POST, []) => None,
        (Method::PATCH, []) => None,
        (Method::PATCH, [obj, field]) => Some((obj.to_string(), field.to_string())),
        _ => return not_found(),
    };
    let update = m == Method::PATCH && upsert.is_none();
    let results: Vec<Value> = records
        .iter()
        .map(|r| {
            let locked = st.opts.record_lock_rate > 0.0
                && st.rng.lock().unwrap().gen_bool(st.opts.record_lock_rate.min(1.0));
            if locked {
                st.record_locks.fetch_add(1, Ordering::Relaxed);
                return json!({"success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record or 1 records", "fields": []}]});
            }
            let Some(rec) = r.as_object() else {
                return json!({"success": false, "errors": [{"statusCode": "JSON_PARSER_ERROR", "message": "a record must be an object", "fields": []}]});
            };
            let ty = rec.get("attributes").and_then(|a| a["type"].as_str()).map(str::to_string);
            let mut b = rec.clone();
            b.remove("attributes");
            let res: Result<(String, Option<bool>), Vec<SfError>> = match (&upsert, ty) {
                (Some((obj, field)), ty) => {
                    if ty.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case(obj)) {
                        Err(vec![SfError::new("INVALID_TYPE", "an upsert takes records of one type", &[])])
                    } else {
                        let key = b.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).and_then(|(_, v)| v.as_str()).unwrap_or("").to_string();
                        b.retain(|k, _| !k.eq_ignore_ascii_case(field));
                        store.upsert(obj, field, &key, &b).map(|(id, u)| (id, Some(u == Upserted::Created)))
                    }
                }
                (None, None) => Err(vec![SfError::new("INVALID_TYPE", "Must send a concrete entity type.", &[])]),
                (None, Some(ty)) if update => match b.remove("id").or_else(|| b.remove("Id")).and_then(|v| v.as_str().map(str::to_string)) {
                    Some(id) => store.update(&ty, &id, &b).map(|_| (id, None)),
                    None => Err(vec![SfError::new("MISSING_ARGUMENT", "Id not specified in an update call", &["Id"])]),
                },
                (None, Some(ty)) => {
                    if b.contains_key("id") || b.contains_key("Id") {
                        Err(vec![SfError::new("INVALID_FIELD", "Records with IDs cannot be created", &["Id"])])
                    } else {
                        store.insert(&ty, &b).map(|id| (id, None))
                    }
                }
            };
            match res {
                Ok((id, None)) => json!({"id": id, "success": true, "errors": []}),
                Ok((id, Some(created))) => json!({"id": id, "success": true, "errors": [], "created": created}),
                Err(errs) => json!({"success": false, "errors": errs.iter().map(SfError::collection).collect::<Vec<_>>()}),
            }
        })
        .collect();
    if all_or_none && results.iter().any(|r| r["success"] == false) {
        // The failures stand; every other record was rolled back.
        for r in &results {
            if let Some(id) = r["id"].as_str() {
                if upsert.is_none() && !update {
                    let obj = store.object_of_id(id).map(|o| o.name.clone());
                    if let Some(o) = obj {
                        let _ = store.delete(&o, id);
                    }
                }
            }
        }
        let rolled: Vec<Value> = results
            .into_iter()
            .map(|r| if r["success"] == true {
                json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]})
            } else { r })
            .collect();
        return Json(rolled).into_response();
    }
    Json(results).into_response()
}

/// Bulk API 2.0 ingest.
async fn ingest(
    st: &Arc<SimState>,
    m: Method,
    rest: &[&str],
    headers: &HeaderMap,
    body: &Bytes,
    version: &str,
) -> Response {
    match (m, rest) {
        (Method::POST, []) => {
            let v = match json_body(body) {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let object = v["object"].as_str().unwrap_or("");
            let operation = v["operation"].as_str().unwrap_or("");
            let store = st.store.lock().unwrap();
            let Some(obj) = store.object(object) else {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDENTITY",
                    &format!("Entity '{object}' is not supported by the Bulk API."),
                );
            };
            if !["insert", "update", "upsert", "delete", "hardDelete"].contains(&operation) {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOB",
                    &format!("InvalidJob : Invalid operation: {operation}"),
                );
            }
            let ext = v["externalIdFieldName"].as_str().map(str::to_string);
            if operation == "upsert"
                && !ext
                    .as_deref()
                    .and_then(|e| obj.field(e))
                    .is_some_and(|f| f.external_id || f.name == "Id")
            {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOB",
                    "InvalidJob : External ID was blank or not an external id field for upsert",
                );
            }
            if v.get("contentType")
                .and_then(Value::as_str)
                .is_some_and(|c| c != "CSV")
            {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOB",
                    "InvalidJob : contentType must be CSV",
                );
            }
            let Some(delimiter) =
                bulk::delimiter_byte(v["columnDelimiter"].as_str().unwrap_or("COMMA"))
            else {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOB",
                    "InvalidJob : unknown columnDelimiter",
                );
            };
            let line_ending = v["lineEnding"].as_str().unwrap_or("LF").to_string();
            let name = obj.name.clone();
            let creator = store.api_user.clone();
            drop(store);
            let id = super::ids::mint("750", '5', 0x4000 + st.next());
            let now = now_iso();
            let job = Job {
                id: id.clone(),
                object: name,
                operation: operation.to_string(),
                external_id: ext,
                state: "Open".into(),
                line_ending,
                delimiter,
                created: now.clone(),
                modstamp: now,
                created_by: creator,
                version: version.to_string(),
                uploads: Vec::new(),
                processed: 0,
                failed: 0,
                error_message: None,
                successes: Vec::new(),
                failures: Vec::new(),
                header: Vec::new(),
                unprocessed: Vec::new(),
            };
            let info = job.info();
            st.jobs.lock().unwrap().insert(id, job);
            Json(info).into_response()
        }
        (Method::GET, []) => {
            let jobs = st.jobs.lock().unwrap();
            Json(json!({"done": true, "records": jobs.values().map(Job::info).collect::<Vec<_>>(), "nextRecordsUrl": null})).into_response()
        }
        (Method::PUT, [id, "batches"]) => {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !ct.starts_with("text/csv") {
                return rest_error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "INVALIDCONTENTTYPE",
                    "Content-Type must be text/csv",
                );
            }
            if body.len() > 150 * 1024 * 1024 {
                return rest_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "INVALIDBATCH",
                    "InvalidBatch : the upload is over 150 MB",
                );
            }
            let mut jobs = st.jobs.lock().unwrap();
            let Some(job) = jobs.get_mut(&super::ids::normalize(id)) else {
                return not_found();
            };
            if job.state != "Open" {
                return rest_error(
                    StatusCode::CONFLICT,
                    "INVALIDJOBSTATE",
                    &format!(
                        "Job {} is not open for uploads: it is {}",
                        job.id, job.state
                    ),
                );
            }
            job.uploads.push(body.to_vec());
            StatusCode::CREATED.into_response()
        }
        (Method::PATCH, [id]) => {
            let v = match json_body(body) {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let want = v["state"].as_str().unwrap_or("");
            let id = super::ids::normalize(id);
            let mut jobs = st.jobs.lock().unwrap();
            let Some(job) = jobs.get_mut(&id) else {
                return not_found();
            };
            match (job.state.as_str(), want) {
                ("Open", "UploadComplete") => {
                    job.state = "UploadComplete".into();
                    job.modstamp = now_iso();
                    let info = job.info();
                    drop(jobs);
                    tokio::spawn(run_job(st.clone(), id));
                    Json(info).into_response()
                }
                ("Open" | "UploadComplete" | "InProgress", "Aborted") => {
                    job.state = "Aborted".into();
                    Json(job.info()).into_response()
                }
                (from, to) => rest_error(
                    StatusCode::CONFLICT,
                    "INVALIDJOBSTATE",
                    &format!("Cannot change a job from {from} to {to}"),
                ),
            }
        }
        (Method::GET, [id]) => {
            let jobs = st.jobs.lock().unwrap();
            match jobs.get(&super::ids::normalize(id)) {
                Some(j) => Json(j.info()).into_response(),
                None => not_found(),
            }
        }
        (Method::DELETE, [id]) => {
            let id = super::ids::normalize(id);
            let mut jobs = st.jobs.lock().unwrap();
            match jobs.get(&id).map(|j| j.state.clone()) {
                Some(s)
                    if ["JobComplete", "Failed", "Aborted", "Open", "UploadComplete"]
                        .contains(&s.as_str()) =>
                {
                    jobs.remove(&id);
                    st.deleted_jobs.lock().unwrap().insert(id);
                    StatusCode::NO_CONTENT.into_response()
                }
                Some(_) => rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOBSTATE",
                    "A job in progress cannot be deleted",
                ),
                None => not_found(),
            }
        }
        (Method::GET, [id, which]) => {
            let jobs = st.jobs.lock().unwrap();
            let Some(job) = jobs.get(&super::ids::normalize(id)) else {
                return not_found();
            };
            let terminal = ["JobComplete", "Failed", "Aborted"].contains(&job.state.as_str());
            if !terminal {
                return rest_error(
                    StatusCode::BAD_REQUEST,
                    "INVALIDJOBSTATE",
                    "Results are available once the job is complete",
                );
            }
            let csv = match *which {
                "successfulResults" => {
                    let rows: Vec<(String, String, Vec<String>)> = job
                        .successes
                        .iter()
                        .map(|(id, c, r)| (id.clone(), c.to_string(), r.clone()))
                        .collect();
                    bulk::results_csv(&["sf__Id", "sf__Created"], &job.header, &rows)
                }
                "failedResults" => {
                    bulk::results_csv(&["sf__Id", "sf__Error"], &job.header, &job.failures)
                }
                "unprocessedrecords" => bulk::unprocessed_csv(&job.header, &job.unprocessed),
                _ => return not_found(),
            };
            ([("content-type", "text/csv")], csv).into_response()
        }
        _ => not_found(),
    }
}

/// A closed job: UploadComplete for a while, InProgress, then processed.
async fn run_job(st: Arc<SimState>, id: String) {
    let pause = Duration::from_millis(st.opts.bulk_delay_ms);
    tokio::time::sleep(pause / 2).await;
    let rows = {
        let mut jobs = st.jobs.lock().unwrap();
        let Some(job) = jobs.get_mut(&id) else { return };
        if job.state != "UploadComplete" {
            return;
        }
        job.state = "InProgress".into();
        job.uploads
            .iter()
            .map(|u| u.iter().filter(|b| **b == b'\n').count())
            .sum::<usize>()
    };
    tokio::time::sleep(pause / 2).await;
    let batches = rows.div_ceil(bulk::RECORDS_PER_BATCH).max(1) as u64;
    let used = st.batches_used.fetch_add(batches, Ordering::Relaxed) + batches;
    let mut jobs = st.jobs.lock().unwrap();
    let Some(job) = jobs.get_mut(&id) else { return };
    if job.state != "InProgress" {
        return;
    }
    if used > st.opts.daily_batches {
        job.state = "Failed".into();
        job.error_message = Some("Exceeded max number of batches allowed in 24 hour period".into());
        return;
    }
    let mut store = st.store.lock().unwrap();
    bulk::process(&mut store, job, 32_000);
    job.modstamp = now_iso();
}
