//! Seeds: CSV lookup tables users edit instead of Rust (status map, priority
//! map, channel → via, agent and team → group maps, settings).

use std::path::Path;

use duckdb::Connection;

use super::scripts::Seed;
use crate::error::{FerryError, Result};

/// Loads every seed as a table named after its file, all columns VARCHAR so
/// a mapping value is never re-typed behind the user's back.
pub fn load(conn: &Connection, workspace: &Path, seeds: &[Seed]) -> Result<()> {
    let tmp_dir = workspace.join(".ferry-tmp");
    std::fs::create_dir_all(&tmp_dir).map_err(|e| FerryError::io("creating .ferry-tmp", e))?;
    for seed in seeds {
        if !seed
            .table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(FerryError::Other(format!(
                "seed {}: table names may only use a-z, 0-9 and _",
                seed.file
            )));
        }
        validate(seed)?;
        let path = tmp_dir.join(format!("{}.csv", seed.table));
        std::fs::write(&path, &seed.csv)
            .map_err(|e| FerryError::io(format!("writing {}", path.display()), e))?;
        let from = seed.shown_path.as_deref().unwrap_or(&seed.file);
        let sql = format!(
            "CREATE OR REPLACE TABLE {t} AS SELECT * FROM read_csv('{}', header = true, all_varchar = true, delim = ',');
             COMMENT ON TABLE {t} IS 'seed: the lookup table {}, loaded by ferry transform';",
            path.to_string_lossy().replace('\'', "''"),
            from.replace('\'', "''"),
            t = seed.table,
        );
        conn.execute_batch(&sql)
            .map_err(|e| FerryError::Other(format!("seed {}: {e}", seed.file)))?;
    }
    let _ = std::fs::remove_dir_all(&tmp_dir);
    Ok(())
}

/// Checks a seed before DuckDB reads it, so a slip in an edited copy is
/// named by its file and line instead of surfacing as a binder error in
/// whichever script reads the table: a header with an empty or renamed
/// column (the SQL reads the built-in file's column names), a row whose
/// field count differs from the header's (an unquoted comma), bad quoting.
pub fn validate(seed: &Seed) -> Result<()> {
    let at = |line: u64, what: String| {
        FerryError::Other(format!(
            "seed {} line {line}: {what}",
            seed.shown_path.as_deref().unwrap_or(&seed.file)
        ))
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(seed.csv.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| at(1, format!("the header cannot be read: {e}")))?
        .clone();
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(at(
            1,
            format!("an empty column name in the header `{}`", names.join(",")),
        ));
    }
    if let Some(want) = &seed.builtin_header {
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        if names != want {
            return Err(at(
                1,
                format!(
                    "the header is `{}`, but the route's SQL reads `{}` (the built-in file's columns): keep those names",
                    names.join(","),
                    want.join(",")
                ),
            ));
        }
    }
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at(line, format!("{e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != names.len() {
            return Err(at(
                line,
                format!(
                    "{} fields, the header has {} ({}): quote a value that contains a comma",
                    rec.len(),
                    names.len(),
                    names.join(",")
                ),
            ));
        }
    }
    Ok(())
}
