//! Checks: queries that must return zero rows. Any rows are printed as a
//! table under the check's name.

use arrow::record_batch::RecordBatch;
use duckdb::Connection;

use super::scripts::Check;
use crate::error::{FerryError, Result};

/// A failed check and its offending rows, rendered.
pub struct CheckFailure {
    pub name: String,
    pub rows: usize,
    pub table: String,
}

/// Runs every check; returns the failures.
pub fn run(conn: &Connection, checks: &[Check]) -> Result<Vec<CheckFailure>> {
    let mut out = Vec::new();
    for c in checks {
        let mut stmt = conn
            .prepare(&c.sql)
            .map_err(|e| FerryError::Other(format!("check {}: {e}", c.file)))?;
        let batches: Vec<RecordBatch> = stmt
            .query_arrow([])
            .map_err(|e| FerryError::Other(format!("check {}: {e}", c.file)))?
            .collect();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        if rows > 0 {
            // Show at most 20 rows: enough to see the pattern.
            let mut shown = Vec::new();
            let mut left = 20usize;
            for b in &batches {
                if left == 0 {
                    break;
                }
                let n = b.num_rows().min(left);
                shown.push(b.slice(0, n));
                left -= n;
            }
            let table = arrow::util::pretty::pretty_format_batches(&shown)
                .map(|t| t.to_string())
                .unwrap_or_default();
            out.push(CheckFailure {
                name: c.name.clone(),
                rows,
                table,
            });
        }
    }
    Ok(out)
}
