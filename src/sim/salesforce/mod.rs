//! `ferry sim salesforce`: a local fake of a Salesforce org's REST,
//! sObject Collections and Bulk API 2.0 ingest APIs, written from
//! `../shared/reference/salesforce-api.md` and the Salesforce pages it
//! cites (checked with the docs search where it marks a claim [likely]):
//! an OAuth 2.0 token endpoint (client credentials, refresh token) whose
//! `instance_url` is the base for everything, the versions list,
//! describe with picklists and external ids, sObject REST, Collections
//! (200 records, per-record results in order), Bulk 2.0 jobs processed
//! asynchronously with CSV results, SOQL with `nextRecordsUrl`,
//! `Sforce-Limit-Info: api-usage=n/max` on every answer but the versions
//! list, and the daily allocation's `REQUEST_LIMIT_EXCEEDED`.

pub mod admin;
mod bulk;
pub mod ids;
mod routes;
pub mod schema;
pub mod soql;
pub mod store;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use store::Store;

/// The newest API version the simulator serves (Winter '25 … Spring '26
/// are listed; the reference notes v66.0 as Spring '26).
pub const VERSIONS: &[(&str, &str)] = &[
    ("Winter '25", "62.0"),
    ("Spring '25", "63.0"),
    ("Summer '25", "64.0"),
    ("Winter '26", "65.0"),
    ("Spring '26", "66.0"),
];

/// Knobs of the Salesforce simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Connected app credentials the token endpoint accepts.
    pub client_id: String,
    pub client_secret: String,
    /// A refresh token the token endpoint accepts (`grant_type=refresh_token`).
    pub refresh_token: String,
    /// Requests one access token serves before it expires (401
    /// `INVALID_SESSION_ID`); 0 = never.
    pub token_requests: u64,
    /// Daily API request allocation (Enterprise: 100,000 + 1,000 a license).
    pub daily_requests: u64,
    /// Requests already used today when the simulator starts (other
    /// integrations of the org).
    pub used_requests: u64,
    /// Bulk batches per 24 h (15,000, shared with Bulk 1.0).
    pub daily_batches: u64,
    /// "Set Audit Fields upon Record Creation" granted to the API user.
    pub audit_fields: bool,
    /// Salesforce Support also enabled audit fields on CaseComment.
    pub case_comment_audit_fields: bool,
    /// The custom fields ferry needs exist (`Kustomer_Id__c` and the
    /// original-date fields); off: an org nobody prepared.
    pub custom_fields: bool,
    /// Share of the records of a Collections request answered
    /// `UNABLE_TO_LOCK_ROW` (not written) inside an HTTP 200.
    pub record_lock_rate: f64,
    /// The external-id field name on every object.
    pub external_id: String,
    /// Rows per SOQL page (Salesforce: 2,000 by default).
    pub query_page: usize,
    /// How long a closed Bulk job stays UploadComplete, then InProgress.
    pub bulk_delay_ms: u64,
    pub latency_ms: u64,
    pub fault_rate: f64,
    /// The first POST/PATCH/PUT whose path contains this is processed and
    /// its answer cut off mid-body.
    pub cut_write_to: Option<String>,
    /// (first name, last name, email) of the org's users.
    pub users: Vec<(String, String, String)>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            refresh_token: "sim-refresh".into(),
            token_requests: 0,
            daily_requests: 100_000,
            used_requests: 0,
            daily_batches: 15_000,
            audit_fields: true,
            case_comment_audit_fields: false,
            custom_fields: true,
            record_lock_rate: 0.0,
            external_id: "Kustomer_Id__c".into(),
            query_page: 2000,
            bulk_delay_ms: 300,
            latency_ms: 0,
            fault_rate: 0.0,
            cut_write_to: None,
            users: vec![("Admin".into(), "User".into(), "admin@sf.test".into())],
        }
    }
}

impl SimOptions {
    /// Users that mirror a seeded Kustomer simulator's org (all its agents
    /// but every fourth, as in a real org where some never got a seat).
    /// Custom objects are an admin's step: `POST /__sim/custom_fields`.
    pub fn mirror_kustomer(mut self, seed: u64, customers: u32) -> SimOptions {
        use crate::sim::kustomer::data::{Kind, Org};
        let org = Org::generate(seed, customers, chrono::Utc::now().timestamp());
        for i in 1..org.count(Kind::Users) {
            if i % 4 == 3 {
                continue;
            }
            let u = crate::sim::kustomer::records::record(&org, Kind::Users, i);
            let name = u["attributes"]["name"].as_str().unwrap_or("Agent");
            let (first, last) = name.split_once(' ').unwrap_or(("", name));
            if let Some(email) = u["attributes"]["email"].as_str() {
                self.users
                    .push((first.to_string(), last.to_string(), email.to_lowercase()));
            }
        }
        self
    }
}

