//! What the extract driver asks of a source's pass and what it gets back.
//! The pass itself is the source connector's (`Source::extract`).

/// What the user asked `ferry extract` for.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    pub only: Option<Vec<String>>,
    /// Delta from this instant (ms) instead of the stored high-water marks.
    pub since: Option<i64>,
    /// Ignore stored state and extract everything again.
    pub full: bool,
    pub progress: bool,
}

/// Per-stream outcome for the summary table.
#[derive(Debug, Clone, Default)]
pub struct StreamSummary {
    pub object: String,
    pub pass: String,
    pub landed: u64,
    pub quarantined: u64,
    pub pages: u64,
    pub seconds: f64,
    pub error: Option<String>,
    /// The source would not serve this stream (404/403), and why.
    pub unavailable: Option<String>,
}

/// `--only` names objects the source lands: an unknown one is refused
/// with the list.
pub fn check_only(only: &Option<Vec<String>>, known: &[&str]) -> crate::error::Result<()> {
    for name in only.iter().flatten() {
        if !known.contains(&name.as_str()) {
            return Err(crate::error::FerryError::Other(format!(
                "--only: unknown object `{name}` (known: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Records a stream of `source` landed in the pass it is resuming (a pass
/// left `running` by an earlier run), so its counters continue from them
/// instead of starting at 0; 0 for a pass that starts now.
pub fn landed_in_unfinished_pass(
    db: &duckdb::Connection,
    source: &str,
    object: &str,
) -> crate::error::Result<u64> {
    let n: i64 = db.query_row(
        "SELECT coalesce(sum(p.records), 0)
         FROM ferry_extract_state s JOIN ferry_raw_parts p
           ON p.source = s.source AND p.object = s.object AND p.created_at >= s.pass_started
         WHERE s.source = ? AND s.object = ? AND s.status = 'running'",
        [source, object],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}
