//! Bulk API 2.0 ingest jobs (Bulk API 2.0 guide; confirmed there: create
//! `POST {data}/jobs/ingest`, upload `PUT …/{id}/batches` as `text/csv`,
//! close with `PATCH {"state":"UploadComplete"}` — processing never starts
//! without it — poll `GET …/{id}` through `UploadComplete → InProgress →
//! JobComplete | Failed | Aborted`, then `successfulResults/` (`sf__Id`,
//! `sf__Created`, the uploaded columns), `failedResults/` (`sf__Id`,
//! `sf__Error`, …) and `unprocessedrecords/`. Result rows are not in
//! upload order: they are keyed by the external-id column here.)

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::limits::Budget;
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};

/// One upload's limit (150 MB documented; Salesforce advises 100 MB of
/// raw CSV to leave room for its own encoding).
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// What a finished job did, keyed by the key column's value.
#[derive(Debug, Default)]
pub struct JobResult {
    pub job_id: String,
    pub state: String,
    /// key → (record id, created).
    pub ok: HashMap<String, (String, bool)>,
    /// key → `sf__Error` (`CODE:message:fields --`).
    pub failed: HashMap<String, String>,
    /// Keys never processed (a Failed or Aborted job).
    pub unprocessed: Vec<String>,
    /// The job's own `errorMessage`, when it failed as a whole.
    pub error: Option<String>,
    /// Requests the job took (create, upload, close, polls, results).
    pub requests: u64,
}

/// A job's rows as CSV: `header` then `rows`, every cell quoted where
/// needed; an empty cell leaves a field alone, as Bulk reads it.
pub fn csv(header: &[String], rows: &[Vec<String>]) -> Result<String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let err = |e: csv::Error| FerryError::Other(format!("writing Bulk CSV: {e}"));
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.write_record(r).map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| FerryError::Other(format!("writing Bulk CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| FerryError::Other(format!("Bulk CSV: {e}")))
}

/// What a job does.
#[derive(Debug, Clone, Copy)]
pub struct Ingest<'a> {
    pub object: &'a str,
    /// `insert`, `upsert`, `update`, `delete`.
    pub operation: &'a str,
    /// The external-id field of an upsert.
    pub ext_field: Option<&'a str>,
    /// The column results are keyed by.
    pub key: &'a str,
}

/// Runs one ingest job over `header`/`rows` and reads its results, keyed
/// by the `key` column (the external id of an upsert).
pub async fn run(
    client: &ApiClient,
    data_path: &str,
    ingest: Ingest<'_>,
    header: &[String],
    rows: &[Vec<String>],
    budget: Option<&Budget>,
) -> Result<JobResult> {
    let Ingest {
        object,
        operation,
        ext_field,
        key,
    } = ingest;
    let body = csv(header, rows)?;
    if body.len() > MAX_UPLOAD_BYTES {
        return Err(FerryError::Other(format!(
            "a Bulk upload of {} MB is over the {} MB ferry keeps to: use fewer rows per job",
            body.len() / (1024 * 1024),
            MAX_UPLOAD_BYTES / (1024 * 1024)
        )));
    }
    let mut job = json!({"object": object, "operation": operation, "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"});
    if let Some(ext) = ext_field {
        job["externalIdFieldName"] = json!(ext);
    }
    let base = format!("{data_path}/jobs/ingest");
    let info = client
        .fetch_parsed(Method::POST, &base, Some(&job), Lane::Standard, json_of)
        .await?;
    let id = info["id"]
        .as_str()
        .ok_or_else(|| FerryError::Other(format!("Bulk job created without an id: {info}")))?
        .to_string();
    let mut out = JobResult {
        job_id: id.clone(),
        requests: 1,
        ..Default::default()
    };
    client
        .send(
            Method::PUT,
            &format!("{base}/{id}/batches"),
            Some(Payload::Bytes(body.as_bytes(), "text/csv")),
            Lane::Standard,
        )
        .await?;
    let close = json!({"state": "UploadComplete"});
    client
        .send(
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(Payload::Json(&close)),
            Lane::Standard,
        )
        .await?;
    out.requests += 2;
    // Poll, backing off from 0.5 s to 5 s: each poll is an API request.
    let mut wait = Duration::from_millis(500);
    let info = loop {
        tokio::time::sleep(wait).await;
        let r = client
            .send(Method::GET, &format!("{base}/{id}"), None, Lane::Standard)
            .await?;
        if let Some(b) = budget {
            b.observe(&r.headers);
        }
        let info = json_of(&r.body).map_err(FerryError::Other)?;
        out.requests += 1;
        match info["state"].as_str() {
            Some("JobComplete" | "Failed" | "Aborted") => break info,
            _ => wait = (wait * 3 / 2).min(Duration::from_secs(5)),
        }
    };
    out.state = info["state"].as_str().unwrap_or("").to_string();
    out.error = info["errorMessage"].as_str().map(str::to_string);
    let table = |which: &'static str| {
        let path = format!("{base}/{id}/{which}/");
        async move {
            let r = client
                .send(Method::GET, &path, None, Lane::Standard)
                .await?;
            read_csv(&r.body)
        }
    };
    let (h, ok) = table("successfulResults").await?;
    let col = column(&h, key);
    let (sid, created) = (column(&h, "sf__Id"), column(&h, "sf__Created"));
    for r in &ok {
        if let (Some(k), Some(i)) = (col.and_then(|c| r.get(c)), sid.and_then(|c| r.get(c))) {
            let c = created.and_then(|c| r.get(c)).is_some_and(|v| v == "true");
            out.ok.insert(k.clone(), (i.clone(), c));
        }
    }
    let (h, bad) = table("failedResults").await?;
    let (col, err) = (column(&h, key), column(&h, "sf__Error"));
    for r in &bad {
        if let Some(k) = col.and_then(|c| r.get(c)) {
            let e = err.and_then(|c| r.get(c)).cloned().unwrap_or_default();
            out.failed.insert(k.clone(), e);
        }
    }
    out.requests += 2;
    if out.state != "JobComplete" {
        let (h, rest) = table("unprocessedrecords").await?;
        out.requests += 1;
        let col = column(&h, key);
        out.unprocessed = rest
            .iter()
            .filter_map(|r| col.and_then(|c| r.get(c)).cloned())
            .collect();
    }
    Ok(out)
}

fn json_of(b: &[u8]) -> std::result::Result<Value, String> {
    serde_json::from_slice(b).map_err(|e| format!("not JSON: {e}"))
}

fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// A results CSV as header and rows.
fn read_csv(body: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::ReaderBuilder::new().from_reader(body);
    let err = |e: csv::Error| FerryError::Other(format!("reading Bulk results: {e}"));
    let header = r
        .headers()
        .map_err(err)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(err)?.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}
