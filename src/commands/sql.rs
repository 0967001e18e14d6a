//! `ferry sql`: ad-hoc SQL against `ferry.duckdb`, read-only unless
//! `--write`; results as a table, CSV, JSON, JSON Lines or Parquet, to
//! stdout or a file.

use std::io::{IsTerminal, Read};
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
    let interactive = args.query.is_none() && args.file.is_none() && std::io::stdin().is_terminal();
    let query = match (&args.query, &args.file) {
        (Some(q), _) => q.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
        (None, None) if interactive => String::new(),
        (None, None) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
    };
    if query.trim().is_empty() && !interactive {
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
        // The stored raw views name absolute paths; on a copied or moved
        // workspace they would read the old place (or nothing).
        if let Ok(config) = crate::config::Config::load(&dir) {
            crate::views::temp_raw_views(&conn, &dir, config.source.as_ref())?;
        }
        (None, conn)
    };
    if interactive {
        return prompt(&conn, &args);
    }
    run_query(&conn, &query, &args)?;
    Ok(0)
}

/// `ferry sql` on a terminal without a query: statements read at a
/// prompt until `;`, each result as a bounded table, until `.quit` or
/// end of input. (The DuckDB CLI works on the file too: `duckdb
/// -readonly ferry.duckdb`.)
fn prompt(conn: &Connection, args: &SqlArgs) -> anyhow::Result<i32> {
    use std::io::{BufRead, Write};
    eprintln!(
        "ferry sql: statements end with `;`, `.quit` (or Ctrl-D) leaves; tables show {} rows (--max-rows). \
         The DuckDB CLI reads the same file: duckdb -readonly ferry.duckdb",
        args.max_rows
    );
    let stdin = std::io::stdin();
    let mut pending = String::new();
    loop {
        eprint!(
            "{}",
            if pending.is_empty() {
                "ferry> "
            } else {
                "  ...> "
            }
        );
        std::io::stderr().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            eprintln!();
            return Ok(0);
        }
        if pending.is_empty() && matches!(line.trim(), ".quit" | ".exit" | "quit" | "exit") {
            return Ok(0);
        }
        pending.push_str(&line);
        if !pending.trim_end().ends_with(';') {
            continue;
        }
        let query = std::mem::take(&mut pending);
        if let Err(e) = run_query(conn, &query, args) {
            eprintln!("error: {e:#}");
        }
    }
}

/// Runs a script; prints or writes its last statement's result.
fn run_query(conn: &Connection, query: &str, args: &SqlArgs) -> anyhow::Result<()> {
    // Several statements: all but the last run for effect (SET, CREATE
    // TEMP VIEW …); the last one's result is printed.
    let statements = split_last(query);
    if let Some(setup) = statements.0 {
        conn.execute_batch(setup).map_err(|e| sql_error(&e))?;
    }
    let last = if args.format == Format::Csv {
        tabular::flat_query(conn, statements.1).map_err(|e| anyhow::anyhow!("SQL error: {e}"))?
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
        None if args.format == Format::Table => {
            let limits = crate::text_table::Limits {
                max_rows: args.max_rows,
                max_width: args.max_width,
            };
            crate::text_table::write(schema, arrow, std::io::stdout().lock(), limits)?;
        }
        None => {
            tabular::write(args.format, schema, arrow, std::io::stdout(), |_| {})?;
        }
    }
    Ok(())
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
