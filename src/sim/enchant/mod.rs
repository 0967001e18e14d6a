//! `ferry sim enchant`: a local fake of Enchant's v1 API as the community
//! OpenAPI spec (`enchant-openapi-community.yaml`, written from
//! dev.enchant.com/api/v1) describes it: bare-array lists with
//! `page`/`per_page`, `count=true` → `Total-Count`, `embed=`, `fields=`,
//! `envelope=true`, 201 + `Location`, 422 `Validation Failed` with
//! `errors[]`, 415 on a body that is not JSON, `X-HTTP-Method-Override`,
//! and credit-based rate limiting announced in `Rate-Limit-*` headers with
//! a 429 when the minute's credits or the per-second burst run out.
//! Users, inboxes and labels are seeded: the API cannot create them.
//! Outbound replies are counted as emails sent (the real API mails the
//! customer).

mod routes;
pub mod store;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use store::Store;

/// Knobs of the Enchant simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// The API access token (`Authorization: Bearer TOKEN`, or Basic with
    /// the token as user name and any password).
    pub token: String,
    /// Credits per minute; 0 = unlimited. Enchant's number is not in the
    /// spec (reported as 100): `ferry probe` reads the real one from the
    /// `Rate-Limit-Limit` header.
    pub credits_per_minute: u32,
    /// Requests per second at most; 0 = unlimited (reported as about 6).
    pub burst_per_second: u32,
    /// Credits a `GET /tickets/{id}?embed=messages` costs. The spec says
    /// only that `Rate-Limit-Used` gives a request's cost; the simulator
    /// charges more for the heavy read so clients must honour it.
    pub embed_cost: u32,
    pub latency_ms: u64,
    pub fault_rate: f64,
    /// Largest attachment accepted, in bytes (Enchant's is undocumented).
    pub max_attachment_bytes: usize,
    /// The first POST whose path contains this is processed and its
    /// response cut off mid-body.
    pub cut_post_to: Option<String>,
    /// (first name, last name, email) of the help desk's users.
    pub users: Vec<(String, String, String)>,
    pub inboxes: Vec<String>,
    pub labels: Vec<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            token: "sim-token".into(),
            credits_per_minute: 100,
            burst_per_second: 6,
            embed_cost: 2,
            latency_ms: 0,
            fault_rate: 0.0,
            max_attachment_bytes: 25 * 1024 * 1024,
            cut_post_to: None,
            users: vec![(
                "Admin".into(),
                "Enchant".into(),
                "admin@enchant.test".into(),
            )],
            inboxes: vec!["Support".into()],
            labels: Vec::new(),
        }
    }
}

impl SimOptions {
    /// Users and labels that mirror a seeded Kustomer simulator's org, as
    /// if its admin had invited the agents (all but every fourth, so some
    /// are missing as in real migrations) and created a label per tag in
    /// Enchant's UI before migrating.
    pub fn mirror_kustomer(mut self, seed: u64, customers: u32) -> SimOptions {
        use crate::sim::kustomer::data::{Kind, Org};
        let org = Org::generate(seed, customers, chrono::Utc::now().timestamp());
        for i in 1..org.count(Kind::Users) {
            if i % 4 == 3 {
                continue;
            }
            let u = crate::sim::kustomer::records::record(&org, Kind::Users, i);
            let name = u["attributes"]["name"].as_str().unwrap_or("Agent");
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            // An address Enchant's invite form would refuse (a local part
            // with a leading dot, from a name with no ASCII letters) is
            // not invited.
            let valid = |e: &str| {
                e.split_once('@')
                    .is_some_and(|(l, _)| !l.is_empty() && !l.starts_with('.') && !l.contains(".."))
            };
            if let Some(email) = u["attributes"]["email"].as_str().filter(|e| valid(e)) {
                self.users
                    .push((first.to_string(), last.to_string(), email.to_lowercase()));
            }
        }
        for i in 0..org.count(Kind::Tags) {
            let t = crate::sim::kustomer::records::record(&org, Kind::Tags, i);
            if let Some(n) = t["attributes"]["name"].as_str() {
                self.labels.push(n.to_string());
            }
        }
        self.inboxes.push("Billing".into());
        self
    }
}

/// Shared state of a running simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub store: Mutex<Store>,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub credits_used: AtomicU64,
    /// (start of the minute, credits used in it).
    pub window: Mutex<(Instant, u32)>,
    /// Credits used in each minute that has ended (`ferry bench` reads
    /// the share of the budget per window from `/__sim/stats`).
    pub closed_windows: Mutex<Vec<u32>>,
    /// Times of the requests of the last second.
    recent: Mutex<VecDeque<Instant>>,
    rng: Mutex<ChaCha8Rng>,
    cut_done: AtomicBool,
}

