//! `ferry sim kustomer`: a local, seeded, deterministic fake of the Kustomer
//! API — same paths, envelopes, pagination, search caps, archive search,
//! org-wide and search rate limits with `x-ratelimit-*` headers, and fault
//! injection — so tests, benchmarks and the demo run without the internet.

pub mod data;
pub mod events;
pub mod kb;
pub mod records;
mod routes;
mod storage;
pub mod writes;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use data::Org;

/// Knobs of the simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    pub customers: u32,
    pub api_key: String,
    /// Org-wide requests per minute; 0 turns rate limiting off.
    pub rate_limit: u32,
    /// Search requests per minute for API keys; 0 turns it off.
    pub search_rate_limit: u32,
    pub latency_ms: u64,
    /// Probability of a random fault per API request.
    pub fault_rate: f64,
    /// Probability that serving a request also applies a random mutation
    /// (`Org::random_mutation`).
    pub mutate_rate: f64,
    /// Records a plain list query returns at most before it ends (0: no cap).
    pub list_cap: u32,
    /// Lists that answer 404 (a feature the org lacks).
    pub missing: Vec<String>,
    /// Lists that answer 403 (a role the API key lacks).
    pub forbidden: Vec<String>,
    /// Messages' `links.related` answers 404: full bodies are not where
    /// ferry expects them (breaks a `ferry probe` assumption).
    pub no_message_content: bool,
    /// No two messages of the bulk-imported thread share an updatedAt.
    pub distinct_times: bool,
    /// Serve the write side (an org ferry imports into, `writes`) instead
    /// of a generated org to extract.
    pub destination: bool,
    /// Destination: the agents an admin invited (name, email).
    pub users: Vec<(String, String)>,
    /// Destination: teams an admin made before the import (names).
    pub teams: Vec<String>,
    /// Destination: polls of a bulk operation that still say `running`.
    pub bulk_running_polls: u32,
    /// Destination: the languages the default knowledge base serves, the
    /// default first (empty: `en_us` only, as a new org).
    pub kb_languages: Vec<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            customers: 200,
            api_key: "sim-key".into(),
            rate_limit: 0,
            search_rate_limit: 0,
            latency_ms: 0,
            fault_rate: 0.0,
            mutate_rate: 0.0,
            list_cap: 0,
            missing: Vec::new(),
            forbidden: Vec::new(),
            no_message_content: false,
            distinct_times: false,
            destination: false,
            users: Vec::new(),
            teams: Vec::new(),
            bulk_running_polls: 1,
            kb_languages: Vec::new(),
        }
    }
}

/// A deterministic failure that tests switch on through `POST /__sim/inject`.
#[derive(Clone, Debug, Deserialize)]
pub struct Injection {
    /// Applies to requests whose path starts with this.
    pub path: String,
    /// `invalid_json` | `status` | `missing_id` | `wrong_types` | `append`
    pub kind: String,
    /// Only requests with this method (e.g. `GET`: the plain lists, not
    /// the searches that share their path prefix).
    #[serde(default)]
    pub method: Option<String>,
    /// `append`: records added to the page's `data`.
    #[serde(default)]
    pub records: Vec<Value>,
    /// `append`: raw bytes (base64) spliced into `data` as they are, for
    /// what JSON text cannot carry (invalid UTF-8).
    #[serde(default)]
    pub raw_b64: Vec<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// How many responses to spoil; absent = all.
    #[serde(default)]
    pub times: Option<u32>,
}

struct Window {
    start: Instant,
    count: u32,
    search: u32,
}

/// Shared state of a running simulator.
pub struct SimState {
    pub org: RwLock<Org>,
    pub opts: SimOptions,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    window: Mutex<Window>,
    rng: Mutex<ChaCha8Rng>,
    injections: Mutex<Vec<Injection>>,
    /// Base URL of the simulated storage host serving attachment bytes
    /// (another port: another origin, as S3 is for the real API).
    pub storage_url: std::sync::OnceLock<String>,
    /// What a destination org holds (`writes`).
    pub store: Mutex<writes::Store>,
}

impl SimState {
    /// Generates the org and the state around it.
    pub fn new(opts: SimOptions) -> Arc<SimState> {
        let now = chrono::Utc::now().timestamp_millis();
        // A destination org generates nothing to extract.
        let customers = if opts.destination { 5 } else { opts.customers };
        let org = Org::generate_with(opts.seed, customers, now, opts.distinct_times);
        let mut store = writes::Store::with_org(&opts.users, &opts.teams);
        store.kb = kb::Kb::new(&opts.kb_languages);
        Arc::new(SimState {
            org: RwLock::new(org),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed ^ 0xfeed)),
            opts,
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            window: Mutex::new(Window {
                start: Instant::now(),
                count: 0,
                search: 0,
            }),
            injections: Mutex::new(Vec::new()),
            storage_url: std::sync::OnceLock::new(),
            store: Mutex::new(store),
        })
    }
}