/// Shared state of a running simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub store: Mutex<Store>,
    pub jobs: Mutex<bulk::Jobs>,
    /// Live access tokens and the requests each has served.
    tokens: Mutex<HashMap<String, u64>>,
    /// SOQL cursors: locator → (rows, next offset).
    cursors: Mutex<HashMap<String, (Vec<serde_json::Value>, usize)>>,
    pub api_used: AtomicU64,
    pub batches_used: AtomicU64,
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    /// Collections records answered UNABLE_TO_LOCK_ROW (`record_lock_rate`).
    pub record_locks: AtomicU64,
    /// Requests per kind of endpoint (`rest`, `collections`, `bulk`,
    /// `query`, `describe`, `token`…).
    by_kind: Mutex<HashMap<&'static str, u64>>,
    seq: AtomicU64,
    rng: Mutex<ChaCha8Rng>,
    cut_done: AtomicBool,
    /// Instance URL (this server's base).
    pub base: Mutex<String>,
    /// Job ids removed by DELETE (a later GET is a 404).
    deleted_jobs: Mutex<HashSet<String>>,
}

impl SimState {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn count(&self, kind: &'static str) {
        *self.by_kind.lock().unwrap().entry(kind).or_insert(0) += 1;
    }
}

/// A running simulator.
pub struct RunningSim {
    /// The login host and instance URL (one server plays both).
    pub base_url: String,
    pub handle: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `addr` inside the current tokio runtime.
pub async fn spawn(addr: SocketAddr, opts: SimOptions) -> std::io::Result<RunningSim> {
    let ext: &'static str = Box::leak(opts.external_id.clone().into_boxed_str());
    let objects = schema::standard(ext, opts.custom_fields);
    let mut store = Store::new(objects, opts.audit_fields);
    store.case_comment_audit = opts.case_comment_audit_fields;
    for (first, last, email) in &opts.users {
        store.seed(
            "User",
            serde_json::json!({"Username": email, "Email": email, "FirstName": first, "LastName": last, "IsActive": true}),
        );
    }
    let state = Arc::new(SimState {
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        store: Mutex::new(store),
        jobs: Mutex::new(Default::default()),
        tokens: Mutex::new(HashMap::new()),
        cursors: Mutex::new(HashMap::new()),
        api_used: AtomicU64::new(opts.used_requests),
        batches_used: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        record_locks: AtomicU64::new(0),
        by_kind: Mutex::new(HashMap::new()),
        seq: AtomicU64::new(0),
        cut_done: AtomicBool::new(false),
        base: Mutex::new(String::new()),
        deleted_jobs: Mutex::new(HashSet::new()),
        opts,
    });
    let app = routes::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        gatekeeper,
    ));
    let (base_url, handle) = crate::sim::serve(addr, app).await?;
    *state.base.lock().unwrap() = base_url.clone();
    Ok(RunningSim { base_url, handle })
}

/// A REST error body: a JSON array of `{message, errorCode}`.
pub fn rest_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!([{"message": message, "errorCode": code}])),
    )
        .into_response()
}

/// Auth, the daily allocation, latency, faults and `Sforce-Limit-Info`.
async fn gatekeeper(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__sim") || path.starts_with("/services/oauth2/") {
        return next.run(req).await;
    }
    st.requests.fetch_add(1, Ordering::Relaxed);
    // The versions list needs no session and does not count.
    if path.trim_end_matches('/') == "/services/data" {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| {
            req.headers()
                .get("x-sfdc-session")
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or("")
        .to_string();
    let live = {
        let mut t = st.tokens.lock().unwrap();
        match t.get_mut(&token) {
            Some(n) if st.opts.token_requests == 0 || *n < st.opts.token_requests => {
                *n += 1;
                true
            }
            Some(_) => {
                t.remove(&token);
                false
            }
            None => false,
        }
    };
    if !live {
        return rest_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        );
    }
    let used = st.api_used.load(Ordering::Relaxed);
    let max = st.opts.daily_requests;
    if used >= max {
        st.refused.fetch_add(1, Ordering::Relaxed);
        let mut r = rest_error(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
        limit_header(&mut r, used, max);
        return r;
    }
    let used = st.api_used.fetch_add(1, Ordering::Relaxed) + 1;
    if st.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.opts.latency_ms)).await;
    }
    let write = matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT);
    let fault = st.opts.fault_rate > 0.0 && {
        let mut rng = st.rng.lock().unwrap();
        rng.gen_bool(st.opts.fault_rate.min(1.0))
    };
    if fault {
        // A locked row answers a write with its documented code; anything
        // else is the service being briefly unavailable.
        let mut r = if write && st.next() % 2 == 0 {
            rest_error(
                StatusCode::BAD_REQUEST,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record",
            )
        } else {
            rest_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable",
            )
        };
        limit_header(&mut r, used, max);
        return r;
    }
    let cut_this = write
        && st
            .opts
            .cut_write_to
            .as_deref()
            .is_some_and(|p| path.contains(p))
        && !st.cut_done.swap(true, Ordering::Relaxed);
    let mut resp = next.run(req).await;
    limit_header(&mut resp, used, max);
    if cut_this {
        return crate::sim::cut_off(resp).await;
    }
    resp
}

fn limit_header(r: &mut Response, used: u64, max: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        r.headers_mut().insert("sforce-limit-info", v);
    }
}
