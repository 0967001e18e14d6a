//! `ferry sim zendesk`: a local fake of the Zendesk Support API — token
//! auth, bulk endpoints with asynchronous job statuses (at most 30 queued
//! or running), ticket import, uploads, custom objects, validation errors
//! shaped like the real ones, plan rate limits with 429 + Retry-After — that
//! keeps everything it accepted for tests to compare.

mod lookups;
mod paging;
mod reads;
mod routes;
pub mod store;
mod updates;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use store::Store;

/// Jobs queued or running per account before `TooManyJobs`.
pub const MAX_JOBS: usize = 30;
/// Job statuses the account keeps: "Zendesk only logs the last 100 jobs.
/// Jobs also expire within an hour" (the List Job Statuses reference, as
/// quoted in Zendesk community post 4408867925914).
pub const KEPT_JOBS: usize = 100;
const JOB_EXPIRY: Duration = Duration::from_secs(3600);

/// How long a job takes. No Zendesk document gives job durations. The Job
/// Statuses reference says a job is `queued`, then `working`, its
/// `progress` "the number of tasks that have already been completed" of
/// `total`: it works item by item, so its time grows with its items and,
/// for a ticket import, with their comments (each one a record to write).
/// The defaults make a job of 100 tickets with 10 comments each run
/// 0.3 + 1 + 2 = 3.3 s and a job of 100 users 1.3 s: seconds, as on a
/// quiet account; a busy one takes minutes (raise them, or fix a duration
/// with `fixed_ms` as `ferry bench load` does).
#[derive(Clone, Copy, Debug)]
pub struct JobTiming {
    pub queue_ms: u64,
    pub per_item_ms: u64,
    pub per_comment_ms: u64,
    /// Every job takes exactly this long (queued for a tenth of it).
    pub fixed_ms: Option<u64>,
}

impl Default for JobTiming {
    fn default() -> JobTiming {
        JobTiming {
            queue_ms: 300,
            per_item_ms: 10,
            per_comment_ms: 2,
            fixed_ms: None,
        }
    }
}

impl JobTiming {
    /// (time queued, time working) of a job of `items` with `comments`.
    pub fn of(&self, items: usize, comments: usize) -> (Duration, Duration) {
        match self.fixed_ms {
            Some(ms) => (
                Duration::from_millis(ms / 10),
                Duration::from_millis(ms - ms / 10),
            ),
            None => (
                Duration::from_millis(self.queue_ms),
                Duration::from_millis(
                    self.per_item_ms * items as u64 + self.per_comment_ms * comments as u64,
                ),
            ),
        }
    }
}

/// Knobs of the Zendesk simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    pub email: String,
    /// The API token (basic auth `EMAIL/token:TOKEN`), also accepted as an
    /// OAuth access token (`Authorization: Bearer TOKEN`).
    pub token: String,
    /// Requests per minute (plan tier 200..2500); 0 = unlimited.
    pub rate_limit: u32,
    pub latency_ms: u64,
    pub fault_rate: f64,
    /// Seconds an upload token stays usable in a ticket (Zendesk: about
    /// an hour). A ticket naming an older token is refused.
    pub upload_ttl_secs: u64,
    /// The account's attachment size limit in bytes (Account Settings
    /// API `limits.attachment_size`; the official spec's example: 50 MB).
    /// A larger upload is refused with 413.
    pub attachment_size: u64,
    /// The first POST whose path contains this is processed and its
    /// response cut off mid-body.
    pub cut_post_to: Option<String>,
    /// Bulk user imports (`users/create_many`, `users/create_or_update_many`).
    /// Off as on a real account: the official spec says they "are not
    /// enabled by default in Zendesk accounts. The account owner must
    /// contact Zendesk Customer Support … A 403 Forbidden error is
    /// returned if data imports are not enabled."
    pub bulk_user_imports: bool,
    /// Users the account holds before any migration, besides the token's
    /// owner (an admin): other admins, agents (some in custom roles), end
    /// users of an earlier tool. See [`SimOptions::mirror_kustomer`].
    pub existing_users: Vec<Value>,
    pub jobs: JobTiming,
    /// Jobs other integrations of the account keep queued or running at
    /// all times: they count against `MAX_JOBS` like ferry's.
    pub other_jobs: usize,
}