/// A running simulator.
pub struct RunningSim {
    pub base_url: String,
    pub state: Arc<SimState>,
    pub handle: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `addr` inside the current tokio runtime.
pub async fn spawn(addr: SocketAddr, opts: SimOptions) -> std::io::Result<RunningSim> {
    let state = SimState::new(opts);
    // The storage host first: attachment records link to it.
    let storage_addr = SocketAddr::new(addr.ip(), 0);
    let (storage_url, _storage) =
        crate::sim::serve(storage_addr, storage::router(state.clone())).await?;
    let _ = state.storage_url.set(storage_url);
    // Real clients send `/v1/users/current/` and `/v1/customers/search/`
    // (Singer's tap-kustomer) and the API answers them: a trailing slash
    // is dropped before routing.
    let app = axum::Router::new()
        .fallback_service(if state.opts.destination {
            writes::router(state.clone())
        } else {
            routes::router(state.clone())
        })
        .layer(axum::middleware::map_request(strip_trailing_slash));
    let (base_url, handle) = crate::sim::serve(addr, app).await?;
    Ok(RunningSim {
        base_url,
        state,
        handle,
    })
}

async fn strip_trailing_slash(mut req: Request) -> Request {
    crate::sim::rewrite_path(&mut req, |p| {
        (p.len() > 1 && p.ends_with('/')).then(|| p.trim_end_matches('/').to_string())
    });
    req
}

fn error_body(status: u16, code: &str, title: &str, detail: &str) -> Value {
    json!({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]})
}

/// Kustomer-style error response.
pub fn error_response(status: StatusCode, code: &str, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    (
        status,
        axum::Json(error_body(status.as_u16(), code, title, detail)),
    )
        .into_response()
}

/// Auth, request counting, latency, rate limits, random faults, scripted
/// injections and background mutations, in the order the real API would
/// apply them.
async fn gatekeeper(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().to_string();
    if path.starts_with("/__sim") {
        return next.run(req).await;
    }
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| v == format!("Bearer {}", st.opts.api_key))
        .unwrap_or(false);
    st.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Expired token or invalid API key",
        );
    }
    if st.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.opts.latency_ms)).await;
    }
    let is_search = path.ends_with("/search");
    let (limited, remaining, reset) = {
        let mut w = st.window.lock().unwrap();
        if w.start.elapsed() >= Duration::from_secs(60) {
            w.start = Instant::now();
            w.count = 0;
            w.search = 0;
        }
        let reset =
            chrono::Utc::now().timestamp() + (60 - w.start.elapsed().as_secs() as i64).max(1);
        let org_over = st.opts.rate_limit > 0 && w.count >= st.opts.rate_limit;
        let search_over =
            is_search && st.opts.search_rate_limit > 0 && w.search >= st.opts.search_rate_limit;
        if !org_over && !search_over {
            w.count += 1;
            if is_search {
                w.search += 1;
            }
        }
        (
            org_over || search_over,
            st.opts.rate_limit.saturating_sub(w.count),
            reset,
        )
    };
    if limited {
        st.throttled.fetch_add(1, Ordering::Relaxed);
        let mut r = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            "Rate Limit Exceeded",
        );
        // A throttled search names its own lane's limit when the org-wide
        // one is not what ran out.
        let limit = if st.opts.rate_limit > 0 && !(is_search && st.opts.search_rate_limit > 0) {
            st.opts.rate_limit
        } else if is_search {
            st.opts.search_rate_limit
        } else {
            st.opts.rate_limit
        };
        add_rate_headers(&mut r, limit, 0, reset);
        return r;
    }
    if st.opts.mutate_rate > 0.0 {
        let target = {
            let mut rng = st.rng.lock().unwrap();
            if rng.gen_bool(st.opts.mutate_rate.min(1.0)) {
                let org = st.org.read().unwrap();
                org.random_mutation(&mut *rng, None)
            } else {
                None
            }
        };
        if let Some(m) = target {
            let now = chrono::Utc::now().timestamp_millis();
            st.org.write().unwrap().apply(m, now);
        }
    }
    let fault = if st.opts.fault_rate > 0.0 {
        let mut rng = st.rng.lock().unwrap();
        rng.gen_bool(st.opts.fault_rate.min(1.0))
            .then(|| rng.gen_range(0..9u8))
    } else {
        None
    };
    match fault {
        Some(0) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "simulated fault",
            )
        }
        Some(1) => {
            return error_response(StatusCode::BAD_GATEWAY, "bad_gateway", "simulated fault")
        }
        Some(2) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "simulated fault",
            )
        }
        Some(5) => {
            return error_response(StatusCode::GATEWAY_TIMEOUT, "timeout", "simulated fault")
        }
        // A proxy's error page with status 200 and the wrong content type.
        Some(6) => {
            return (
                StatusCode::OK,
                [("content-type", "text/html")],
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response()
        }
        // No answer within a client's patience: ferry's timeout must fire.
        Some(7) => tokio::time::sleep(Duration::from_millis(HANG_MS)).await,
        _ => {}
    }
    let first_page = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .all(|kv| !kv.starts_with("page=") || kv == "page=1");
    let injection = take_injection(&st, &path, &method, first_page);
    let resp = next.run(req).await;
    let mut resp = match (fault, injection) {
        (_, Some(inj)) => apply_injection(resp, &inj).await,
        (Some(3), None) => truncate(resp).await,
        (Some(4), None) => drop_connection(resp).await,
        (Some(8), None) => trickle(resp).await,
        _ => resp,
    };
    add_rate_headers(&mut resp, st.opts.rate_limit, remaining, reset);
    resp
}

