//! One HTTP client per API: a shared, header-tuned `governor` limiter,
//! retries with jittered exponential backoff on 429/5xx/timeouts/truncated
//! bodies, `Retry-After` honoured, and no secret ever logged.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{FerryError, Result};

mod limiter;
pub mod multipart;
pub mod oauth;

pub use limiter::AdaptiveLimiter;
use limiter::{header_u64, reset_delay};

/// 429s tolerated for one request before giving up.
const MAX_THROTTLED: u32 = 60;

/// Counters for progress bars, summaries and benchmarks.
#[derive(Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub retries: AtomicU64,
    pub bytes: AtomicU64,
    /// Downloads from other hosts (presigned storage links): not API
    /// calls, so not in `requests` nor in the rate budget.
    pub offhost_downloads: AtomicU64,
    /// Requests sent and not yet answered, and when the oldest of them was
    /// sent (ms since the epoch, 0 when none): what the live state's
    /// "no answer for 60 s, still waiting" line is read from.
    pub in_flight: AtomicU64,
    pub oldest_sent_ms: AtomicU64,
    /// Until when the API asked for patience (a 429's wait), ms since the
    /// epoch; 0 when it did not.
    pub paused_until_ms: AtomicU64,
}

/// Milliseconds since the epoch.
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl HttpStats {
    /// What the client waits for, in words, when it has waited long:
    /// a request unanswered for `after` or more, or a 429's pause.
    pub fn waiting(&self, api: &str, after: Duration) -> Option<String> {
        let now = epoch_ms();
        let paused = self.paused_until_ms.load(Ordering::Relaxed);
        if paused > now + 5_000 {
            return Some(format!(
                "{api} asked ferry to slow down (429): waiting {} s before the next request",
                (paused - now) / 1000
            ));
        }
        let oldest = self.oldest_sent_ms.load(Ordering::Relaxed);
        let n = self.in_flight.load(Ordering::Relaxed);
        (n > 0 && oldest > 0 && now.saturating_sub(oldest) >= after.as_millis() as u64).then(|| {
            format!(
                "no answer from {api} for {} s, still waiting ({n} request{} in flight)",
                (now - oldest) / 1000,
                if n == 1 { "" } else { "s" }
            )
        })
    }
}

/// Which budget a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The org-wide budget only.
    Standard,
    /// Search: the org-wide budget plus the search budget.
    Search,
}

/// Settings of an [`ApiClient`].
pub struct ClientSettings {
    /// Human name of the API for messages ("Kustomer").
    pub api: String,
    pub base_url: String,
    /// Config key of the base URL, named in "unreachable" errors.
    pub url_key: String,
    /// Env var holding the credential, named in 401 errors (never its value).
    pub secret_var: String,
    pub auth_header: String,
    pub per_minute: u32,
    pub search_per_minute: u32,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub insecure: bool,
    /// `Some(burst per second)`: the API counts credits in fixed windows
    /// (Enchant's `Rate-Limit-Remaining` until `Rate-Limit-Reset`), so
    /// the limiter spends each window at up to this rate instead of
    /// pacing evenly (see `limiter`).
    pub credit_window_burst: Option<u32>,
    /// `Some`: the credential is exchanged for a bearer token at a token
    /// endpoint (then `auth_header` is unused), the token answer's
    /// instance URL replaces `base_url`, and a 401 fetches a new token once.
    pub oauth: Option<oauth::OAuth>,
    /// Error codes that, in a 4xx body, mean "try again" (Salesforce's
    /// `UNABLE_TO_LOCK_ROW`: another transaction held the record).
    pub retry_codes: &'static [&'static str],
    /// Error codes that, in a 4xx body, mean the account's quota is spent
    /// (Salesforce's `REQUEST_LIMIT_EXCEEDED`): the run stops cleanly with
    /// this advice instead of calling the credentials wrong.
    pub quota_codes: &'static [(&'static str, &'static str)],
    /// Headers sent on every API call besides the credential (Intercom's
    /// pinned `Intercom-Version`).
    pub headers: Vec<(&'static str, String)>,
    /// Texts that, in a 429 body, mean a refusal the caller handles rather
    /// than a request rate to slow down: Zendesk's `TooManyJobs` ("Job
    /// limit": too many jobs queued, which waiting on the request budget
    /// does not cure). Such a 429 is returned as an HTTP error at once.
    pub refusals_429: &'static [&'static str],
    /// Seconds the server's `X-RateLimit-Limit` counts: 60 for most APIs,
    /// 10 for Intercom ("Rate Limiting": a limit of 1,000 a minute is
    /// announced as 167 per 10-second window).
    pub limit_window_secs: u32,
}