/// A running simulator.
pub struct RunningSim {
    pub base_url: String,
    pub handle: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `addr` inside the current tokio runtime; its
/// base URL ends in `/api/v1` as the real one does.
pub async fn spawn(addr: SocketAddr, opts: SimOptions) -> std::io::Result<RunningSim> {
    let state = Arc::new(SimState {
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        store: Mutex::new(Store::seeded(&opts.users, &opts.inboxes, &opts.labels)),
        opts,
        requests: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        credits_used: AtomicU64::new(0),
        window: Mutex::new((Instant::now(), 0)),
        closed_windows: Mutex::new(Vec::new()),
        recent: Mutex::new(VecDeque::new()),
        cut_done: AtomicBool::new(false),
    });
    let app = axum::Router::new()
        .fallback_service(routes::router(state))
        .layer(axum::middleware::map_request(method_override));
    let (base_url, handle) = crate::sim::serve(addr, app).await?;
    Ok(RunningSim {
        base_url: format!("{base_url}/api/v1"),
        handle,
    })
}

/// `X-HTTP-Method-Override: PUT|PATCH|DELETE` on a POST acts as that method.
async fn method_override(mut req: Request) -> Request {
    if req.method() == Method::POST {
        let m = req
            .headers()
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| match v.to_ascii_uppercase().as_str() {
                "PUT" => Some(Method::PUT),
                "PATCH" => Some(Method::PATCH),
                "DELETE" => Some(Method::DELETE),
                _ => None,
            });
        if let Some(m) = m {
            *req.method_mut() = m;
        }
    }
    req
}

/// Credits a request costs.
fn cost(st: &SimState, req: &Request) -> u32 {
    let heavy = req.method() == Method::GET
        && req
            .uri()
            .query()
            .is_some_and(|q| q.contains("embed=") && q.contains("messages"));
    if heavy {
        st.opts.embed_cost.max(1)
    } else {
        1
    }
}

/// Auth, credits and burst, latency and faults; `Rate-Limit-*` on every
/// API answer.
async fn gatekeeper(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/__sim") {
        return next.run(req).await;
    }
    st.requests.fetch_add(1, Ordering::Relaxed);
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let basic_user = given
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.split(':').next().unwrap_or("").to_string());
    let ok = given == format!("Bearer {}", st.opts.token)
        || basic_user.as_deref() == Some(st.opts.token.as_str());
    if !ok {
        return routes::error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if st.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.opts.latency_ms)).await;
    }
    let cost = cost(&st, &req);
    let limit = st.opts.credits_per_minute;
    let (over, remaining, reset) = {
        let mut w = st.window.lock().unwrap();
        if w.0.elapsed() >= Duration::from_secs(60) {
            st.closed_windows.lock().unwrap().push(w.1);
            *w = (Instant::now(), 0);
        }
        let mut recent = st.recent.lock().unwrap();
        while recent
            .front()
            .is_some_and(|t| t.elapsed() >= Duration::from_secs(1))
        {
            recent.pop_front();
        }
        let burst = st.opts.burst_per_second;
        let over = (limit > 0 && w.1 + cost > limit) || (burst > 0 && recent.len() as u32 >= burst);
        if !over {
            w.1 += cost;
            recent.push_back(Instant::now());
        }
        let reset = if limit > 0 && w.1 + cost > limit {
            60u64.saturating_sub(w.0.elapsed().as_secs()).max(1)
        } else if over {
            1
        } else {
            60u64.saturating_sub(w.0.elapsed().as_secs())
        };
        (over, limit.saturating_sub(w.1), reset)
    };
    if over {
        st.throttled.fetch_add(1, Ordering::Relaxed);
        let mut r = routes::error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        rate_headers(&mut r, limit, remaining, 0, reset);
        return r;
    }
    st.credits_used.fetch_add(cost as u64, Ordering::Relaxed);
    // 5xx without a JSON body, as the spec says of server errors.
    let fault = st.opts.fault_rate > 0.0 && {
        let mut rng = st.rng.lock().unwrap();
        rng.gen_bool(st.opts.fault_rate.min(1.0))
    };
    if fault {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
        rate_headers(&mut r, limit, remaining, cost, reset);
        return r;
    }
    let cut_this = req.method() == Method::POST
        && st
            .opts
            .cut_post_to
            .as_deref()
            .is_some_and(|p| req.uri().path().contains(p))
        && !st.cut_done.swap(true, Ordering::Relaxed);
    let mut resp = next.run(req).await;
    rate_headers(&mut resp, limit, remaining, cost, reset);
    if cut_this {
        return crate::sim::cut_off(resp).await;
    }
    resp
}

fn rate_headers(r: &mut Response, limit: u32, remaining: u32, used: u32, reset: u64) {
    // Unlimited (a demo): no budget to announce.
    if limit == 0 {
        return;
    }
    let h = r.headers_mut();
    h.insert("rate-limit-limit", HeaderValue::from(limit));
    h.insert("rate-limit-remaining", HeaderValue::from(remaining));
    h.insert("rate-limit-used", HeaderValue::from(used));
    h.insert("rate-limit-reset", HeaderValue::from(reset));
}