/// How long Zendesk keeps an upload token usable: "The token is valid for
/// 3 days" (official Support API spec, Upload Files).
pub const UPLOAD_TTL_SECS: u64 = 3 * 24 * 3600;

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            seed: 1,
            email: "admin@sim.test".into(),
            token: "sim-token".into(),
            rate_limit: 0,
            latency_ms: 0,
            fault_rate: 0.0,
            upload_ttl_secs: UPLOAD_TTL_SECS,
            attachment_size: 50 * 1024 * 1024,
            cut_post_to: None,
            bulk_user_imports: false,
            existing_users: Vec::new(),
            jobs: JobTiming::default(),
            other_jobs: 0,
        }
    }
}

impl SimOptions {
    /// An account as a Kustomer org's team would find it before migrating
    /// (seeded from the Kustomer simulator of `seed` and `customers`):
    /// another admin; half the Kustomer agents already have seats (under
    /// the names they were given in Zendesk, one in a custom role); one
    /// agent whose email is also a Kustomer customer's (agents often test
    /// with their own address); end users an earlier tool made, some
    /// sharing a customer's email; and end users nobody migrates. (Ids the
    /// Kustomer simulator generates depend on when it starts: a user
    /// carrying one is added through `POST /__sim/users`.)
    pub fn mirror_kustomer(mut self, seed: u64, customers: u32) -> SimOptions {
        use crate::sim::kustomer::data::{Kind, Org};
        use crate::sim::kustomer::records::record;
        let org = Org::generate(seed, customers, chrono::Utc::now().timestamp());
        let attr = |kind: Kind, i: u32, k: &str| -> Option<String> {
            record(&org, kind, i)["attributes"][k]
                .as_str()
                .map(str::to_string)
        };
        let first_email = |i: u32| -> Option<String> {
            record(&org, Kind::Customers, i)["attributes"]["emails"][0]["email"]
                .as_str()
                .map(str::to_lowercase)
        };
        let mut users = vec![
            json!({"name": "Dana Lead", "email": "dana.lead@helpdesk.test",
            "role": "admin", "locale": "en-US", "time_zone": "London"}),
        ];
        for i in (1..org.count(Kind::Users)).filter(|i| i % 2 == 1) {
            let Some(email) = attr(Kind::Users, i, "email") else {
                continue;
            };
            let name = attr(Kind::Users, i, "name").unwrap_or_default();
            let short = name.split(' ').next().unwrap_or("Agent").to_string();
            let mut u = json!({"name": format!("{short} (Support)"), "email": email.to_lowercase(),
                "role": "agent", "locale": "en-US"});
            if i == 3 {
                // A custom role ("Team Lead", Enterprise): role stays
                // `agent`, the permissions come from custom_role_id.
                u["custom_role_id"] = json!(360_000_101u64);
            }
            users.push(u);
        }
        let n = org.count(Kind::Customers);
        // Customers without an email (every 17th from 13) are skipped.
        let pick = |from: u32| (from..n).find(|i| first_email(*i).is_some());
        if let Some(i) = pick(2) {
            users.push(
                json!({"name": "Sam Agent", "email": first_email(i), "role": "agent",
                "locale": "en-US", "phone": "+1 555 0100"}),
            );
        }
        for from in [3, 6] {
            if let Some(i) = pick(from) {
                users.push(
                    json!({"name": "Imported by OldDesk", "email": first_email(i),
                    "role": "end-user", "locale": "en-GB", "tags": ["olddesk"]}),
                );
            }
        }
        for k in 0..5 {
            users.push(
                json!({"name": format!("Walk-in {k}"), "email": format!("walkin{k}@elsewhere.test"),
                "role": "end-user"}),
            );
        }
        self.existing_users = users;
        self
    }
}

/// An asynchronous job: queued until `working`, then working item by
/// item until `ready`, when its results are there.
pub struct Job {
    pub id: String,
    pub total: usize,
    pub results: Vec<Value>,
    pub created: Instant,
    pub working: Instant,
    pub ready: Instant,
}

impl Job {
    /// Its JSON object (the `job_status` of Show Job Status).
    fn status_object(&self) -> Value {
        let now = Instant::now();
        let done = now >= self.ready;
        let (status, progress) = if done {
            ("completed", self.total)
        } else if now < self.working {
            ("queued", 0)
        } else {
            let span = (self.ready - self.working).as_secs_f64().max(0.001);
            let part = (now - self.working).as_secs_f64() / span;
            ("working", ((self.total as f64) * part) as usize)
        };
        json!({
            "id": self.id, "url": format!("/api/v2/job_statuses/{}", self.id), "total": self.total,
            "progress": progress,
            "status": status,
            "message": if done { "Completed" } else { "" },
            "results": if done { json!(self.results) } else { Value::Null },
        })
    }

