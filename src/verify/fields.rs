//! The field ledger in the verify report: every attribute path the source
//! records carry (from the landed JSON, `int_source_fields`), what becomes
//! of it by the route's declarations (`int_field_ledger`: carried to a
//! destination field or text, or dropped with a reason), and the sampled
//! mismatches per destination field. `verify_fields` keeps it for SQL.

use duckdb::Connection;
use serde::Serialize;

use super::report::Mismatch;
use crate::error::Result;

/// The reason a route gives for a gap it declares but does not carry yet;
/// such paths are listed as caveats, never passed over in silence.
pub const NOT_CARRIED_YET: &str = "not carried yet";

/// One attribute path of one source object.
#[derive(Debug, Clone, Serialize)]
pub struct FieldRow {
    pub object: String,
    pub path: String,
    /// Records with a non-empty value at this path.
    pub values: i64,
    /// carried | dropped | (none: unaccounted)
    pub fate: Option<String>,
    /// Where it goes (carried) or why it stays (dropped).
    pub detail: Option<String>,
    /// Values of sampled records read back from the destination and
    /// compared (`verify_field_values`), and how many differed.
    pub sampled: i64,
    pub sampled_mismatches: i64,
}

/// What the report says about fields.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldLedger {
    pub rows: Vec<FieldRow>,
    /// Paths with values that no declaration covers.
    pub unaccounted: Vec<FieldRow>,
    /// Paths declared dropped because the route does not carry them yet.
    pub not_carried_yet: Vec<FieldRow>,
    /// Sampled mismatches by destination field: (field, count).
    pub mismatches_by_field: Vec<(String, i64)>,
    /// Sampled messages whose destination copy still links inline images
    /// at the source, while the route declares them not carried yet.
    pub inline_images_left: Vec<Mismatch>,
}

impl FieldLedger {
    /// The sample's mismatches by destination field.
    pub fn count_mismatches(&mut self, mismatches: &[Mismatch]) {
        let mut by_field: std::collections::BTreeMap<String, i64> = Default::default();
        for m in mismatches {
            *by_field.entry(field_kind(&m.field)).or_default() += 1;
        }
        self.mismatches_by_field = by_field.into_iter().collect();
    }

    /// Inline images the route declares "not carried yet" are a caveat
    /// the report names, not a failure, while that declaration stands:
    /// their mismatches move from the sample to `inline_images_left`.
    pub fn set_aside_declared_gaps(&mut self, mismatches: &mut Vec<Mismatch>) {
        if !self
            .not_carried_yet
            .iter()
            .any(|f| f.path.ends_with("#inline_images"))
        {
            return;
        }
        let (gap, rest): (Vec<_>, Vec<_>) = std::mem::take(mismatches)
            .into_iter()
            .partition(|m| m.field.starts_with(super::sample::INLINE_IMAGES));
        *mismatches = rest;
        self.inline_images_left = gap;
        // The counts by field are of the failures left.
        self.count_mismatches(mismatches);
    }
}

/// Builds `verify_fields` from the transform's ledger (nothing when the
/// workspace was transformed before the ledger existed) and counts the
/// sample's mismatches by field.
pub fn ledger(conn: &Connection, mismatches: &[Mismatch]) -> Result<FieldLedger> {
    let mut out = FieldLedger::default();
    out.count_mismatches(mismatches);
    if conn
        .prepare("SELECT * FROM int_field_ledger LIMIT 0")
        .is_err()
    {
        return Ok(out);
    }
    // The content comparison of this verify, when it ran (online).
    let compared = if conn
        .prepare("SELECT 1 FROM verify_field_values LIMIT 0")
        .is_ok()
    {
        "SELECT source_object, source_path, count(*) AS n, count(*) FILTER (WHERE NOT matches) AS bad
         FROM verify_field_values GROUP BY ALL"
    } else {
        "SELECT NULL::VARCHAR AS source_object, NULL::VARCHAR AS source_path, 0 AS n, 0 AS bad WHERE false"
    };
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE verify_fields AS
         SELECT l.object, l.path, l.records, l.non_empty AS records_with_a_value, l.json_type, l.fate,
                l.target, l.reason, l.declared_by, l.declared_in, l.unaccounted,
                l.fate = 'dropped' AND starts_with(l.reason, '{NOT_CARRIED_YET}') AS not_carried_yet,
                coalesce(c.n, 0) AS sampled, coalesce(c.bad, 0) AS sampled_mismatches
         FROM int_field_ledger l
         LEFT JOIN ({compared}) c ON c.source_object = l.object AND c.source_path = l.path
         ORDER BY l.object, l.path;
         COMMENT ON TABLE verify_fields IS 'ferry verify: every attribute path the source records carry, with how many have a value, and what becomes of it (carried to, dropped because)';"
    ))?;
    let mut stmt = conn.prepare(
        "SELECT object, path, records_with_a_value, fate, coalesce(target, reason), unaccounted, not_carried_yet,
                sampled, sampled_mismatches
         FROM verify_fields WHERE records_with_a_value > 0 ORDER BY object, path",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            FieldRow {
                object: r.get(0)?,
                path: r.get(1)?,
                values: r.get(2)?,
                fate: r.get(3)?,
                detail: r.get(4)?,
                sampled: r.get(7)?,
                sampled_mismatches: r.get(8)?,
            },
            r.get::<_, bool>(5)?,
            r.get::<_, Option<bool>>(6)?.unwrap_or(false),
        ))
    })?;
    for row in rows {
        let (f, unaccounted, later) = row?;
        if unaccounted {
            out.unaccounted.push(f.clone());
        }
        if later {
            out.not_carried_yet.push(f.clone());
        }
        out.rows.push(f);
    }
    Ok(out)
}

/// A mismatch's field without the record it names (`comments[3].body
/// (m1)` → `comments.body`, `message 64f0… body` → `message body`), so the
/// report can count mismatches by field.
fn field_kind(field: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in field.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}