impl ClientSettings {
    /// A source's client: the bearer `token` (read from `secret_var`, the
    /// name errors give), `source.base_url`, no OAuth and no special error
    /// codes; the caller sets the budget, timeout and attempts.
    pub fn source_bearer(
        api: &str,
        base_url: &str,
        secret_var: &str,
        token: &str,
    ) -> ClientSettings {
        ClientSettings {
            api: api.into(),
            base_url: base_url.trim_end_matches('/').to_string(),
            url_key: "source.base_url".into(),
            secret_var: secret_var.into(),
            auth_header: format!("Bearer {token}"),
            per_minute: 0,
            search_per_minute: 0,
            timeout: Duration::from_secs(60),
            max_attempts: 10,
            insecure: false,
            credit_window_burst: None,
            oauth: None,
            retry_codes: &[],
            quota_codes: &[],
            headers: Vec::new(),
            refusals_429: &[],
            limit_window_secs: 60,
        }
    }
}

/// A rate-limited, retrying client for one API.
pub struct ApiClient {
    api: String,
    /// The API root; an OAuth session's instance URL replaces it.
    base: RwLock<String>,
    url_key: String,
    secret_var: String,
    http: reqwest::Client,
    /// The same client without credentials, for links to other hosts
    /// (a presigned storage URL must never see the API key: S3 refuses a
    /// presigned request that also carries `Authorization`, and a
    /// credential must never leave the API's own host).
    plain: reqwest::Client,
    /// Scheme, host and port of `base`: where credentials may go.
    origin: RwLock<Option<(String, String, Option<u16>)>>,
    oauth: Option<oauth::OAuth>,
    retry_codes: &'static [&'static str],
    quota_codes: &'static [(&'static str, &'static str)],
    refusals_429: &'static [&'static str],
    /// The OAuth session's bearer header, once fetched.
    session: RwLock<Option<HeaderValue>>,
    /// Serialises token fetches: one refresh serves every request that
    /// saw the old token expire.
    refreshing: tokio::sync::Mutex<()>,
    pub limiter: Arc<AdaptiveLimiter>,
    search_limiter: Arc<AdaptiveLimiter>,
    max_attempts: u32,
    pub stats: Arc<HttpStats>,
}

/// A request body.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    Json(&'a serde_json::Value),
    /// Pre-serialised JSON (large bulk bodies built without re-parsing).
    JsonText(&'a str),
    /// Raw bytes with their content type (uploads).
    Bytes(&'a [u8], &'a str),
}

/// A successful response body.
pub struct Response {
    pub body: bytes::Bytes,
    /// The answer's headers (`ferry probe` reads the rate-limit ones).
    pub headers: HeaderMap,
}

enum Attempt {
    Done(Response),
    Retry {
        after: Option<Duration>,
        why: String,
    },
    Fail(FerryError),
}