    fn status(&self) -> Value {
        json!({"job_status": self.status_object()})
    }

    fn unfinished(&self, now: Instant) -> bool {
        self.ready > now
    }
}

/// Shared state of a running simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub store: Mutex<Store>,
    pub jobs: Mutex<Vec<Job>>,
    job_seq: AtomicU64,
    /// Jobs queued, job status requests, and jobs refused as TooManyJobs.
    pub jobs_created: AtomicU64,
    pub job_polls: AtomicU64,
    /// Of those, Show Job Status requests (one job each).
    pub job_polls_one: AtomicU64,
    pub too_many_jobs: AtomicU64,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    /// Verification and welcome emails the account would have sent.
    pub emails_sent: AtomicU64,
    window: Mutex<(Instant, u32)>,
    rng: Mutex<ChaCha8Rng>,
    /// Whether the `cut_post_to` response was cut already.
    cut_done: std::sync::atomic::AtomicBool,
}

impl SimState {
    /// Queues a job whose work `work` does (only when the account has
    /// room for one more: a refused job changes nothing) and returns its
    /// `job_status` body, or `None` when `MAX_JOBS` are queued or running.
    /// `work` gives the results and the comments the job carries.
    pub fn enqueue(&self, work: impl FnOnce() -> (Vec<Value>, usize)) -> Option<Value> {
        self.enqueue_as("job", work)
    }

    /// [`SimState::enqueue`] with a job id prefix.
    pub fn enqueue_as(
        &self,
        prefix: &str,
        work: impl FnOnce() -> (Vec<Value>, usize),
    ) -> Option<Value> {
        let mut jobs = self.jobs.lock().unwrap();
        let now = Instant::now();
        let busy = jobs.iter().filter(|j| j.unfinished(now)).count() + self.opts.other_jobs;
        if busy >= MAX_JOBS {
            self.too_many_jobs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return None;
        }
        self.jobs_created
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (results, comments) = work();
        // Only the newest jobs are kept, and none past an hour.
        jobs.retain(|j| now.duration_since(j.created) < JOB_EXPIRY);
        while jobs.len() >= KEPT_JOBS {
            match jobs.iter().position(|j| !j.unfinished(now)) {
                Some(i) => {
                    jobs.remove(i);
                }
                None => break,
            }
        }
        let seq = self
            .job_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let (queued, working) = self.opts.jobs.of(results.len(), comments);
        let job = Job {
            id: format!("{prefix}{seq:08x}"),
            total: results.len(),
            results,
            created: now,
            working: now + queued,
            ready: now + queued + working,
        };
        let status = json!({"job_status": {"id": job.id, "url": format!("/api/v2/job_statuses/{}", job.id),
            "total": job.total, "progress": 0, "status": "queued"}});
        jobs.push(job);
        Some(status)
    }

    /// `job_status` of a job id (gone once expired or pushed out).
    pub fn job(&self, id: &str) -> Option<Value> {
        self.job_polls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.job_polls_one
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.jobs
            .lock()
            .unwrap()
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.status())
    }

    /// The `job_status` objects of the ids the account still has, in the
    /// order asked (Show Many Job Statuses).
    pub fn jobs_of(&self, ids: &[&str]) -> Vec<Value> {
        self.job_polls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let jobs = self.jobs.lock().unwrap();
        ids.iter()
            .filter_map(|id| jobs.iter().find(|j| j.id == *id))
            .map(Job::status_object)
            .collect()
    }
}

/// A running simulator.
pub struct RunningSim {
    pub base_url: String,
    pub handle: tokio::task::JoinHandle<()>,
}

/// Starts the simulator on `addr` inside the current tokio runtime.
pub async fn spawn(addr: SocketAddr, opts: SimOptions) -> std::io::Result<RunningSim> {
    let state = Arc::new(SimState {
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        store: Mutex::new(account(&opts)),
        opts,
        jobs: Mutex::new(Vec::new()),
        job_seq: AtomicU64::new(0),
        jobs_created: AtomicU64::new(0),
        job_polls: AtomicU64::new(0),
        job_polls_one: AtomicU64::new(0),
        too_many_jobs: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        emails_sent: AtomicU64::new(0),
        window: Mutex::new((Instant::now(), 0)),
        cut_done: std::sync::atomic::AtomicBool::new(false),
    });
    // Every documented path also answers with `.json` appended, as all
    // Zendesk clients call them (the API reference's own examples do):
    // the suffix is dropped before routing.
    let app = axum::Router::new()
        .fallback_service(routes::router(state))
        .layer(axum::middleware::map_request(strip_json_suffix));
    let (base_url, handle) = crate::sim::serve(addr, app).await?;
    Ok(RunningSim { base_url, handle })
}

