//! sObject Collections (REST API guide, "sObject Collections"; confirmed
//! there: at most 200 records a request, results in request order, HTTP
//! 200 even when records fail with `allOrNone=false`). Upserts go to
//! `PATCH {data}/composite/sobjects/{Object}/{ExternalIdField}` (v46.0+),
//! one object type per request; each result says whether it `created`.

use reqwest::Method;
use serde_json::{json, Value};

use super::limits::Budget;
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};

/// Records per Collections request.
pub const MAX_RECORDS: usize = 200;

/// One record's outcome: `(id, created)` or the errors' `CODE: message`.
pub type Outcome = std::result::Result<(String, bool), String>;

/// Upserts `records` (JSON objects carrying `ext_field`) as `object`.
pub async fn upsert(
    client: &ApiClient,
    data_path: &str,
    object: &str,
    ext_field: &str,
    records: &[Value],
    budget: Option<&Budget>,
) -> Result<Vec<Outcome>> {
    let path = format!("{data_path}/composite/sobjects/{object}/{ext_field}");
    with_lock_retries(client, Method::PATCH, &path, object, records, budget).await
}

/// Creates `records` as `object` (POST `{data}/composite/sobjects`): for
/// objects without an external id.
pub async fn insert(
    client: &ApiClient,
    data_path: &str,
    object: &str,
    records: &[Value],
    budget: Option<&Budget>,
) -> Result<Vec<Outcome>> {
    let path = format!("{data_path}/composite/sobjects");
    with_lock_retries(client, Method::POST, &path, object, records, budget).await
}

/// Tries after the first at resending the records that came back
/// `UNABLE_TO_LOCK_ROW` inside a 200 answer.
const LOCK_RETRIES: u32 = 3;

/// Sends `records`, then resends only those refused with
/// `UNABLE_TO_LOCK_ROW` (another transaction held their parent's row:
/// Salesforce's advice is to retry; a whole-request lock error is retried
/// by the HTTP client's `retry_codes`). A record is never resent after any
/// other answer, so nothing is created twice.
async fn with_lock_retries(
    client: &ApiClient,
    method: Method,
    path: &str,
    object: &str,
    records: &[Value],
    budget: Option<&Budget>,
) -> Result<Vec<Outcome>> {
    let body = request_body(object, records);
    let mut out = send(client, method.clone(), path, &body, records.len(), budget).await?;
    for attempt in 1..=LOCK_RETRIES {
        let locked: Vec<usize> = (0..out.len())
            .filter(|&i| matches!(&out[i], Err(e) if e.starts_with("UNABLE_TO_LOCK_ROW")))
            .collect();
        if locked.is_empty() {
            break;
        }
        tracing::info!(
            records = locked.len(),
            attempt,
            "records locked by another transaction; resending them"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250 * u64::from(attempt))).await;
        let again: Vec<Value> = locked.iter().map(|&i| records[i].clone()).collect();
        let body = request_body(object, &again);
        let answers = send(client, method.clone(), path, &body, again.len(), budget).await?;
        for (i, a) in locked.into_iter().zip(answers) {
            out[i] = a;
        }
    }
    Ok(out)
}

/// `{"allOrNone": false, "records": [...]}`, each record typed.
fn request_body(object: &str, records: &[Value]) -> Value {
    json!({
        "allOrNone": false,
        "records": records.iter().map(|r| {
            let mut r = r.clone();
            if let Some(o) = r.as_object_mut() {
                o.insert("attributes".into(), json!({"type": object}));
            }
            r
        }).collect::<Vec<_>>(),
    })
}

async fn send(
    client: &ApiClient,
    method: Method,
    path: &str,
    body: &Value,
    n: usize,
    budget: Option<&Budget>,
) -> Result<Vec<Outcome>> {
    if n > MAX_RECORDS {
        return Err(FerryError::Other(format!(
            "a Collections request takes at most {MAX_RECORDS} records ({n} given)"
        )));
    }
    let resp = client
        .send(method, path, Some(Payload::Json(body)), Lane::Standard)
        .await?;
    if let Some(b) = budget {
        b.observe(&resp.headers);
    }
    let results: Vec<Value> = serde_json::from_slice(&resp.body).map_err(|e| {
        FerryError::Other(format!(
            "Salesforce answered {path} with no result list: {e}"
        ))
    })?;
    if results.len() != n {
        return Err(FerryError::Other(format!(
            "Salesforce answered {} results for {n} records at {path}",
            results.len(),
        )));
    }
    Ok(results.iter().map(outcome).collect())
}

/// A SaveResult/UpsertResult as an outcome.
pub fn outcome(r: &Value) -> Outcome {
    if r["success"] == true {
        return Ok((
            r["id"].as_str().unwrap_or_default().to_string(),
            r["created"].as_bool().unwrap_or(true),
        ));
    }
    let errs: Vec<String> = r["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["statusCode"].as_str().unwrap_or("ERROR"),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Err(if errs.is_empty() {
        "the record was refused without an error".into()
    } else {
        errs.join("; ")
    })
}