impl ApiClient {
    /// The API's name for messages ("Zendesk").
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Builds the client; the credential goes into a sensitive default header.
    pub fn new(s: ClientSettings) -> Result<ApiClient> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&s.auth_header).map_err(|_| {
            FerryError::Other(format!(
                "the value of ${} is not a valid HTTP header value",
                s.secret_var
            ))
        })?;
        // Marked sensitive so reqwest/hyper never print it in Debug output.
        auth.set_sensitive(true);
        if s.oauth.is_none() {
            headers.insert(AUTHORIZATION, auth);
        }
        headers.insert("accept", HeaderValue::from_static("application/json"));
        for (name, value) in &s.headers {
            let v = HeaderValue::from_str(value).map_err(|_| {
                FerryError::Other(format!(
                    "{value:?} is not a valid value for the {name} header"
                ))
            })?;
            headers.insert(*name, v);
        }
        let builder = || {
            reqwest::Client::builder()
                .timeout(s.timeout)
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(s.insecure)
                .pool_max_idle_per_host(32)
        };
        let http = builder()
            .default_headers(headers)
            .build()
            .map_err(|e| FerryError::Other(format!("building HTTP client: {e}")))?;
        let plain = builder()
            .build()
            .map_err(|e| FerryError::Other(format!("building HTTP client: {e}")))?;
        Ok(ApiClient {
            api: s.api,
            base: RwLock::new(s.base_url.trim_end_matches('/').to_string()),
            url_key: s.url_key,
            secret_var: s.secret_var,
            http,
            plain,
            origin: RwLock::new(origin_of(&s.base_url)),
            oauth: s.oauth,
            retry_codes: s.retry_codes,
            quota_codes: s.quota_codes,
            refusals_429: s.refusals_429,
            session: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            limiter: Arc::new(match s.credit_window_burst {
                Some(burst) => AdaptiveLimiter::credit_window(s.per_minute, burst),
                None => AdaptiveLimiter::new(s.per_minute).limit_window(s.limit_window_secs),
            }),
            search_limiter: Arc::new(AdaptiveLimiter::new(s.search_per_minute)),
            max_attempts: s.max_attempts.max(1),
            stats: Arc::new(HttpStats::default()),
        })
    }

    /// Whether `url` is on the API's own host (same scheme, host and port
    /// as the base URL): only there do credentials go.
    pub fn is_api_host(&self, url: &str) -> bool {
        let origin = self.origin.read().unwrap();
        origin.is_some() && origin_of(url) == *origin
    }

    /// Absolute URL for a path relative to the API root (`/v1/...`), or the
    /// URL itself when already absolute.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base.read().unwrap(), path)
        }
    }

    /// Sends a request and parses the body as JSON with `parse`, retrying
    /// when the body does not parse (truncated or garbled responses).
    pub async fn fetch_parsed<T>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        lane: Lane,
        parse: impl Fn(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let resp = self
                .send(method.clone(), path, body.map(Payload::Json), lane)
                .await?;
            match parse(&resp.body) {
                Ok(v) => return Ok(v),
                Err(cause) if attempt < self.max_attempts => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(url = %self.url(path), attempt, %cause, "unreadable body; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(cause) => {
                    return Err(FerryError::BadPage {
                        api: self.api.clone(),
                        url: self.url(path),
                        attempts: attempt,
                        cause,
                    })
                }
            }
        }
    }

    /// A GET whose body must be JSON; a truncated or garbled body is
    /// retried like a 5xx, never read as "empty" (which could make a
    /// lookup miss a record and resend it).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        self.fetch_parsed(Method::GET, path, None, Lane::Standard, |b| {
            serde_json::from_slice(b).map_err(|e| format!("not JSON: {e}"))
        })
        .await
    }

    /// Core request loop with the configured number of attempts.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Payload<'_>>,
        lane: Lane,
    ) -> Result<Response> {
        self.send_n(method, path, body, lane, self.max_attempts)
            .await
    }

    /// One attempt (429s aside, which wait): for requests a retry would
    /// get wrong, such as Intercom's scroll, which must restart after a 500.
    pub async fn send_once(&self, method: Method, path: &str) -> Result<Response> {
        self.send_n(method, path, None, Lane::Standard, 1).await
    }

    /// A GET that gives up after three attempts: health checks should say
    /// "unreachable" in seconds, not after a long run's patience.
    pub async fn probe(&self, path: &str) -> Result<Response> {
        self.send_n(Method::GET, path, None, Lane::Standard, 3)
            .await
    }

    async fn send_n(
        &self,
        method: Method,
        path: &str,
        body: Option<Payload<'_>>,
        lane: Lane,
        max_attempts: u32,
    ) -> Result<Response> {
        if self.oauth.is_some() {
            self.ensure_session(None).await?;
        }
        let url = self.url(path);
        if !self.is_api_host(&url) {
            // A link an answer handed back (a next page, a download) that
            // points elsewhere: the credential stays home.
            return Err(FerryError::Other(format!(
                "{}: not sending the credential to {} (the API is {}); this request needs a link on the API's own host",
                self.api,
                origin_of(&url).map(|o| o.1).unwrap_or_else(|| url.clone()),
                self.base.read().unwrap()
            )));
        }
        let mut attempts = 0u32;
        let mut throttled = 0u32;
        let mut refreshed = false;
        loop {
            if lane == Lane::Search {
                self.search_limiter.acquire().await;
            }
            let seq = self.limiter.acquire().await;
            attempts += 1;
            let used = self.session.read().unwrap().clone();
            match self.attempt(&method, &url, body, lane, seq).await {
                Attempt::Done(r) => return Ok(r),
                // An expired session: a new token, once, then the same
                // request again (it was refused, so nothing was done).
                Attempt::Fail(FerryError::Unauthorized { status: 401, .. })
                    if self.oauth.is_some() && !refreshed =>
                {
                    refreshed = true;
                    attempts -= 1;
                    self.ensure_session(used.as_ref()).await?;
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { after, why } => {
                    let is_429 = why.starts_with("429");
                    if is_429 {
                        throttled += 1;
                        // A 429 is the server asking for patience, not a
                        // failure of this request: it does not use an attempt.
                        attempts -= 1;
                    }
                    if attempts >= max_attempts || throttled >= MAX_THROTTLED {
                        return Err(self.give_up(&url, attempts.max(1), why));
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let wait =
                        after.unwrap_or_else(|| backoff(if is_429 { throttled } else { attempts }));
                    if is_429 {
                        let l = if lane == Lane::Search {
                            &self.search_limiter
                        } else {
                            &self.limiter
                        };
                        l.pause_until(Instant::now() + wait);
                        self.stats
                            .paused_until_ms
                            .fetch_max(epoch_ms() + wait.as_millis() as u64, Ordering::Relaxed);
                    }
                    tracing::debug!(%url, attempts, %why, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Fetches an OAuth session when there is none, or when `expired` is
    /// the one still in use (a request saw it refused).
    async fn ensure_session(&self, expired: Option<&HeaderValue>) -> Result<()> {
        let Some(o) = &self.oauth else {
            return Ok(());
        };
        let _one = self.refreshing.lock().await;
        {
            let cur = self.session.read().unwrap();
            let stale = match (cur.as_ref(), expired) {
                (None, _) => true,
                (Some(c), Some(e)) => c == e,
                (Some(_), None) => false,
            };
            if !stale {
                return Ok(());
            }
        }
        let s = oauth::fetch(&self.plain, &self.api, o).await?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        tracing::info!(api = %self.api, base = %s.base, "OAuth session started");
        *self.origin.write().unwrap() = origin_of(&s.base);
        *self.base.write().unwrap() = s.base;
        *self.session.write().unwrap() = Some(s.header);
        Ok(())
    }

    fn give_up(&self, url: &str, attempts: u32, why: String) -> FerryError {
        if why.starts_with("connect:") {
            return FerryError::Unreachable {
                api: self.api.clone(),
                url: url.to_string(),
                key: self.url_key.clone(),
                cause: why.trim_start_matches("connect: ").to_string(),
            };
        }
        FerryError::BadPage {
            api: self.api.clone(),
            url: url.to_string(),
            attempts,
            cause: why,
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<Payload<'_>>,
        lane: Lane,
        seq: u64,
    ) -> Attempt {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut req = self.http.request(method.clone(), url);
        if let Some(h) = self.session.read().unwrap().clone() {
            req = req.header(AUTHORIZATION, h);
        }
        match body {
            Some(Payload::Json(b)) => req = req.json(b),
            Some(Payload::JsonText(t)) => {
                req = req
                    .header("content-type", "application/json")
                    .body(t.to_string());
            }
            Some(Payload::Bytes(b, ctype)) => {
                req = req.header("content-type", ctype).body(b.to_vec())
            }
            None => {}
        }
        // Only a request that writes can be in doubt (a search is a POST
        // that only reads). A PUT can add a comment to a ticket: not
        // idempotent either.
        let write = (*method == Method::POST || *method == Method::PUT || *method == Method::PATCH)
            && lane != Lane::Search;
        let sent = self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
        if sent == 0 {
            self.stats
                .oldest_sent_ms
                .store(epoch_ms(), Ordering::Relaxed);
        }
        let answer = req.send().await;
        // The oldest request still unanswered is unknown once another one
        // answers: the clock restarts from this answer.
        if self.stats.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.stats.oldest_sent_ms.store(0, Ordering::Relaxed);
        } else {
            self.stats
                .oldest_sent_ms
                .store(epoch_ms(), Ordering::Relaxed);
        }
        let resp = match answer {
            Ok(r) => r,
            // Sent but unanswered (reset, timeout): the API may have done
            // it. Not sent again — see `FerryError::InDoubt`.
            Err(e) if write && !e.is_connect() => {
                return Attempt::Fail(FerryError::InDoubt {
                    api: self.api.clone(),
                    url: url.to_string(),
                    cause: if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        root_cause(&e)
                    },
                })
            }
            Err(e) => {
                let why = if e.is_connect() {
                    format!("connect: {}", root_cause(&e))
                } else if e.is_timeout() {
                    "timeout".to_string()
                } else {
                    format!("request failed: {}", root_cause(&e))
                };
                return Attempt::Retry { after: None, why };
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        self.limiter.observe(&headers, seq);
        match resp.bytes().await {
            Ok(bytes) => {
                self.stats
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.classify(url, status, &headers, bytes)
            }
            // A POST the API answered with success was processed: sending
            // it again could create everything twice (a ticket import has
            // no uniqueness). Its batch stays in doubt and the next run
            // matches it by external id instead. (A search is a POST that
            // only reads: it is retried like a GET.)
            Err(e) if status.is_success() && write => Attempt::Fail(FerryError::InDoubt {
                api: self.api.clone(),
                url: url.to_string(),
                cause: root_cause(&e),
            }),
            Err(e) => Attempt::Retry {
                after: None,
                why: format!("body cut off: {}", root_cause(&e)),
            },
        }
    }

    fn classify(
        &self,
        url: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: bytes::Bytes,
    ) -> Attempt {
        if status.is_success() {
            return Attempt::Done(Response {
                body,
                headers: headers.clone(),
            });
        }
        let code = status.as_u16();
        if code == 429 {
            let text = String::from_utf8_lossy(&body);
            if self.refusals_429.iter().any(|r| text.contains(r)) {
                return Attempt::Fail(FerryError::Http {
                    api: self.api.clone(),
                    status: code,
                    url: url.to_string(),
                    body: text.chars().take(2000).collect(),
                });
            }
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            // Kustomer sends no Retry-After; its x-ratelimit-reset says when
            // the window reopens.
            // `Retry-After: 0` (or none) must not become a hot loop: a
            // zero wait counts as no advice, and no advice means backoff.
            let after = retry_after(headers).filter(|d| !d.is_zero()).or_else(|| {
                header_u64(headers, "x-ratelimit-reset")
                    .or_else(|| header_u64(headers, "rate-limit-reset"))
                    .map(reset_delay)
                    .filter(|d| !d.is_zero())
            });
            return Attempt::Retry {
                after,
                why: "429 rate limited".into(),
            };
        }
        if status.is_client_error() {
            let text = String::from_utf8_lossy(&body);
            if let Some((c, advice)) = self.quota_codes.iter().find(|(c, _)| text.contains(c)) {
                return Attempt::Fail(FerryError::Other(format!(
                    "{} answered {c} (HTTP {code}) for {url}: {advice}",
                    self.api
                )));
            }
            if let Some(c) = self.retry_codes.iter().find(|c| text.contains(*c)) {
                return Attempt::Retry {
                    after: None,
                    why: format!("HTTP {code} {c}"),
                };
            }
        }
        if code == 401 || code == 403 {
            return Attempt::Fail(FerryError::Unauthorized {
                api: self.api.clone(),
                status: code,
                url: url.to_string(),
                var: self.secret_var.clone(),
            });
        }
        if status.is_server_error() || code == 408 {
            return Attempt::Retry {
                after: retry_after(headers).filter(|d| *d < Duration::from_secs(120)),
                why: format!("HTTP {code}"),
            };
        }
        let text = String::from_utf8_lossy(&body);
        let snippet: String = text.chars().take(400).collect();
        Attempt::Fail(FerryError::Http {
            api: self.api.clone(),
            status: code,
            url: url.to_string(),
            body: snippet,
        })
    }

    /// POSTs a form to a presigned storage URL an answer handed back (S3's
    /// presigned POST behind Kustomer's attachment upload): no credentials
    /// and outside the API's budget, as for downloads; 5xx and network
    /// errors are retried like any request.
    pub async fn post_elsewhere(&self, url: &str, content_type: &str, body: &[u8]) -> Result<()> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.stats.offhost_downloads.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .plain
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.to_vec())
                .send()
                .await;
            let why = match sent {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status().is_server_error() => format!("HTTP {}", r.status()),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    return Err(FerryError::Http {
                        api: format!("{} storage", self.api),
                        status,
                        url: origin_of(url).map(|o| o.1).unwrap_or_default(),
                        body: text.chars().take(500).collect(),
                    });
                }
                Err(e) => format!("request failed: {}", root_cause(&e)),
            };
            if attempts >= self.max_attempts {
                return Err(FerryError::Http {
                    api: format!("{} storage", self.api),
                    status: 502,
                    url: origin_of(url).map(|o| o.1).unwrap_or_default(),
                    body: format!("{why} after {attempts} attempts"),
                });
            }
            tokio::time::sleep(backoff(attempts)).await;
        }
    }

    /// Downloads `path` into `tmp` (streaming, constant memory) and returns
    /// the SHA-256 and size of the bytes. Retries like any request.
    pub async fn download(&self, path: &str, tmp: &Path) -> Result<(String, u64)> {
        let url = self.url(path);
        // A link to another host (Kustomer's presigned storage URLs) is
        // fetched without credentials and outside the API's budget: it is
        // not an API call.
        let on_api = self.is_api_host(&url);
        let http = if on_api { &self.http } else { &self.plain };
        let mut attempts = 0;
        loop {
            let mut seq = 0;
            if on_api {
                seq = self.limiter.acquire().await;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
            } else {
                self.stats.offhost_downloads.fetch_add(1, Ordering::Relaxed);
            }
            attempts += 1;
            let outcome: std::result::Result<(String, u64), (bool, String, Option<FerryError>)> =
                async {
                    let resp =
                        http.get(&url).send().await.map_err(|e| {
                            (true, format!("request failed: {}", root_cause(&e)), None)
                        })?;
                    let status = resp.status();
                    if on_api {
                        self.limiter.observe(resp.headers(), seq);
                    }
                    if !status.is_success() {
                        let headers = resp.headers().clone();
                        let body = resp.bytes().await.unwrap_or_default();
                        return match self.classify(&url, status, &headers, body) {
                            Attempt::Fail(e) => Err((false, String::new(), Some(e))),
                            Attempt::Retry { why, .. } => Err((true, why, None)),
                            Attempt::Done(_) => unreachable!(),
                        };
                    }
                    let expected = resp.content_length();
                    let mut file = tokio::fs::File::create(tmp).await.map_err(|e| {
                        (
                            false,
                            String::new(),
                            Some(FerryError::io(format!("creating {}", tmp.display()), e)),
                        )
                    })?;
                    let mut hasher = Sha256::new();
                    let mut size = 0u64;
                    let mut stream = resp.bytes_stream();
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk.map_err(|e| {
                            (true, format!("body cut off: {}", root_cause(&e)), None)
                        })?;
                        hasher.update(&chunk);
                        size += chunk.len() as u64;
                        file.write_all(&chunk).await.map_err(|e| {
                            (
                                false,
                                String::new(),
                                Some(FerryError::io(format!("writing {}", tmp.display()), e)),
                            )
                        })?;
                    }
                    if let Some(n) = expected {
                        if n != size {
                            return Err((
                                true,
                                format!("body cut off at {size} of {n} bytes"),
                                None,
                            ));
                        }
                    }
                    file.sync_all().await.map_err(|e| {
                        (
                            false,
                            String::new(),
                            Some(FerryError::io(format!("syncing {}", tmp.display()), e)),
                        )
                    })?;
                    self.stats.bytes.fetch_add(size, Ordering::Relaxed);
                    Ok((hex::encode(hasher.finalize()), size))
                }
                .await;
            match outcome {
                Ok(v) => return Ok(v),
                Err((_, _, Some(e))) => return Err(e),
                Err((_, why, None)) => {
                    if attempts >= self.max_attempts {
                        return Err(self.give_up(&url, attempts, why));
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff(attempts)).await;
                }
            }
        }
    }
}

/// Scheme, host and port (default ports made explicit) of a URL.
fn origin_of(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = url::Url::parse(url).ok()?;
    Some((
        u.scheme().to_string(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
    ))
}

/// Full-jitter exponential backoff: 200 ms · 2^n, capped at 20 s.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 200u64.saturating_mul(1 << attempt.min(7)).min(20_000);
    Duration::from_millis(rand::thread_rng().gen_range(cap / 4..=cap))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return Some(Duration::from_secs_f64(secs.clamp(0.0, 300.0)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.timestamp() - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(delta.clamp(0, 300) as u64))
}

/// The innermost error message: reqwest's outer messages repeat the URL,
/// the inner one says what actually happened ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_zero_falls_back_to_backoff() {
        let c = ApiClient::new(ClientSettings {
            per_minute: 60,
            search_per_minute: 60,
            timeout: Duration::from_secs(1),
            max_attempts: 3,
            ..ClientSettings::source_bearer("T", "http://127.0.0.1:9", "V", "x")
        })
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("0"));
        match c.classify("u", StatusCode::TOO_MANY_REQUESTS, &h, bytes::Bytes::new()) {
            Attempt::Retry { after, why } => {
                assert!(after.is_none(), "zero must mean backoff, got {after:?}");
                assert!(why.starts_with("429"));
            }
            _ => panic!("429 must be retried"),
        }
        h.insert("retry-after", HeaderValue::from_static("7"));
        match c.classify("u", StatusCode::TOO_MANY_REQUESTS, &h, bytes::Bytes::new()) {
            Attempt::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(7))),
            _ => panic!("429 must be retried"),
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for a in 1..20 {
            assert!(backoff(a) <= Duration::from_millis(20_000));
        }
        assert!(backoff(1) <= Duration::from_millis(400));
    }
}
