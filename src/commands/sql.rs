//! `ferry sql`: ad-hoc, read-only SQL against `ferry.duckdb`.

use std::io::Read;
use std::path::Path;

use arrow::record_batch::RecordBatch;
use duckdb::{AccessMode, Config, Connection};

use crate::cli::{OutputFormat, SqlAction, SqlArgs};

pub fn run(workspace: &Path, args: SqlArgs) -> anyhow::Result<i32> {
    if let Some(SqlAction::Eject) = args.action {
        let ws = crate::workspace::Workspace::open(workspace)?;
        let (dir, n) = crate::transform::scripts::eject(&ws.dir, &ws.config.route)?;
        println!("Wrote {n} files to {}; `ferry transform` now uses them (edit, then `ferry transform --plan`).", dir.display());
        return Ok(0);
    }
    let dir = crate::workspace::absolute(workspace)?;
    let db = dir.join(crate::workspace::DB_FILE);
    if !db.exists() {
        return Err(crate::error::FerryError::NoWorkspace { dir }.into());
    }
    let query = match args.query {
        Some(q) => q,
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    let conn =
        Connection::open_with_flags(&db, Config::default().access_mode(AccessMode::ReadOnly)?)
            .map_err(|e| anyhow::anyhow!("cannot open {} read-only: {e}", db.display()))?;
    let mut stmt = conn.prepare(&query).map_err(|e| anyhow::anyhow!("{e}"))?;
    let batches: Vec<RecordBatch> = stmt
        .query_arrow([])
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Table => {
            use std::io::Write;
            writeln!(
                out,
                "{}",
                arrow::util::pretty::pretty_format_batches(&batches)?
            )?;
        }
        OutputFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for b in &batches {
                w.write(b)?;
            }
        }
        OutputFormat::Json => {
            let mut w = arrow::json::ArrayWriter::new(out);
            for b in &batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(0)
}
