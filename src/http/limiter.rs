//! The rate limiter every request of one API goes through. Two ways to
//! spend a budget, chosen by how the API counts it:
//!
//! - **paced** (Kustomer, Zendesk: a rolling per-minute rate): a `governor`
//!   cell rate at a share of the limit, adapted to the limit the server
//!   announces, paused when it says the window is empty;
//! - **credit window** (Enchant: `Rate-Limit-Remaining` credits until the
//!   count resets `Rate-Limit-Reset` seconds from now, plus a per-second
//!   burst cap): what the server says is left is spent at the burst rate,
//!   then every user waits for the reset. Pacing evenly over a fixed
//!   window loses the share the pacing keeps in reserve; spending the
//!   window as the server counts it uses all of it.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;

/// Fraction of the advertised budget a paced limiter aims for: close to
/// the limit without tripping the server's window on jitter.
const BUDGET_SHARE: f64 = 0.97;
/// Share of the burst cap a credit-window limiter uses: a request's
/// arrival jitters by milliseconds, a per-second cap counts exactly.
const BURST_SHARE: f64 = 0.9;
/// Wait past an announced reset: the header counts whole seconds.
const RESET_MARGIN: Duration = Duration::from_millis(150);

/// A rate limiter whose quota follows the server's rate-limit headers.
pub struct AdaptiveLimiter {
    limiter: RwLock<Arc<DefaultDirectRateLimiter>>,
    per_minute: AtomicU32,
    paused_until: Mutex<Option<Instant>>,
    /// Credits owed (paced mode): a request that cost more than one
    /// (Enchant's `Rate-Limit-Used`) takes its extra cells from the next.
    debt: AtomicU32,
    /// Requests acquired so far: each response's remaining credits are
    /// corrected by the requests acquired after it.
    acquired: AtomicU64,
    window: Option<CreditWindow>,
    /// Seconds the announced limit counts (60 unless the API says less).
    limit_secs: u32,
}

/// The server's credit window as the limiter believes it.
struct CreditWindow {
    burst: DefaultDirectRateLimiter,
    /// (credits left, when the count resets); `None` until a response
    /// says, and again once the reset has passed.
    state: Mutex<Option<(i64, Instant)>>,
}

impl AdaptiveLimiter {
    /// A paced limiter for `per_minute` requests per minute.
    pub fn new(per_minute: u32) -> Self {
        AdaptiveLimiter {
            limiter: RwLock::new(Arc::new(build_limiter(per_minute))),
            per_minute: AtomicU32::new(per_minute),
            paused_until: Mutex::new(None),
            debt: AtomicU32::new(0),
            acquired: AtomicU64::new(0),
            window: None,
            limit_secs: 60,
        }
    }

    /// Reads the announced limit as counting `secs` seconds (Intercom's
    /// 10-second windows), so it is scaled to a minute before pacing.
    pub fn limit_window(mut self, secs: u32) -> Self {
        self.limit_secs = secs.clamp(1, 60);
        self
    }

    /// A credit-window limiter: `per_minute` credits (until the headers
    /// say otherwise), spent at up to `burst_per_second` requests a second.
    pub fn credit_window(per_minute: u32, burst_per_second: u32) -> Self {
        let rate = (burst_per_second.max(1) as f64 * BURST_SHARE).max(0.5);
        let burst = RateLimiter::direct(
            Quota::with_period(Duration::from_secs_f64(1.0 / rate))
                .unwrap()
                .allow_burst(NonZeroU32::MIN),
        );
        AdaptiveLimiter {
            window: Some(CreditWindow {
                burst,
                state: Mutex::new(None),
            }),
            ..AdaptiveLimiter::new(per_minute)
        }
    }

