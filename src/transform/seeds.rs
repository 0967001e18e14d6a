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
        let path = tmp_dir.join(format!("{}.csv", seed.table));
        std::fs::write(&path, &seed.csv)
            .map_err(|e| FerryError::io(format!("writing {}", path.display()), e))?;
        let sql = format!(
            "CREATE OR REPLACE TABLE {} AS SELECT * FROM read_csv('{}', header = true, all_varchar = true, delim = ',')",
            seed.table,
            path.to_string_lossy().replace('\'', "''")
        );
        conn.execute_batch(&sql)
            .map_err(|e| FerryError::Other(format!("seed {}: {e}", seed.file)))?;
    }
    let _ = std::fs::remove_dir_all(&tmp_dir);
    Ok(())
}
