//! `ferry sim intercom`: a local fake of Intercom's REST API as the
//! official OpenAPI for version 2.14 (`intercom-openapi-2.14.yaml`)
//! describes it, with what `intercom-api.md` marks confirmed where the
//! spec is silent: bearer auth (401 `error.list` otherwise, without
//! rate-limit headers), the three pagination styles (cursor lists with
//! `pages.next.starting_after`, search with the pagination in the body,
//! the companies scroll: one open scroll per app, expired after a minute
//! idle, a network failure that must be restarted), search operators,
//! `conversation_parts` capped at the 500 most recent, 10-second rate
//! windows announced in `X-RateLimit-*` with 429 `rate_limit_exceeded`,
//! attachment links on a CDN that expire, `--fault-rate`, `GET
//! /__sim/stats` and `GET /__sim/dump`.

pub mod data;
mod mutate;
mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The most parts `GET /conversations/{id}` returns (spec, "Retrieve a
/// conversation": "Hard limit of 500 parts … we will return the 500 most
/// recent conversation parts").
pub const PARTS_CAP: usize = 500;

/// Knobs of the Intercom simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// The access token (`Authorization: Bearer TOKEN`).
    pub token: String,
    /// Contacts in the workspace (≈1.5 conversations each).
    pub contacts: u32,
    /// Requests per minute, split into six 10-second windows (Intercom:
    /// 10,000 per app); 0 = unlimited.
    pub per_minute: u32,
    /// Seconds a scroll may sit unused before its `scroll_param` expires
    /// (Intercom: one minute).
    pub scroll_idle_secs: u64,
    /// The scroll page (1-based) answered with a 500 once, as a network
    /// failure Intercom says to restart the scroll after.
    pub scroll_fail_at: Option<usize>,
    /// Seconds an attachment link stays valid.
    pub attachment_ttl_secs: i64,
    pub latency_ms: u64,
    pub fault_rate: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            token: "sim-intercom-token".into(),
            contacts: 40,
            per_minute: 10_000,
            scroll_idle_secs: 60,
            scroll_fail_at: None,
            attachment_ttl_secs: 600,
            latency_ms: 0,
            fault_rate: 0.0,
        }
    }
}

/// The open scroll of the app.
#[derive(Debug, Clone)]
pub struct Scroll {
    pub param: String,
    pub next: usize,
    pub pages: usize,
    pub used: Instant,
}

/// Shared state of a running simulator.
pub struct SimState {
    pub opts: SimOptions,
    /// The workspace; `POST /__sim/mutate` swaps in a changed copy, so
    /// a request reads one consistent version.
    pub ws: RwLock<Arc<data::Workspace>>,
    pub scroll: Mutex<Option<Scroll>>,
    scroll_failed: std::sync::atomic::AtomicBool,
    /// (window start in epoch seconds, requests in it).
    window: Mutex<(i64, u32)>,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
    /// Requests per path family (`contacts`, `conversations/search`…).
    by_kind: Mutex<HashMap<String, u64>>,
    /// `Intercom-Version` values seen.
    versions: Mutex<HashMap<String, u64>>,
    rng: Mutex<ChaCha8Rng>,
    seq: AtomicU64,
    pub base: Mutex<String>,
}

impl SimState {
    /// The workspace as it is now.
    pub fn ws(&self) -> Arc<data::Workspace> {
        self.ws.read().unwrap().clone()
    }

    pub(crate) fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// An Intercom error body (`error.list`).
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "type": "error.list",
            "request_id": format!("sim-{:x}", rand::random::<u32>()),
            "errors": [{"code": code, "message": message}],
        })),
    )
        .into_response()
}

/// A running simulator.
pub struct RunningSim {
    pub base_url: String,
    pub handle: tokio::task::JoinHandle<()>,
}

pub async fn spawn(addr: SocketAddr, opts: SimOptions) -> std::io::Result<RunningSim> {
    let now = chrono::Utc::now().timestamp();
    let state = Arc::new(SimState {
        ws: RwLock::new(Arc::new(data::Workspace::generate(
            opts.seed,
            opts.contacts,
            now,
        ))),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        scroll: Mutex::new(None),
        scroll_failed: Default::default(),
        window: Mutex::new((0, 0)),
        requests: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        faults: AtomicU64::new(0),
        by_kind: Mutex::new(HashMap::new()),
        versions: Mutex::new(HashMap::new()),
        seq: AtomicU64::new(0),
        base: Mutex::new(String::new()),
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

/// Auth, the 10-second window and injected faults, before any handler.
/// The CDN (`/__cdn/`) and the simulator's own endpoints need no token.
async fn gatekeeper(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__") {
        return next.run(req).await;
    }
    st.requests.fetch_add(1, Ordering::Relaxed);
    let family = path
        .trim_start_matches('/')
        .split('/')
        .enumerate()
        .map(|(i, s)| {
            if i > 0 && s.chars().any(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    *st.by_kind
        .lock()
        .unwrap()
        .entry(format!("{} {family}", req.method()))
        .or_insert(0) += 1;
    if let Some(v) = req
        .headers()
        .get("intercom-version")
        .and_then(|v| v.to_str().ok())
    {
        *st.versions
            .lock()
            .unwrap()
            .entry(v.to_string())
            .or_insert(0) += 1;
    }
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if token != Some(st.opts.token.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Access Token Invalid",
        );
    }
    let (limit, remaining, reset) = {
        let now = chrono::Utc::now().timestamp();
        let start = now - now.rem_euclid(10);
        let mut w = st.window.lock().unwrap();
        if w.0 != start {
            *w = (start, 0);
        }
        w.1 += 1;
        let limit = if st.opts.per_minute == 0 {
            u32::MAX
        } else {
            (st.opts.per_minute / 6).max(1)
        };
        (limit, limit.saturating_sub(w.1), start + 10)
    };
    let headers = |r: &mut Response| {
        let h = r.headers_mut();
        if st.opts.per_minute > 0 {
            for (k, v) in [
                ("x-ratelimit-limit", limit.to_string()),
                ("x-ratelimit-remaining", remaining.to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ] {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(k, v);
                }
            }
        }
    };
    if st.opts.per_minute > 0 && remaining == 0 && {
        let w = st.window.lock().unwrap();
        w.1 > limit
    } {
        st.throttled.fetch_add(1, Ordering::Relaxed);
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_exceeded",
            &format!("Exceeded rate limit of {limit} in 10_seconds"),
        );
        headers(&mut r);
        return r;
    }
    if st.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.opts.latency_ms)).await;
    }
    let fault =
        st.opts.fault_rate > 0.0 && st.rng.lock().unwrap().gen_bool(st.opts.fault_rate.min(1.0));
    if fault {
        st.faults.fetch_add(1, Ordering::Relaxed);
        let mut r = if st.next() % 2 == 0 {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Server Error",
            )
        } else {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service Unavailable",
            )
        };
        headers(&mut r);
        return r;
    }
    let mut resp = next.run(req).await;
    headers(&mut resp);
    resp
}

/// The agents a Kustomer admin invites before importing this workspace
/// (seed `seed`): its admins' names and emails, all but the last, so one
/// Intercom admin stays unmatched (the route holds what only they
/// authored in their name).
pub fn invited_agents(seed: u64) -> Vec<(String, String)> {
    let w = data::Workspace::generate(seed, 8, 0);
    let n = w.admins.len().saturating_sub(1);
    w.admins[..n]
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or("").to_string(),
                a["email"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
