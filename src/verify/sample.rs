//! What every destination's sample read-back shares: picking the sample
//! with the route's `verify/sample.sql`, recording a difference, and the
//! text a reader sees, compared on both sides.

use duckdb::Connection;

use super::report::Mismatch;
use crate::error::Result;

/// Runs the route's `verify/sample.sql` for `n` records; returns the
/// strata with their counts.
pub fn pick(conn: &Connection, sample_sql: &str, n: usize) -> Result<Vec<(String, i64)>> {
    conn.execute_batch(&format!("SET VARIABLE verify_sample = {n};"))?;
    conn.execute_batch(sample_sql)?;
    let mut stmt = conn
        .prepare("SELECT stratum, count(*) FROM verify_sample GROUP BY ALL ORDER BY 2 DESC, 1")?;
    let strata = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(strata)
}

/// The picked records: (source id, destination id, expected JSON), for
/// routes whose `verify_sample` has those three columns.
pub fn picked(conn: &Connection) -> Result<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT source_id, dest_id, expected::VARCHAR FROM verify_sample ORDER BY source_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// One difference between what the source says and the destination holds.
pub fn mismatch(
    src: &str,
    dest: &str,
    field: &str,
    expected: impl ToString,
    actual: impl ToString,
) -> Mismatch {
    Mismatch {
        source_id: src.into(),
        dest_id: dest.into(),
        field: field.into(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

/// Text without tags, entities of the common five, and runs of blanks:
/// what a reader sees.
pub fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
