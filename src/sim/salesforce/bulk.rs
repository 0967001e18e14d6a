//! Bulk API 2.0 ingest jobs (`salesforce-api.md` §5, confirmed against
//! the Bulk API 2.0 guide: create → PUT CSV → PATCH `UploadComplete` →
//! `InProgress` → `JobComplete`/`Failed`, results as CSV keyed by the
//! uploaded columns, never by row position). Processing is asynchronous:
//! a job stays `UploadComplete`, then `InProgress`, for a while after
//! the close, and the result rows come back in an order of their own.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::store::{SfError, Store, Upserted};

/// Records Salesforce processes per internal batch (counted against the
/// daily batch allocation).
pub const RECORDS_PER_BATCH: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub object: String,
    pub operation: String,
    pub external_id: Option<String>,
    pub state: String,
    pub line_ending: String,
    pub delimiter: u8,
    pub created: String,
    pub modstamp: String,
    pub created_by: String,
    pub version: String,
    /// Uploaded CSV parts, in order.
    pub uploads: Vec<Vec<u8>>,
    pub processed: usize,
    pub failed: usize,
    pub error_message: Option<String>,
    /// (sf__Id, sf__Created, original row) of each success.
    pub successes: Vec<(String, bool, Vec<String>)>,
    /// (sf__Id, sf__Error, original row) of each failure.
    pub failures: Vec<(String, String, Vec<String>)>,
    pub header: Vec<String>,
    /// Rows never processed (a Failed or Aborted job).
    pub unprocessed: Vec<Vec<String>>,
}

impl Job {
    pub fn info(&self) -> Value {
        json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp,
            "state": self.state,
            "externalIdFieldName": self.external_id,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": self.version.parse::<f64>().unwrap_or(62.0),
            "jobType": "V2Ingest",
            "contentUrl": format!("services/data/v{}/jobs/ingest/{}/batches", self.version, self.id),
            "lineEnding": self.line_ending,
            "columnDelimiter": delimiter_name(self.delimiter),
            "numberRecordsProcessed": self.processed,
            "numberRecordsFailed": self.failed,
            "retries": 0,
            "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0,
            "apexProcessingTime": 0,
            "errorMessage": self.error_message,
        })
    }
}

pub fn delimiter_byte(name: &str) -> Option<u8> {
    Some(match name {
        "COMMA" => b',',
        "TAB" => b'\t',
        "PIPE" => b'|',
        "SEMICOLON" => b';',
        "CARET" => b'^',
        "BACKQUOTE" => b'`',
        _ => return None,
    })
}

fn delimiter_name(b: u8) -> &'static str {
    match b {
        b'\t' => "TAB",
        b'|' => "PIPE",
        b';' => "SEMICOLON",
        b'^' => "CARET",
        b'`' => "BACKQUOTE",
        _ => "COMMA",
    }
}

/// Parses the job's CSV: header and rows, or why the whole job fails.
fn read_csv(job: &Job) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for part in &job.uploads {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(job.delimiter)
            .has_headers(true)
            .from_reader(part.as_slice());
        let h: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("InvalidBatch : Failed to parse CSV header: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        match &header {
            Some(prev) if *prev != h => {
                return Err("InvalidBatch : the CSV parts of a job must share one header".into())
            }
            _ => header = Some(h),
        }
        for r in rdr.records() {
            let r = r.map_err(|e| format!("InvalidBatch : Failed to parse CSV: {e}"))?;
            rows.push(r.iter().map(str::to_string).collect());
        }
    }
    Ok((header.unwrap_or_default(), rows))
}

/// One CSV row as a record body: empty cells are absent (Bulk leaves a
/// field alone for an empty cell; `#N/A` sets it null), relationship
/// columns (`Account.Kustomer_Id__c`) become relationship objects.
fn row_body(header: &[String], row: &[String]) -> Map<String, Value> {
    let mut body = Map::new();
    for (h, v) in header.iter().zip(row) {
        if v.is_empty() {
            continue;
        }
        let val = if v == "#N/A" { Value::Null } else { json!(v) };
        match h.split_once('.') {
            Some((rel, field)) => {
                body.insert(rel.to_string(), json!({ field: val }));
            }
            None => {
                body.insert(h.clone(), val);
            }
        }
    }
    body
}

