//! Writing query results (a stream of Arrow record batches) as a table,
//! CSV, JSON, JSON Lines or Parquet. Shared by `ferry sql` and
//! `ferry archive`; batches are written as they come, so memory stays flat
//! whatever the result size (`table` shows a bounded part and counts the
//! rest: `text_table`).

use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use clap::ValueEnum;

use crate::error::{FerryError, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text table for terminals: bounded rows and cell widths.
    Table,
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet, zstd-compressed (needs a file: `-o`).
    Parquet,
}

impl Format {
    /// File extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

fn arrow_err(e: impl std::fmt::Display) -> FerryError {
    results_error(e)
}

/// A writer's error; a closed output (`ferry sql … | head`) stays a
/// BrokenPipe, which the binary ends on quietly, as Unix tools do (the
/// CSV and JSON writers keep only its text).
pub fn results_error(e: impl std::fmt::Display) -> FerryError {
    let text = e.to_string();
    if text.contains("Broken pipe") {
        return FerryError::io(
            "writing results",
            std::io::Error::from(std::io::ErrorKind::BrokenPipe),
        );
    }
    FerryError::Other(format!("writing results: {text}"))
}

/// Writes `batches` to `out` in `format`; returns the number of rows.
/// `on_batch` sees each batch's row count (progress bars).
pub fn write<W: Write + Send>(
    format: Format,
    schema: SchemaRef,
    batches: impl Iterator<Item = RecordBatch>,
    out: W,
    mut on_batch: impl FnMut(usize),
) -> Result<u64> {
    let mut rows = 0u64;
    match format {
        Format::Table => {
            rows = crate::text_table::write(schema, batches, out, Default::default())?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            let mut any = false;
            for b in batches {
                any = true;
                rows += b.num_rows() as u64;
                w.write(&b).map_err(arrow_err)?;
                on_batch(b.num_rows());
            }
            if !any {
                w.write(&RecordBatch::new_empty(schema))
                    .map_err(arrow_err)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(out);
            for b in batches {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(arrow_err)?;
                on_batch(b.num_rows());
            }
            w.finish().map_err(arrow_err)?;
        }
        Format::Jsonl => {
            let mut w = arrow::json::LineDelimitedWriter::new(out);
            for b in batches {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(arrow_err)?;
                on_batch(b.num_rows());
            }
            w.finish().map_err(arrow_err)?;
        }
        Format::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .build();
            let mut w = parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))
                .map_err(arrow_err)?;
            for b in batches {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(arrow_err)?;
                on_batch(b.num_rows());
            }
            w.close().map_err(arrow_err)?;
        }
    }
    Ok(rows)
}

/// Rewrites `query` so nested columns (lists, structs, maps) become JSON
/// text: CSV has no nested types. Other formats keep them as they are.
pub fn flat_query(conn: &duckdb::Connection, query: &str) -> Result<String> {
    let mut stmt = conn.prepare(&format!("DESCRIBE {query}"))?;
    let cols: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    let nested: Vec<String> = cols
        .iter()
        .filter(|(_, t)| {
            t.ends_with(']')
                || t.starts_with("STRUCT")
                || t.starts_with("MAP")
                || t.starts_with("UNION")
        })
        .map(|(c, _)| {
            let q = c.replace('"', "\"\"");
            format!("to_json(\"{q}\")::VARCHAR AS \"{q}\"")
        })
        .collect();
    if nested.is_empty() {
        return Ok(query.to_string());
    }
    Ok(format!(
        "SELECT * REPLACE ({}) FROM ({query})",
        nested.join(", ")
    ))
}
