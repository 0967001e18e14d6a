//! `ferry archive`: exports of tables, queries or the built-in sets to
//! `exports/<name>/`, with a `manifest.json` and a `SHA256SUMS` file, and
//! the re-check of such an export.
//!
//! An export is written into a temp directory and renamed into place when
//! complete, so a failure (a full disk, a kill) never leaves a half export
//! under the final name and never touches an earlier one.

use std::io::Read;
use std::path::{Path, PathBuf};

use duckdb::Connection;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{FerryError, Result};
use crate::tabular::{self, Format};

/// One dataset of an export: a file made from one query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub file: String,
    pub query: String,
    pub rows: u64,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub format: String,
    pub created_at: String,
    pub ferry_version: String,
    pub datasets: Vec<Dataset>,
    /// Attachment files copied under `attachments/`, named by SHA-256.
    pub attachments: u64,
}

/// (dataset name, query) pairs of an export.
pub type Datasets = Vec<(String, String)>;

/// The `--set` names and the `ferry_accounting` bucket each exports.
pub const SETS: &[(&str, &str)] = &[("archive", "archived"), ("excluded", "excluded")];

/// The catalogue the sets read: which source table holds the full record
/// of an accounted object (the source's `seeds/archive_datasets.csv`,
/// loaded by `ferry transform`).
const CATALOGUE: &str = "archive_datasets";

/// A `--set`'s datasets, built from the route's own accounting rather than
/// from table names: every record `ferry_accounting` puts in the set's
/// bucket is exported whole from the table the catalogue names for its
/// object (with `ferry_reason`), so a set is complete on every route by
/// construction. `extra` are the route's `archive/<set>/<dataset>.sql`
/// files (records kept whole that sit in no bucket of their own, e.g.
/// trimmed custom object records). Returns the datasets and warnings for
/// objects the catalogue does not cover (exported as ids and reasons).
pub fn set_datasets(
    conn: &Connection,
    set: &str,
    extra: &std::collections::BTreeMap<String, String>,
) -> Result<(Datasets, Vec<String>)> {
    let bucket = SETS
        .iter()
        .find(|(n, _)| *n == set)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            FerryError::Other(format!("unknown set {set:?} (sets: archive, excluded)"))
        })?;
    let present: i64 = conn.query_row(
        "SELECT count(DISTINCT table_name) FROM information_schema.tables WHERE table_name IN ('ferry_accounting', ?)",
        [CATALOGUE],
        |r| r.get(0),
    )?;
    if present < 2 {
        return Err(FerryError::Other(format!(
            "--set {set} reads ferry_accounting and {CATALOGUE}, which `ferry transform` builds: run it first"
        )));
    }
    let mut stmt = conn.prepare(
        "SELECT object FROM ferry_accounting WHERE bucket = ? GROUP BY object ORDER BY object",
    )?;
    let objects = stmt
        .query_map([bucket], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT object, dataset, source_table, key_column FROM {CATALOGUE} ORDER BY object, dataset"
    ))?;
    let catalogue = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let (mut datasets, mut warnings) = (Vec::new(), Vec::new());
    for object in &objects {
        let literal = object.replace('\'', "''");
        let rows: Vec<_> = catalogue.iter().filter(|c| &c.0 == object).collect();
        if rows.is_empty() {
            warnings.push(format!(
                "{object}: no full record catalogued in {CATALOGUE} (seeds/archive_datasets.csv); exported as ids and reasons only"
            ));
            datasets.push((
                object.clone(),
                format!("SELECT object, source_id, bucket, target, reason AS ferry_reason FROM ferry_accounting WHERE object = '{literal}' AND bucket = '{bucket}' ORDER BY source_id"),
            ));
            continue;
        }
        for (_, dataset, table, key) in rows {
            for ident in [dataset, table, key] {
                check_identifier(ident)?;
            }
            if dataset == object {
                // A record accounted here but absent from its table would
                // vanish from the export without a word.
                let missing: i64 = conn.query_row(
                    &format!(
                        "SELECT count(*) FROM ferry_accounting WHERE object = '{literal}' AND bucket = '{bucket}' \
                         AND source_id NOT IN (SELECT CAST({key} AS VARCHAR) FROM {table})"
                    ),
                    [],
                    |r| r.get(0),
                )?;
                if missing > 0 {
                    warnings.push(format!(
                        "{object}: {missing} {bucket} records are not in {table}; their ids and reasons are in dataset {object}_unmatched"
                    ));
                    datasets.push((
                        format!("{object}_unmatched"),
                        format!("SELECT object, source_id, bucket, target, reason AS ferry_reason FROM ferry_accounting WHERE object = '{literal}' AND bucket = '{bucket}' AND source_id NOT IN (SELECT CAST({key} AS VARCHAR) FROM {table}) ORDER BY source_id"),
                    ));
                }
            }
            datasets.push((
                dataset.clone(),
                format!(
                    "SELECT s.*, a.ferry_reason FROM {table} s \
                     JOIN (SELECT source_id, min(reason) AS ferry_reason FROM ferry_accounting \
                           WHERE object = '{literal}' AND bucket = '{bucket}' GROUP BY source_id) a \
                     ON a.source_id = CAST(s.{key} AS VARCHAR) ORDER BY s.{key}"
                ),
            ));
        }
    }
    let prefix = format!("archive/{set}/");
    for (rel, sql) in extra {
        if let Some(name) = rel
            .strip_prefix(&prefix)
            .and_then(|f| f.strip_suffix(".sql"))
        {
            check_identifier(name)?;
            datasets.push((
                name.to_string(),
                sql.trim().trim_end_matches(';').to_string(),
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, _) in &datasets {
        if !seen.insert(name.clone()) {
            return Err(FerryError::Other(format!(
                "--set {set}: two datasets are named {name:?} ({CATALOGUE} and archive/{set}/ must name each once)"
            )));
        }
    }
    Ok((datasets, warnings))
}

/// A catalogue entry becomes SQL and a file name: letters, digits and `_`.
fn check_identifier(name: &str) -> Result<()> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(FerryError::Other(format!(
            "{CATALOGUE}: {name:?} is not a plain name (letters, digits and _ only)"
        )))
    }
}