/// Bulk sends every value as text: booleans and numbers are converted
/// where the field wants them.
fn typed(store: &Store, object: &str, body: Map<String, Value>) -> Map<String, Value> {
    use super::schema::FieldType;
    let Some(obj) = store.object(object) else {
        return body;
    };
    body.into_iter()
        .map(|(k, v)| {
            let kind = obj.field(&k).map(|f| f.kind);
            let v = match (kind, v.as_str()) {
                (Some(FieldType::Boolean), Some(s)) => match s.to_ascii_lowercase().as_str() {
                    "true" | "1" => json!(true),
                    "false" | "0" => json!(false),
                    _ => v,
                },
                (Some(FieldType::Int), Some(s)) => s.parse::<i64>().map(|n| json!(n)).unwrap_or(v),
                // A Number column ("266.0", "8229.67"), as Bulk API 2.0
                // reads it for a Number field.
                (Some(FieldType::Double), Some(s)) if !s.is_empty() => {
                    s.parse::<f64>().map(|n| json!(n)).unwrap_or(v)
                }
                _ => v,
            };
            (k, v)
        })
        .collect()
}

/// Processes a closed job against the store: every row inserted,
/// updated, upserted or deleted, each success or failure recorded with
/// its row.
pub fn process(store: &mut Store, job: &mut Job, field_limit: usize) {
    let (header, rows) = match read_csv(job) {
        Ok(x) => x,
        Err(e) => {
            job.state = "Failed".into();
            job.error_message = Some(e);
            return;
        }
    };
    if job.operation == "upsert" {
        let ext = job.external_id.clone().unwrap_or_default();
        if !header.iter().any(|h| h.eq_ignore_ascii_case(&ext)) {
            job.state = "Failed".into();
            job.error_message = Some(format!("InvalidBatch : Field name not found : {ext}"));
            job.unprocessed = rows;
            job.header = header;
            return;
        }
    }
    for row in &rows {
        let too_long = row.iter().any(|c| c.chars().count() > field_limit);
        let body = typed(store, &job.object, row_body(&header, row));
        let result: Result<(String, bool), Vec<SfError>> = if too_long {
            Err(vec![SfError::new(
                "STRING_TOO_LONG",
                format!("a field value is over Bulk API 2.0's {field_limit} characters"),
                &[],
            )])
        } else {
            match job.operation.as_str() {
                "insert" => store.insert(&job.object, &body).map(|id| (id, true)),
                "update" => match body.get("Id").and_then(Value::as_str).map(str::to_string) {
                    Some(id) => store.update(&job.object, &id, &body).map(|_| (id, false)),
                    None => Err(vec![SfError::new(
                        "MISSING_ARGUMENT",
                        "Id not specified in an update call",
                        &["Id"],
                    )]),
                },
                "upsert" => {
                    let ext = job.external_id.clone().unwrap_or_default();
                    let key = body
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&ext))
                        .and_then(|(_, v)| v.as_str())
                        .unwrap_or("")
                        .to_string();
                    store
                        .upsert(&job.object, &ext, &key, &body)
                        .map(|(id, u)| (id, u == Upserted::Created))
                }
                "delete" | "hardDelete" => {
                    match body.get("Id").and_then(Value::as_str).map(str::to_string) {
                        Some(id) => store.delete(&job.object, &id).map(|_| (id, false)),
                        None => Err(vec![SfError::new(
                            "MISSING_ARGUMENT",
                            "Id not specified in a delete call",
                            &["Id"],
                        )]),
                    }
                }
                other => Err(vec![SfError::new(
                    "INVALID_OPERATION",
                    format!("unsupported operation {other}"),
                    &[],
                )]),
            }
        };
        job.processed += 1;
        match result {
            Ok((id, created)) => job.successes.push((id, created, row.clone())),
            Err(errs) => {
                job.failed += 1;
                let id = body
                    .get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let msg = errs.iter().map(SfError::bulk).collect::<Vec<_>>().join(";");
                job.failures.push((id, msg, row.clone()));
            }
        }
    }
    // The results come back in an order of their own, as the guide warns:
    // clients must key them by a column, never by position.
    job.successes.reverse();
    job.header = header;
    job.state = "JobComplete".into();
}

/// A results CSV: the two `sf__` columns, then the uploaded ones.
pub fn results_csv(
    first: &[&str],
    header: &[String],
    rows: &[(String, String, Vec<String>)],
) -> String {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    let mut h: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    h.extend(header.iter().cloned());
    let _ = w.write_record(&h);
    for (a, b, row) in rows {
        let mut r = vec![a.clone(), b.clone()];
        r.extend(row.iter().cloned());
        let _ = w.write_record(&r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Unprocessed rows: the uploaded columns only.
pub fn unprocessed_csv(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Jobs by id.
pub type Jobs = BTreeMap<String, Job>;