fn add_rate_headers(r: &mut Response, limit: u32, remaining: u32, reset: i64) {
    if limit == 0 {
        return;
    }
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// The first injection for this request. Injections spoil the first page
/// of a list or search, which a client certainly reads (one that requests
/// pages ahead may drop a page past the end unread), so tests stay
/// deterministic.
fn take_injection(st: &SimState, path: &str, method: &str, first_page: bool) -> Option<Injection> {
    let mut inj = st.injections.lock().unwrap();
    let pos = inj.iter().position(|i| {
        path.starts_with(&i.path) && i.method.as_deref().is_none_or(|m| m == method) && first_page
    })?;
    let found = inj[pos].clone();
    if let Some(t) = inj[pos].times.as_mut() {
        *t -= 1;
        if *t == 0 {
            inj.remove(pos);
        }
    }
    Some(found)
}

/// How long a "hang" fault keeps the client waiting (tests set ferry's
/// `timeout_secs` below it).
const HANG_MS: u64 = 2_500;

/// Sends the body in small pieces with pauses: a slow, intact response.
async fn trickle(resp: Response) -> Response {
    let (mut parts, bytes) = body_bytes(resp).await;
    parts.headers.remove("content-length");
    let chunks: Vec<bytes::Bytes> = bytes
        .chunks(bytes.len().div_ceil(8).max(1))
        .map(bytes::Bytes::copy_from_slice)
        .collect();
    let stream = futures::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        Ok::<_, std::convert::Infallible>(c)
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

async fn body_bytes(resp: Response) -> (axum::http::response::Parts, bytes::Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

/// A 200 whose body stops half way (with a matching Content-Length).
async fn truncate(resp: Response) -> Response {
    let (mut parts, bytes) = body_bytes(resp).await;
    let cut = bytes.slice(0..bytes.len() / 2);
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(cut))
}

/// Sends half the body, then drops the connection.
async fn drop_connection(resp: Response) -> Response {
    let (mut parts, bytes) = body_bytes(resp).await;
    parts.headers.remove("content-length");
    let half = bytes.slice(0..bytes.len() / 2);
    let stream = futures::stream::iter(vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated reset",
        )),
    ]);
    Response::from_parts(parts, Body::from_stream(stream))
}

async fn apply_injection(resp: Response, inj: &Injection) -> Response {
    match inj.kind.as_str() {
        "status" => {
            let code = StatusCode::from_u16(inj.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_response(code, "injected", "injected by the test")
        }
        "invalid_json" => {
            let (mut parts, _) = body_bytes(resp).await;
            parts.headers.remove("content-length");
            Response::from_parts(
                parts,
                Body::from("{\"data\": [{\"id\": \"oops\", \"attributes\": {"),
            )
        }
        "missing_id" | "wrong_types" => {
            let (mut parts, bytes) = body_bytes(resp).await;
            let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if let Some(first) = v
                .get_mut("data")
                .and_then(|d| d.as_array_mut())
                .and_then(|a| a.first_mut())
            {
                if inj.kind == "missing_id" {
                    first.as_object_mut().map(|o| o.remove("id"));
                } else {
                    first["id"] = json!(12345);
                    first["attributes"]["updatedAt"] = json!(true);
                }
            }
            parts.headers.remove("content-length");
            Response::from_parts(parts, Body::from(serde_json::to_vec(&v).unwrap()))
        }
        "append" => {
            let (mut parts, bytes) = body_bytes(resp).await;
            let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if let Some(a) = v.get_mut("data").and_then(|d| d.as_array_mut()) {
                a.extend(inj.records.iter().cloned());
            }
            let mut body = serde_json::to_vec(&v).unwrap();
            let anchor = b"\"data\":[";
            if let Some(at) = body.windows(anchor.len()).position(|w| w == anchor) {
                let mut at = at + anchor.len();
                for raw in &inj.raw_b64 {
                    use base64::Engine;
                    let Ok(mut bytes) = base64::engine::general_purpose::STANDARD.decode(raw)
                    else {
                        continue;
                    };
                    bytes.push(b',');
                    let n = bytes.len();
                    body.splice(at..at, bytes);
                    at += n;
                }
            }
            parts.headers.remove("content-length");
            Response::from_parts(parts, Body::from(body))
        }
        _ => resp,
    }
}
