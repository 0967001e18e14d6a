//! The `raw_<source>_<object>` views: the latest version of every landed
//! record, deduplicated by id (newest `updated_at`, then newest extraction).
//!
//! Most ids are landed once. Only the ids landed more than once (found by a
//! narrow GROUP BY over the id column) go through the window that picks the
//! newest version; every other row streams straight through. A window over
//! all rows would sort every JSON document, which doubled the staging time
//! of a million messages and is memory the transform does not need.
//!
//! Views point at absolute paths, so they are re-created by every ferry
//! command; a workspace moved to another directory heals on the next run.

use std::path::Path;

use duckdb::Connection;

use crate::connector::Source;
use crate::error::Result;

/// Column list of every raw Parquet part (see `land::raw_schema`).
const EMPTY_RAW: &str = "SELECT NULL::VARCHAR AS id, NULL::TIMESTAMPTZ AS created_at, \
     NULL::TIMESTAMPTZ AS updated_at, NULL::TIMESTAMPTZ AS extracted_at, NULL::VARCHAR AS run_id, \
     NULL::VARCHAR AS origin, NULL::VARCHAR AS sha256, NULL::BIGINT AS size_bytes, \
     NULL::VARCHAR AS json WHERE false";

/// Creates or refreshes every raw view of the workspace's source.
pub fn ensure_raw_views(conn: &Connection, workspace: &Path, source: &dyn Source) -> Result<()> {
    ensure_object_views(conn, workspace, source.kind(), source.objects())
}

/// The raw views as TEMP views, for a connection that cannot write (the
/// read-only `ferry sql`): they shadow the stored ones, whose absolute
/// paths may name where the workspace was before it was copied or moved.
pub fn temp_raw_views(conn: &Connection, workspace: &Path, source: &dyn Source) -> Result<()> {
    let sql = object_views_sql(workspace, source.kind(), source.objects())
        .replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW");
    conn.execute_batch(&sql)?;
    Ok(())
}

/// Creates or refreshes the raw views of `objects` landed from `kind`,
/// and `ferry_extracted` (object, source_id): every record extracted,
/// which verify's funnel starts from.
pub fn ensure_object_views(
    conn: &Connection,
    workspace: &Path,
    kind: &str,
    objects: &[&str],
) -> Result<()> {
    conn.execute_batch(&object_views_sql(workspace, kind, objects))?;
    Ok(())
}

fn object_views_sql(workspace: &Path, kind: &str, objects: &[&str]) -> String {
    let mut sql = String::new();
    for object in objects {
        sql.push_str(&raw_view_sql(workspace, kind, object));
    }
    let union = objects
        .iter()
        .map(|o| format!("SELECT '{o}' AS object, id AS source_id FROM raw_{kind}_{o}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sql.push_str(&format!(
        "CREATE OR REPLACE VIEW ferry_extracted AS {union};\n"
    ));
    sql
}

/// The body of a raw view (`sql/engine/raw_view.sql`), `{parts}` to fill.
const RAW_VIEW: &str = include_str!("../sql/engine/raw_view.sql");

/// `CREATE OR REPLACE VIEW raw_<source>_<object>` for one object.
pub fn raw_view_sql(workspace: &Path, source: &str, object: &str) -> String {
    let dir = workspace.join("raw").join(source).join(object);
    let body = if has_parts(&dir) {
        let glob = dir.join("*.parquet").to_string_lossy().replace('\'', "''");
        let parts = format!("read_parquet('{glob}', union_by_name = true)");
        RAW_VIEW
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ")
            .replace("{parts}", &parts)
    } else {
        EMPTY_RAW.to_string()
    };
    format!("CREATE OR REPLACE VIEW raw_{source}_{object} AS {body};\n")
}

/// Whether `dir` holds at least one landed Parquet part.
pub fn has_parts(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
        })
        .unwrap_or(false)
}
