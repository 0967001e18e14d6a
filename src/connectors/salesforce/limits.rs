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
        assert!(check_batches(1_600, 15_000, 20_000, 10.0).is_ok());
        let e = check_batches(1_500, 15_000, 20_000, 10.0).unwrap_err();
        assert!(e.contains("needs 2 and 1500"), "{e}");
    }
}

/// The latest `api-usage` seen on any answer of a load, and the Bulk
/// batches of the rolling 24 hours (`/limits` `DailyBulkApiBatches`, read
/// once, then counted down by the jobs this load sends).
#[derive(Debug, Default)]
pub struct Budget {
    used: std::sync::atomic::AtomicU64,
    max: std::sync::atomic::AtomicU64,
    /// `(remaining, max)` Bulk batches once `/limits` told.
    batches: std::sync::Mutex<Option<(u64, u64)>>,
}

/// Records Salesforce counts as one Bulk batch (Bulk API 2.0 splits a
/// job's data into internal batches of 10,000 records).
pub const BULK_BATCH_RECORDS: usize = 10_000;

/// Whether a Bulk job of `rows` rows may start: `Err` with advice when
/// it would eat into the reserve of the org's daily Bulk batches.
pub fn check_batches(
    remaining: u64,
    max: u64,
    rows: usize,
    reserve_percent: f64,
) -> Result<(), String> {
    let need = rows.div_ceil(BULK_BATCH_RECORDS) as u64;
    let keep = (max as f64 * reserve_percent / 100.0).ceil() as u64;
    if remaining < need + keep {
        return Err(format!(
            "the org has {remaining} of its {max} daily Bulk API batches left, this job needs {need} and {keep} ({reserve_percent}%) are reserved for its other integrations (destination.reserve_percent): stopping cleanly before the job; batches are counted over a rolling 24 hours, so rerun `ferry load` later — nothing loaded is lost and nothing is sent twice"
        ));
    }
    Ok(())
}

impl Budget {
    pub fn observe(&self, headers: &HeaderMap) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some((used, max)) = api_usage(headers) {
            self.used.fetch_max(used, Relaxed);
            self.max.store(max, Relaxed);
        }
    }

    /// Bulk batches `(remaining, max)` once known.
    pub fn batches(&self) -> Option<(u64, u64)> {
        *self.batches.lock().unwrap()
    }

    pub fn set_batches(&self, remaining: u64, max: u64) {
        *self.batches.lock().unwrap() = Some((remaining, max));
    }

    /// Counts a job of `rows` rows against the batches left.
    pub fn spend_batches(&self, rows: usize) {
        if let Some((left, _)) = self.batches.lock().unwrap().as_mut() {
            *left = left.saturating_sub(rows.div_ceil(BULK_BATCH_RECORDS) as u64);
        }
    }

    /// `(used, max)` once an answer told.
    pub fn get(&self) -> Option<(u64, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        let max = self.max.load(Relaxed);
        (max > 0).then(|| (self.used.load(Relaxed), max))
    }
}
