//! Reading a phase's rows: the route's load SQL (`load/*.sql`, built in
//! or ejected), the variables and macros it reads, and a streaming reader.

use std::collections::BTreeMap;

use arrow::array::Array;
use duckdb::Connection;

use super::phase::Phase;
use super::Row;
use crate::error::{FerryError, Result};

/// The engine's SQL macros, available to every route's load SQL:
/// `ferry_loaded(phase)` (a table: source_id, dest_id, loaded_at of the
/// records loaded by that phase; in a dry run, with what the earlier
/// phases would create), `ferry_wanted(phase, id)` (not failed
/// unless `--retry`, and in the pilot set under `--sample`),
/// `ferry_pending(phase, id)` (not loaded yet, and wanted; while the
/// engine looks for changes, `ferry_mode = 'loaded'`, it means the
/// opposite: loaded, so the same query gives the loaded records' payloads
/// now), `ferry_in_window(id)` (in the current window, or no window is
/// set) and `ferry_carried(phase)` (a table: parent_source_id, source_id
/// of the children that were sent inside the phase's records).
const ENGINE_MACROS: &str = include_str!("../../sql/engine/load_macros.sql");

/// The route's load files by relative path (`load/tickets.sql`…).
#[derive(Debug, Clone, Default)]
pub struct LoadSql {
    pub files: BTreeMap<String, String>,
}

impl LoadSql {
    /// A file's text, or an error naming it.
    pub fn get(&self, file: &str) -> Result<&str> {
        self.files.get(file).map(String::as_str).ok_or_else(|| {
            FerryError::Other(format!(
                "the route has no {file} (an ejected sql/ directory that lost it? eject again or restore it)"
            ))
        })
    }
}

/// What the load SQL reads with `getvariable`.
#[derive(Debug, Clone)]
pub struct Vars {
    /// `ferry_id_map.dest` of this destination.
    pub dest: &'static str,
    pub retry: bool,
    pub open_first: bool,
    pub sample: bool,
    /// Seconds a file token is trusted; `ferry_token_cutoff` is now minus it.
    pub upload_token_secs: Option<f64>,
    /// The destination's own (name, SQL value).
    pub extra: Vec<(String, String)>,
    /// `ferry_pending` selects loaded records (the change pass) instead of
    /// new ones.
    pub loaded: bool,
    /// `ferry_loaded` also lists what the earlier phases of a dry run
    /// would create (`ferry_dry_loaded`), so rows waiting on them count.
    pub dry_projection: bool,
}

impl Vars {
    /// The variables a read-only look at the load SQL uses (status,
    /// verify): no retry, no sample, send order as built.
    pub fn read_only(dest: &dyn crate::connector::Destination) -> Vars {
        let settings = dest.load_settings();
        Vars {
            dest: dest.kind(),
            retry: false,
            open_first: false,
            sample: false,
            upload_token_secs: settings.upload_token_secs,
            extra: settings.variables,
            loaded: false,
            dry_projection: false,
        }
    }

    /// Sets the variables and macros on `conn` (both are per connection).
    pub fn apply(&self, conn: &Connection, sql: &LoadSql, window: Option<i64>) -> Result<()> {
        // Computed here: DuckDB's TIMESTAMPTZ arithmetic needs the ICU
        // extension, which the bundled build does not carry.
        let cutoff = chrono::Utc::now()
            - chrono::Duration::milliseconds(
                (self.upload_token_secs.unwrap_or(1e9) * 1000.0) as i64,
            );
        let mut text = format!(
            "SET VARIABLE ferry_dest = '{}'; SET VARIABLE ferry_retry = {}; SET VARIABLE ferry_open_first = {}; \
             SET VARIABLE ferry_sample = {}; SET VARIABLE ferry_token_cutoff = '{}'::TIMESTAMPTZ; \
             SET VARIABLE ferry_window = {}; SET VARIABLE ferry_mode = '{}'; \
             SET VARIABLE ferry_dry_projection = {};",
            self.dest,
            self.retry,
            self.open_first,
            self.sample,
            cutoff.format("%Y-%m-%d %H:%M:%S%.6f+00"),
            window.map_or("NULL::BIGINT".to_string(), |w| w.to_string()),
            if self.loaded { "loaded" } else { "new" },
            self.dry_projection,
        );
        for (name, value) in &self.extra {
            text.push_str(&format!(" SET VARIABLE {name} = {value};"));
        }
        text.push_str(
            "CREATE TABLE IF NOT EXISTS load_sample (phase VARCHAR, source_id VARCHAR);
             COMMENT ON TABLE load_sample IS 'the pilot set of the last ferry load --sample N: phase, source_id';
             CREATE TABLE IF NOT EXISTS load_window (source_id VARCHAR, win BIGINT);
             COMMENT ON TABLE load_window IS 'the upload windows of the last ferry load: source id → window (uploads sent just before their tickets)';
             CREATE TEMP TABLE IF NOT EXISTS ferry_dry_loaded (dest_object VARCHAR, source_id VARCHAR,
                 dest_id VARCHAR, loaded_at TIMESTAMPTZ);",
        );
        text.push_str(ENGINE_MACROS);
        if let Some(route_macros) = sql.files.get("load/macros.sql") {
            text.push_str(route_macros);
        }
        conn.execute_batch(&text)
            .map_err(|e| phase_error("macros.sql", &e))?;
        Ok(())
    }
}

