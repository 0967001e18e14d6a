//! Landing: raw records become Parquet parts, verbatim JSON plus typed key
//! columns. A part is written under a temp name, fsynced and renamed; only
//! then may the caller commit the stream's cursor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{FerryError, Result};
use crate::fsutil;

/// One record as landed.
#[derive(Debug, Clone)]
pub struct RawRecord {
    pub id: String,
    /// Milliseconds since the epoch.
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    /// How the record was reached: list, search, archive, catchup, delta, parent, download.
    pub origin: &'static str,
    /// For attachments: SHA-256 of the downloaded bytes.
    pub sha256: Option<String>,
    /// For attachments: size of the downloaded bytes.
    pub size_bytes: Option<i64>,
    /// The API's JSON for this record, verbatim.
    pub json: String,
}

/// A part that is durable on disk.
#[derive(Debug, Clone)]
pub struct PartInfo {
    /// Path relative to the workspace.
    pub rel_path: String,
    pub records: usize,
    pub bytes: u64,
}

/// The Arrow schema every raw part shares.
pub fn raw_schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("created_at", ts.clone(), true),
        Field::new("updated_at", ts.clone(), true),
        Field::new("extracted_at", ts, false),
        Field::new("run_id", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, true),
        Field::new("size_bytes", DataType::Int64, true),
        Field::new("json", DataType::Utf8, false),
    ]))
}

/// Writes `records` as one Parquet part in `dir` and returns it once it is
/// durable. `seq` makes the name unique within the run.
pub fn write_part(
    workspace: &Path,
    dir: &Path,
    run_id: &str,
    seq: u64,
    records: &[RawRecord],
) -> Result<PartInfo> {
    write_part_named(
        workspace,
        dir,
        run_id,
        &format!("part-{run_id}-{seq:06}"),
        records,
    )
}

/// [`write_part`] under a file name (without `.parquet`) of the caller's.
pub fn write_part_named(
    workspace: &Path,
    dir: &Path,
    run_id: &str,
    name: &str,
    records: &[RawRecord],
) -> Result<PartInfo> {
    std::fs::create_dir_all(dir)
        .map_err(|e| FerryError::io(format!("creating {}", dir.display()), e))?;
    let path = dir.join(format!("{name}.parquet"));
    let tmp = fsutil::tmp_path(&path);
    let batch = to_batch(run_id, records)?;
    let res = write_file(&tmp, &batch);
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    crate::chaos::crash_point("land.tmp_written");
    fsutil::commit_tmp(&tmp, &path)?;
    crate::chaos::crash_point("land.renamed");
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let rel_path = relative(workspace, &path);
    Ok(PartInfo {
        rel_path,
        records: records.len(),
        bytes,
    })
}

fn write_file(tmp: &Path, batch: &RecordBatch) -> Result<()> {
    crate::chaos::write_fault("land.write").map_err(|e| {
        FerryError::io(
            format!(
                "writing {} (free disk space, then rerun: every part landed before is kept)",
                tmp.display()
            ),
            e,
        )
    })?;
    let file = std::fs::File::create(tmp)
        .map_err(|e| FerryError::io(format!("creating {}", tmp.display()), e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(batch)?;
    let file = writer.into_inner()?;
    file.sync_all()
        .map_err(|e| FerryError::io(format!("syncing {}", tmp.display()), e))?;
    Ok(())
}

fn to_batch(run_id: &str, records: &[RawRecord]) -> Result<RecordBatch> {
    let now = chrono::Utc::now().timestamp_millis();
    let n = records.len();
    let json_bytes: usize = records.iter().map(|r| r.json.len()).sum();
    let mut id = StringBuilder::with_capacity(n, n * 24);
    let mut created = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut updated = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut extracted = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut run = StringBuilder::with_capacity(n, n * run_id.len());
    let mut origin = StringBuilder::with_capacity(n, n * 6);
    let mut sha = StringBuilder::new();
    let mut size = Int64Builder::with_capacity(n);
    let mut json = StringBuilder::with_capacity(n, json_bytes);
    for r in records {
        id.append_value(&r.id);
        created.append_option(r.created_at);
        updated.append_option(r.updated_at);
        extracted.append_value(now);
        run.append_value(run_id);
        origin.append_value(r.origin);
        sha.append_option(r.sha256.as_deref());
        size.append_option(r.size_bytes);
        json.append_value(&r.json);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(created.finish()),
        Arc::new(updated.finish()),
        Arc::new(extracted.finish()),
        Arc::new(run.finish()),
        Arc::new(origin.finish()),
        Arc::new(sha.finish()),
        Arc::new(size.finish()),
        Arc::new(json.finish()),
    ];
    Ok(RecordBatch::try_new(raw_schema(), cols)?)
}

/// `path` relative to `workspace` (falls back to the full path).
pub fn relative(workspace: &Path, path: &Path) -> String {
    path.strip_prefix(workspace)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Where attachment bytes go: `attachments/<sha256>`.
pub fn attachment_path(workspace: &Path, sha256: &str) -> PathBuf {
    workspace.join("attachments").join(sha256)
}
