//! Fault hooks for the chaos suite, driven by environment variables so the
//! real binary can be crashed or starved at an exact moment:
//!
//! - `FERRY_CRASH_AT=<point>[:<n>]` aborts the process (no destructors, no
//!   flush: what kill -9 does) the n-th time (default: first) execution
//!   passes `<point>`.
//! - `FERRY_FAIL_WRITE=<point>[:<n>]` makes the n-th write at `<point>`
//!   fail with ENOSPC, as a full disk would.
//!
//! Points: `land.tmp_written` (a Parquet part written, not yet renamed),
//! `land.renamed` (renamed, its DuckDB registration not yet committed),
//! `transform.script` (a script's transaction open, not committed),
//! `load.sent` (Zendesk answered, nothing recorded yet; `load.sent.<phase>`
//! the same in one phase only), `load.changes_sent` (a batch of changes
//! to loaded records answered, not recorded), `load.commit`
//! (the batch's transaction open, not committed), `archive.write` (an
//! export file about to be written), `land.write` (a part about to be
//! written). Without the variables every hook is one relaxed atomic load.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

struct Hook {
    point: String,
    nth: u32,
    seen: AtomicU32,
}

fn parse(var: &str) -> Option<Hook> {
    let v = std::env::var(var).ok()?;
    let (point, nth) = match v.rsplit_once(':') {
        Some((p, n)) if n.parse::<u32>().is_ok() => (p.to_string(), n.parse().unwrap()),
        _ => (v.clone(), 1),
    };
    Some(Hook {
        point,
        nth: nth.max(1),
        seen: AtomicU32::new(0),
    })
}

fn fires(hook: &Option<Hook>, point: &str) -> bool {
    match hook {
        Some(h) if h.point == point => h.seen.fetch_add(1, Ordering::Relaxed) + 1 == h.nth,
        _ => false,
    }
}

/// Aborts here when `FERRY_CRASH_AT` names this point (and its count).
pub fn crash_point(point: &str) {
    static HOOK: OnceLock<Option<Hook>> = OnceLock::new();
    if fires(HOOK.get_or_init(|| parse("FERRY_CRASH_AT")), point) {
        eprintln!("ferry: FERRY_CRASH_AT={point}: aborting now (chaos test hook)");
        std::process::abort();
    }
}

/// Fails with ENOSPC here when `FERRY_FAIL_WRITE` names this point.
pub fn write_fault(point: &str) -> std::io::Result<()> {
    static HOOK: OnceLock<Option<Hook>> = OnceLock::new();
    if fires(HOOK.get_or_init(|| parse("FERRY_FAIL_WRITE")), point) {
        return Err(std::io::Error::from_raw_os_error(28));
    }
    Ok(())
}
