//! Tables an earlier ferry built under another name. When the SQL moved
//! into layers (one file per model, `int_` for intermediate tables, one
//! `out_<destination>_` spelling), these tables were renamed; a workspace
//! transformed before keeps the old copies, and a user's query of an old
//! name would read stale rows without any error. Once the new table
//! exists, the old one is dropped and the rename is said out loud.

use duckdb::Connection;

use crate::error::Result;

/// (old name, new name), from `sql/engine/renamed_tables.csv`: data, so
/// the engine names no destination.
fn renamed() -> Result<Vec<(String, String)>> {
    let csv = crate::transform::scripts::engine_file("engine/renamed_tables.csv")?;
    Ok(csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(o, n)| (o.trim().to_string(), n.trim().to_string()))
        .collect())
}

/// Drops each old table whose new one exists; returns (old, new) of
/// those dropped.
pub fn drop_stale(conn: &Connection) -> Result<Vec<(String, String)>> {
    let tables: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let mut dropped = Vec::new();
    for (old, new) in renamed()? {
        if tables.contains(&old) && tables.contains(&new) {
            conn.execute_batch(&format!("DROP TABLE {old}"))?;
            dropped.push((old, new));
        }
    }
    Ok(dropped)
}