/// An export name must stay one directory under `exports/`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(FerryError::Other(format!(
            "export name {name:?} is not allowed: use letters, digits, `-`, `_` and `.` (it becomes exports/<name>/)"
        )))
    }
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| FerryError::io(format!("reading {}", path.display()), e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .map_err(|e| FerryError::io(format!("reading {}", path.display()), e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Every file under `dir`, relative, sorted (SHA256SUMS itself excluded).
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                let rel = rel.to_string_lossy().to_string();
                if rel != "SHA256SUMS" {
                    out.push(rel);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs one query into a file; returns its dataset entry.
fn export_query(
    conn: &Connection,
    name: &str,
    query: &str,
    format: Format,
    dir: &Path,
    bar: &ProgressBar,
) -> Result<Dataset> {
    let file = format!("{name}.{}", format.extension());
    let flat;
    let query = if format == Format::Csv {
        flat = tabular::flat_query(conn, query)
            .map_err(|e| FerryError::Other(format!("archive {name}: {e}")))?;
        flat.as_str()
    } else {
        query
    };
    let mut stmt = conn.prepare(query).map_err(|e| {
        FerryError::Other(format!(
            "archive {name}: {}",
            crate::transform::duck_message(&e.to_string())
        ))
    })?;
    let arrow = stmt.query_arrow([])?;
    let schema = arrow.get_schema();
    let columns = schema
        .fields()
        .iter()
        .map(|f| Column {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
        })
        .collect();
    let path = dir.join(&file);
    crate::chaos::write_fault("archive.write").map_err(|e| {
        FerryError::io(
            format!(
                "writing {} (free disk space and rerun; earlier exports are untouched)",
                path.display()
            ),
            e,
        )
    })?;
    let out = std::fs::File::create(&path)
        .map_err(|e| FerryError::io(format!("creating {}", path.display()), e))?;
    bar.set_message(name.to_string());
    let mut w = std::io::BufWriter::new(out);
    let rows = tabular::write(format, schema, arrow, &mut w, |n| bar.inc(n as u64))?;
    let f = w
        .into_inner()
        .map_err(|e| FerryError::io(format!("writing {}", path.display()), e.into_error()))?;
    f.sync_all()
        .map_err(|e| FerryError::io(format!("writing {}", path.display()), e))?;
    Ok(Dataset {
        name: name.to_string(),
        file,
        query: query.to_string(),
        rows,
        columns,
    })
}

/// What to export.
pub struct ExportRequest {
    pub name: String,
    pub datasets: Vec<(String, String)>,
    pub format: Format,
    pub attachments: bool,
    pub replace: bool,
}

/// Writes an export; returns its directory and manifest.
pub fn export(
    conn: &Connection,
    workspace: &Path,
    req: &ExportRequest,
    progress: bool,
) -> Result<(PathBuf, Manifest)> {
    check_name(&req.name)?;
    if req.format == Format::Table {
        return Err(FerryError::Other(
            "archive formats are parquet, csv, jsonl and json".into(),
        ));
    }
    let exports = workspace.join("exports");
    let final_dir = exports.join(&req.name);
    if final_dir.exists() && !req.replace {
        return Err(FerryError::Other(format!(
            "{} exists; choose another --name or pass --replace",
            final_dir.display()
        )));
    }
    let tmp = exports.join(format!(".{}.tmp-{}", req.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)
        .map_err(|e| FerryError::io(format!("creating {}", tmp.display()), e))?;
    let res = (|| -> Result<Manifest> {
        let bar = if progress {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:>14} {human_pos} rows {per_sec}").unwrap(),
        );
        let mut datasets = Vec::new();
        for (name, query) in &req.datasets {
            // Published for `ferry status`/`ferry serve` (crate::live).
            crate::live::phase_open(name, 0);
            let d = export_query(conn, name, query, req.format, &tmp, &bar)?;
            crate::live::add(name, d.rows, 0, 0);
            crate::live::phase_done(name);
            datasets.push(d);
        }
        bar.finish_and_clear();
        let mut attachments = 0;
        if req.attachments {
            attachments = copy_attachments(conn, workspace, &tmp, &datasets)?;
        }
        let manifest = Manifest {
            name: req.name.clone(),
            format: format!("{:?}", req.format).to_lowercase(),
            created_at: chrono::Utc::now().to_rfc3339(),
            ferry_version: env!("CARGO_PKG_VERSION").into(),
            datasets,
            attachments,
        };
        crate::fsutil::write_atomic(
            &tmp.join("manifest.json"),
            &serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
        )?;
        let mut sums = String::new();
        for rel in files_under(&tmp) {
            let (sha, _) = sha256_file(&tmp.join(&rel))?;
            sums.push_str(&format!("{sha}  {rel}\n"));
        }
        crate::fsutil::write_atomic(&tmp.join("SHA256SUMS"), sums.as_bytes())?;
        Ok(manifest)
    })();
    match res {
        Ok(m) => {
            if final_dir.exists() {
                std::fs::remove_dir_all(&final_dir)
                    .map_err(|e| FerryError::io(format!("replacing {}", final_dir.display()), e))?;
            }
            std::fs::rename(&tmp, &final_dir)
                .map_err(|e| FerryError::io(format!("renaming into {}", final_dir.display()), e))?;
            Ok((final_dir, m))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// Copies the bytes of every attachment an exported dataset names by a
/// `sha256` column into `attachments/<sha256>` (content-addressed, so a
/// file name from the source can never escape the export directory).
fn copy_attachments(
    conn: &Connection,
    workspace: &Path,
    dir: &Path,
    datasets: &[Dataset],
) -> Result<u64> {
    let mut n = 0;
    for d in datasets {
        if !d.columns.iter().any(|c| c.name == "sha256") {
            continue;
        }
        let mut stmt = conn.prepare(&format!(
            "SELECT DISTINCT sha256 FROM ({}) WHERE sha256 IS NOT NULL",
            d.query
        ))?;
        let shas = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let out = dir.join("attachments");
        std::fs::create_dir_all(&out)
            .map_err(|e| FerryError::io(format!("creating {}", out.display()), e))?;
        for sha in shas {
            if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            let src = crate::land::attachment_path(workspace, &sha);
            if src.exists() {
                std::fs::copy(&src, out.join(&sha))
                    .map_err(|e| FerryError::io(format!("copying {}", src.display()), e))?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Re-checks an export: every checksum, every listed file present, no
/// unlisted file, and each dataset's row count read back by DuckDB.
/// Returns the problems found (empty: intact).
pub fn verify(dir: &Path) -> Result<Vec<String>> {
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path)
        .map_err(|e| FerryError::io(format!("reading {}", sums_path.display()), e))?;
    let mut problems = Vec::new();
    let mut listed = std::collections::BTreeSet::new();
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let Some((sha, rel)) = line.split_once("  ") else {
            problems.push(format!("SHA256SUMS: unreadable line {line:?}"));
            continue;
        };
        listed.insert(rel.to_string());
        let path = dir.join(rel);
        if rel.contains("..") || rel.starts_with('/') {
            problems.push(format!("{rel}: path leaves the export directory"));
            continue;
        }
        match sha256_file(&path) {
            Ok((got, _)) if got == sha => {}
            Ok((got, _)) => problems.push(format!(
                "{rel}: checksum differs (expected {sha}, found {got}): the file was modified"
            )),
            Err(_) => problems.push(format!("{rel}: listed in SHA256SUMS but missing")),
        }
    }
    for rel in files_under(dir) {
        if !listed.contains(&rel) {
            problems.push(format!("{rel}: not listed in SHA256SUMS"));
        }
    }
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json"))
            .map_err(|e| FerryError::io("reading manifest.json", e))?,
    )
    .map_err(|e| FerryError::Other(format!("manifest.json: {e}")))?;
    let conn = Connection::open_in_memory()?;
    for d in &manifest.datasets {
        let path = dir.join(&d.file);
        let p = path.to_string_lossy().replace('\'', "''");
        let reader = match manifest.format.as_str() {
            "parquet" => format!("read_parquet('{p}')"),
            "csv" => format!("read_csv('{p}', header = true)"),
            _ => format!("read_json_auto('{p}')"),
        };
        match conn.query_row(&format!("SELECT count(*) FROM {reader}"), [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(n) if n as u64 == d.rows => {}
            Ok(n) => problems.push(format!(
                "{}: {n} rows, the manifest says {}",
                d.file, d.rows
            )),
            // An empty CSV/JSON has no rows to infer a schema from.
            Err(_) if d.rows == 0 => {}
            Err(e) => problems.push(format!(
                "{}: unreadable ({})",
                d.file,
                crate::transform::duck_message(&e.to_string())
            )),
        }
    }
    Ok(problems)
}
