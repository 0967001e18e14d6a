//! The daily API allocation. Salesforce has no per-minute limit; every
//! REST answer but the versions list carries `Sforce-Limit-Info:
//! api-usage=USED/MAX` (Salesforce REST API guide, "Limit Info Header";
//! newer orgs add `; api-bursts=n/m`), and past MAX calls fail with 403
//! `REQUEST_LIMIT_EXCEEDED`. ferry reads the header off every answer and
//! stops before the org's other integrations would starve.

use reqwest::header::HeaderMap;

/// `(used, max)` from `Sforce-Limit-Info`.
pub fn api_usage(headers: &HeaderMap) -> Option<(u64, u64)> {
    let v = headers.get("sforce-limit-info")?.to_str().ok()?;
    let part = v
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("api-usage="))?;
    let (used, max) = part.split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

/// Whether a load may go on: `Err` with what to tell the user when the
/// requests left are within the reserve.
pub fn check_reserve(used: u64, max: u64, reserve_percent: f64) -> Result<(), String> {
    let keep = (max as f64 * reserve_percent / 100.0).ceil() as u64;
    let left = max.saturating_sub(used);
    if left <= keep {
        return Err(format!(
            "the org has {left} of its {max} daily API requests left and {keep} ({reserve_percent}%) are reserved for its other integrations (destination.reserve_percent): stopping cleanly; the allocation is a rolling 24 hours, so rerun `ferry load` later — nothing loaded is lost and nothing is sent twice"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_header_and_keeps_the_reserve() {
        let mut h = HeaderMap::new();
        h.insert(
            "sforce-limit-info",
            "api-usage=10018/100000; api-bursts=1/750".parse().unwrap(),
        );
        assert_eq!(api_usage(&h), Some((10018, 100000)));
        h.insert("sforce-limit-info", "api-usage=25/5000".parse().unwrap());
        assert_eq!(api_usage(&h), Some((25, 5000)));
        assert!(check_reserve(89_000, 100_000, 10.0).is_ok());
        let e = check_reserve(90_000, 100_000, 10.0).unwrap_err();
        assert!(e.contains("10000 of its 100000"), "{e}");
    }
}

/// The latest `api-usage` seen on any answer of a load.
#[derive(Debug, Default)]
pub struct Budget {
    used: std::sync::atomic::AtomicU64,
    max: std::sync::atomic::AtomicU64,
}

impl Budget {
    pub fn observe(&self, headers: &HeaderMap) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some((used, max)) = api_usage(headers) {
            self.used.fetch_max(used, Relaxed);
            self.max.store(max, Relaxed);
        }
    }

    /// `(used, max)` once an answer told.
    pub fn get(&self) -> Option<(u64, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        let max = self.max.load(Relaxed);
        (max > 0).then(|| (self.used.load(Relaxed), max))
    }
}