/// A DuckDB error in a route's load SQL, with the usual fix.
pub fn phase_error(what: &str, e: &duckdb::Error) -> FerryError {
    FerryError::Other(format!(
        "load {what}: {} (run `ferry transform` first?)",
        crate::transform::duck_message(&e.to_string())
    ))
}

/// How many rows a phase has pending (payloads are not built: DuckDB
/// prunes the unused columns).
pub fn count_rows(
    conn: &Connection,
    sql: &LoadSql,
    vars: &Vars,
    phase: &Phase,
    window: Option<i64>,
) -> Result<u64> {
    vars.apply(conn, sql, window)?;
    let text = sql.get(&phase.sql_file())?;
    let n: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM ({})", strip(text)),
            [],
            |r| r.get(0),
        )
        .map_err(|e| phase_error(&format!("phase {}", phase.name), &e))?;
    Ok(n as u64)
}

/// A query file without its trailing semicolon, to nest as a subquery.
pub(crate) fn strip(text: &str) -> &str {
    text.trim().trim_end_matches(';')
}

/// The first `n` columns of a result chunk as text (Utf8 arrays; ids may
/// come back as numbers from an edited query).
pub(crate) fn text_columns(
    batch: &arrow::record_batch::RecordBatch,
    n: usize,
    phase: &Phase,
) -> Result<Vec<arrow::array::ArrayRef>> {
    (0..n)
        .map(|i| {
            arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Utf8)
                .map_err(|e| FerryError::Other(format!("phase {}: {e}", phase.name)))
        })
        .collect()
}

/// Reads a phase's pending rows, streaming: `each` returns false to stop.
pub fn query_rows(
    conn: &Connection,
    sql: &LoadSql,
    vars: &Vars,
    phase: &Phase,
    window: Option<i64>,
    mut each: impl FnMut(Row) -> bool,
) -> Result<()> {
    vars.apply(conn, sql, window)?;
    let text = sql.get(&phase.sql_file())?;
    let mut stmt = conn
        .prepare(strip(text))
        .map_err(|e| phase_error(&format!("phase {}", phase.name), &e))?;
    // A streaming result: DuckDB hands over one chunk at a time instead of
    // materialising every payload of the phase (hundreds of MB of ticket
    // JSON at 20k tickets) before the first is sent.
    for batch in stmt.stream_arrow([])? {
        let batch = batch?;
        if batch.num_columns() < 5 {
            return Err(FerryError::Other(format!(
                "load phase {}: {} must return source_id, external_id, hold, payload, path_arg",
                phase.name,
                phase.sql_file()
            )));
        }
        let cols = text_columns(&batch, 5, phase)?;
        let cols: Vec<&arrow::array::StringArray> = cols
            .iter()
            .map(|c| c.as_any().downcast_ref().expect("cast to Utf8"))
            .collect();
        let text = |c: usize, i: usize| (!cols[c].is_null(i)).then(|| cols[c].value(i).to_string());
        // The optional sixth column: the children sent inside the row.
        let members = if phase.members.is_some() && batch.num_columns() > 5 {
            Some(
                arrow::compute::cast(batch.column(5), &arrow::datatypes::DataType::Utf8)
                    .map_err(|e| FerryError::Other(format!("phase {}: {e}", phase.name)))?,
            )
        } else {
            None
        };
        let members = members.as_ref().map(|c| {
            c.as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .expect("cast to Utf8")
        });
        for i in 0..batch.num_rows() {
            let row = Row {
                source_id: text(0, i).unwrap_or_default(),
                external_id: text(1, i),
                hold: text(2, i),
                payload: text(3, i).unwrap_or_default(),
                path_arg: text(4, i),
                members: match members {
                    Some(m) if !m.is_null(i) => serde_json::from_str(m.value(i)).map_err(|e| {
                        FerryError::Other(format!(
                            "load phase {}: the members column of {} is not a JSON array of ids: {e}",
                            phase.name,
                            text(0, i).unwrap_or_default()
                        ))
                    })?,
                    _ => Vec::new(),
                },
            };
            if !each(row) {
                return Ok(());
            }
        }
    }
    Ok(())
}