    /// Current budget in requests (credits) per minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute.load(Ordering::Relaxed)
    }

    /// Waits for a pause (after a 429 or an exhausted window) and a cell;
    /// returns the request's sequence number for [`Self::observe`].
    pub async fn acquire(&self) -> u64 {
        loop {
            let until = *self.paused_until.lock().unwrap();
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => break,
            }
        }
        if let Some(w) = &self.window {
            loop {
                let reset = {
                    let mut state = w.state.lock().unwrap();
                    match *state {
                        Some((_, at)) if Instant::now() >= at => {
                            *state = None;
                            None
                        }
                        Some((left, at)) if left <= 0 => Some(at),
                        Some((ref mut left, _)) => {
                            *left -= 1;
                            None
                        }
                        None => None,
                    }
                };
                match reset {
                    Some(at) => tokio::time::sleep_until((at + RESET_MARGIN).into()).await,
                    None => break,
                }
            }
            w.burst.until_ready().await;
            return self.acquired.fetch_add(1, Ordering::Relaxed) + 1;
        }
        let lim = self.limiter.read().unwrap().clone();
        lim.until_ready().await;
        let owed = self.debt.swap(0, Ordering::Relaxed);
        for _ in 0..owed.min(50) {
            lim.until_ready().await;
        }
        self.acquired.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Pauses every user of this limiter until `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut p = self.paused_until.lock().unwrap();
        if p.map(|t| t < until).unwrap_or(true) {
            *p = Some(until);
        }
    }

    /// Adapts to the rate-limit headers of the answer to request `seq`.
    pub fn observe(&self, headers: &HeaderMap, seq: u64) {
        // Kustomer: x-ratelimit-*; Zendesk: x-rate-limit / ratelimit-*;
        // Enchant: rate-limit-* (credits, no `X-` prefix; community spec
        // `components.headers`).
        let limit = header_u64(headers, "x-ratelimit-limit")
            .or_else(|| header_u64(headers, "x-rate-limit"))
            .or_else(|| header_u64(headers, "ratelimit-limit"))
            .or_else(|| header_u64(headers, "rate-limit-limit"));
        if let Some(limit) = limit {
            let limit = (limit * 60 / self.limit_secs as u64).min(u32::MAX as u64) as u32;
            if limit > 0 && limit != self.per_minute() {
                tracing::info!(limit, "server announced a different rate limit; adapting");
                *self.limiter.write().unwrap() = Arc::new(build_limiter(limit));
                self.per_minute.store(limit, Ordering::Relaxed);
            }
        }
        if let Some(w) = &self.window {
            // Enchant's Remaining already counts each request's real cost,
            // and Reset is seconds from now (community spec).
            if let (Some(left), Some(reset)) = (
                header_u64(headers, "rate-limit-remaining"),
                header_u64(headers, "rate-limit-reset"),
            ) {
                // Requests acquired after this one may not have reached the
                // server when it counted: assume they all cost a credit.
                let later = self.acquired.load(Ordering::Relaxed).saturating_sub(seq);
                let at = Instant::now() + Duration::from_secs(reset.min(120));
                *w.state.lock().unwrap() = Some((left as i64 - later as i64, at));
            }
            return;
        }
        if let Some(used) = header_u64(headers, "rate-limit-used").filter(|u| *u > 1) {
            self.debt
                .fetch_add((used - 1).min(50) as u32, Ordering::Relaxed);
        }
        if let (Some(0), Some(reset)) = (
            header_u64(headers, "x-ratelimit-remaining")
                .or_else(|| header_u64(headers, "rate-limit-remaining")),
            header_u64(headers, "x-ratelimit-reset")
                .or_else(|| header_u64(headers, "rate-limit-reset")),
        ) {
            self.pause_until(Instant::now() + reset_delay(reset));
        }
    }
}

fn build_limiter(per_minute: u32) -> DefaultDirectRateLimiter {
    let per_minute = per_minute.max(1) as f64 * BUDGET_SHARE;
    let period = Duration::from_secs_f64(60.0 / per_minute.max(1.0));
    // A small burst keeps concurrent streams busy without front-loading the
    // server's window.
    let burst = NonZeroU32::new(((per_minute / 60.0) as u32).clamp(1, 50)).unwrap();
    RateLimiter::direct(Quota::with_period(period).unwrap().allow_burst(burst))
}

/// `x-ratelimit-reset` is documented both as epoch seconds and as seconds
/// until reset: values that cannot be an epoch are a delta.
pub(crate) fn reset_delay(reset: u64) -> Duration {
    let now = chrono::Utc::now().timestamp() as u64;
    let secs = if reset > 1_000_000_000 {
        reset.saturating_sub(now)
    } else {
        reset
    };
    Duration::from_secs(secs.min(120))
}

pub(crate) fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reset_header_accepts_epoch_and_delta() {
        assert_eq!(reset_delay(30), Duration::from_secs(30));
        let epoch = chrono::Utc::now().timestamp() as u64 + 10;
        let d = reset_delay(epoch);
        assert!(
            d <= Duration::from_secs(10) && d >= Duration::from_secs(8),
            "{d:?}"
        );
    }

    #[test]
    fn a_limit_announced_per_ten_seconds_is_read_as_six_times_that_a_minute() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from(167u32));
        let l = AdaptiveLimiter::new(600).limit_window(10);
        l.observe(&h, 0);
        assert_eq!(l.per_minute(), 1002, "167 per 10 s is 1,002 a minute");
        let per_minute = AdaptiveLimiter::new(600);
        per_minute.observe(&h, 0);
        assert_eq!(
            per_minute.per_minute(),
            167,
            "a per-minute header is taken as it is"
        );
    }

    fn window_headers(left: u32, reset: u32) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("rate-limit-limit", HeaderValue::from(100u32));
        h.insert("rate-limit-remaining", HeaderValue::from(left));
        h.insert("rate-limit-used", HeaderValue::from(1u32));
        h.insert("rate-limit-reset", HeaderValue::from(reset));
        h
    }

    #[tokio::test]
    async fn a_credit_window_is_spent_at_the_burst_rate_then_waits_for_the_reset() {
        let l = AdaptiveLimiter::credit_window(100, 20);
        let start = Instant::now();
        // The server says 3 credits are left for the next second.
        let seq = l.acquire().await;
        l.observe(&window_headers(3, 1), seq);
        for left in (0..3).rev() {
            let seq = l.acquire().await;
            l.observe(&window_headers(left, 1), seq);
        }
        let spent = start.elapsed();
        assert!(spent < Duration::from_millis(700), "burst rate: {spent:?}");
        // Window empty: the next request waits for the reset.
        l.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn requests_in_flight_count_against_what_the_server_said_was_left() {
        let l = AdaptiveLimiter::credit_window(100, 1000);
        let first = l.acquire().await;
        // Four more go out before the first answer comes back with 4 left.
        for _ in 0..4 {
            l.acquire().await;
        }
        let start = Instant::now();
        l.observe(&window_headers(4, 1), first);
        l.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "the four in flight used the window: {:?}",
            start.elapsed()
        );
    }
}