/// The store as the account stands before any load: the token's owner
/// (an admin, `users/me`) and the existing users.
fn account(opts: &SimOptions) -> Store {
    let mut store = Store::with_upload_ttl(Duration::from_secs(opts.upload_ttl_secs));
    store.seed_user(
        &json!({"name": "Account Owner", "email": opts.email, "role": "admin",
        "locale": "en-US", "verified": true}),
    );
    for u in &opts.existing_users {
        store.seed_user(u);
    }
    store
}

async fn strip_json_suffix(mut req: Request) -> Request {
    crate::sim::rewrite_path(&mut req, |p| p.strip_suffix(".json").map(str::to_string));
    req
}

/// Zendesk-style error response.
pub fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Auth (`email/token:TOKEN` basic, or an OAuth access token as
/// `Bearer TOKEN`; Zendesk accepts both, "Security and authentication"),
/// rate limit, latency and faults.
async fn gatekeeper(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    // Attachment `content_url`s are opened without API credentials (a
    // browser follows them), so they bypass the API's auth and limits.
    if req.uri().path().starts_with("/__sim") || req.uri().path().starts_with("/attachments/") {
        return next.run(req).await;
    }
    st.requests.fetch_add(1, Ordering::Relaxed);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}/token:{}", st.opts.email, st.opts.token))
    );
    let bearer = format!("Bearer {}", st.opts.token);
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let ok = given == Some(expected.as_str()) || given == Some(bearer.as_str());
    if !ok {
        return error(
            StatusCode::UNAUTHORIZED,
            json!({"error": "Couldn't authenticate you"}),
        );
    }
    if st.opts.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.opts.latency_ms)).await;
    }
    let limit = st.opts.rate_limit;
    let (over, remaining, retry) = {
        let mut w = st.window.lock().unwrap();
        if w.0.elapsed() >= Duration::from_secs(60) {
            *w = (Instant::now(), 0);
        }
        let over = limit > 0 && w.1 >= limit;
        if !over {
            w.1 += 1;
        }
        (
            over,
            limit.saturating_sub(w.1),
            60u64.saturating_sub(w.0.elapsed().as_secs()).max(1),
        )
    };
    if over {
        st.throttled.fetch_add(1, Ordering::Relaxed);
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"}),
        );
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(retry));
        add_headers(&mut r, limit, 0);
        return r;
    }
    // Faults before the request is processed (safe to retry), and for
    // reads also after it: a truncated body or an HTML error page with
    // status 200, as proxies produce.
    let is_get = req.method() == axum::http::Method::GET;
    let fault = if st.opts.fault_rate > 0.0 {
        let mut rng = st.rng.lock().unwrap();
        rng.gen_bool(st.opts.fault_rate.min(1.0))
            .then(|| rng.gen_range(0..if is_get { 6u8 } else { 4u8 }))
    } else {
        None
    };
    match fault {
        Some(0) => return error(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        Some(1) => return error(StatusCode::BAD_GATEWAY, json!({})),
        Some(2) => return error(StatusCode::SERVICE_UNAVAILABLE, json!({})),
        Some(3) => return error(StatusCode::GATEWAY_TIMEOUT, json!({})),
        Some(5) => {
            return (
                StatusCode::OK,
                [("content-type", "text/html")],
                "<html><body>Service temporarily unavailable</body></html>",
            )
                .into_response()
        }
        _ => {}
    }
    let cut_this = req.method() == axum::http::Method::POST
        && st
            .opts
            .cut_post_to
            .as_deref()
            .is_some_and(|p| req.uri().path().contains(p))
        && !st.cut_done.swap(true, Ordering::Relaxed);
    let mut resp = next.run(req).await;
    if cut_this {
        return crate::sim::cut_off(resp).await;
    }
    if fault == Some(4) {
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        parts.headers.remove("content-length");
        let cut = bytes.slice(..bytes.len() / 2);
        resp = Response::from_parts(parts, axum::body::Body::from(cut));
    }
    add_headers(&mut resp, limit, remaining);
    resp
}

fn add_headers(r: &mut Response, limit: u32, remaining: u32) {
    if limit > 0 {
        r.headers_mut()
            .insert("x-rate-limit", HeaderValue::from(limit));
        r.headers_mut()
            .insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    }
}
