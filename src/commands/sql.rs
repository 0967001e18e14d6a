//! `ferry sql`: ad-hoc SQL against `ferry.duckdb`, read-only unless
//! `--write`; results as a table, CSV, JSON, JSON Lines or Parquet, to
//! stdout or a file.

use std::io::Read;
use std::path::Path;

use duckdb::{AccessMode, Config, Connection};

use crate::cli::{SqlAction, SqlArgs};
use crate::tabular::{self, Format};

pub fn run(workspace: &Path, args: SqlArgs) -> anyhow::Result<i32> {
    if let Some(SqlAction::Eject { files }) = &args.action {
        let ws = crate::workspace::Workspace::open(workspace)?;
        let (dir, written, kept) =
            crate::transform::scripts::eject(&ws.dir, ws.config.route_def, files)?;
        println!(
            "Wrote {} files to {}; ferry now uses them instead of the built-in ones (edit, then `ferry transform --plan`).",
            written.len(),
            dir.display()
        );
        if !kept.is_empty() {
            println!(
                "Kept {} existing copies untouched: {}",
                kept.len(),
                kept.join(", ")
            );
        }
        return Ok(0);
    }
    let query = match (&args.query, &args.file) {
        (Some(q), _) => q.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
        (None, None) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    if query.trim().is_empty() {
        anyhow::bail!("no query: pass it as an argument, with -f FILE, or on stdin");
    }
    if args.format == Format::Parquet && args.output.is_none() {
        anyhow::bail!("--format parquet writes a binary file: add -o FILE.parquet");
    }
    // --write takes the workspace lock like any writing command.
    let (_ws, conn) = if args.write {
        let ws = crate::workspace::Workspace::open(workspace)?;
        let conn = ws.connect()?;
        (Some(ws), conn)
    } else {
        let dir = crate::workspace::absolute(workspace)?;
        let db = dir.join(crate::workspace::DB_FILE);
        if !db.exists() {
            return Err(crate::error::FerryError::NoWorkspace { dir }.into());
        }
        let conn =
            Connection::open_with_flags(&db, Config::default().access_mode(AccessMode::ReadOnly)?)
                .map_err(|e| {
                    anyhow::anyhow!(
                "cannot open {} read-only: {e} (is a ferry command writing to it right now?)",
                db.display()
            )
                })?;
        (None, conn)
    };
    // Several statements: all but the last run for effect (SET, CREATE
    // TEMP VIEW …); the last one's result is printed.
    let statements = split_last(&query);
    if let Some(setup) = statements.0 {
        conn.execute_batch(setup).map_err(|e| sql_error(&e))?;
    }
    let last = if args.format == Format::Csv {
        tabular::flat_query(&conn, statements.1).map_err(|e| anyhow::anyhow!("SQL error: {e}"))?
    } else {
        statements.1.to_string()
    };
    let mut stmt = conn.prepare(&last).map_err(|e| sql_error(&e))?;
    let arrow = stmt.query_arrow([]).map_err(|e| sql_error(&e))?;
    let schema = arrow.get_schema();
    match &args.output {
        Some(path) => {
            let tmp = crate::fsutil::tmp_path(path);
            let file = std::fs::File::create(&tmp)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", tmp.display()))?;
            let rows = tabular::write(
                args.format,
                schema,
                arrow,
                std::io::BufWriter::new(file),
                |_| {},
            );
            match rows {
                Ok(n) => {
                    crate::fsutil::commit_tmp(&tmp, path)?;
                    eprintln!("{n} rows written to {}", path.display());
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e.into());
                }
            }
        }
        None => {
            tabular::write(args.format, schema, arrow, std::io::stdout(), |_| {})?;
        }
    }
    Ok(0)
}

/// DuckDB's message, which carries the position (`LINE n: … ^`).
fn sql_error(e: &duckdb::Error) -> anyhow::Error {
    anyhow::anyhow!("SQL error: {e}")
}

/// Splits a script into (everything before the last statement, the last
/// statement). Semicolons inside quotes do not split.
fn split_last(sql: &str) -> (Option<&str>, &str) {
    let trimmed = sql.trim().trim_end_matches(';').trim_end();
    let (mut in_single, mut in_double) = (false, false);
    let mut last = None;
    for (i, c) in trimmed.char_indices() {
        match c {
            '\'' if !in_double => in_single = !in_single,
            '"' if !in_single => in_double = !in_double,
            ';' if !in_single && !in_double => last = Some(i),
            _ => {}
        }
    }
    match last {
        Some(i) => (Some(&trimmed[..=i]), trimmed[i + 1..].trim()),
        None => (None, trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::split_last;

    #[test]
    fn last_statement_is_split_off_outside_quotes() {
        assert_eq!(split_last("SELECT 1;"), (None, "SELECT 1"));
        assert_eq!(
            split_last("SET x = 1; SELECT ';' AS s;"),
            (Some("SET x = 1;"), "SELECT ';' AS s")
        );
    }
}
