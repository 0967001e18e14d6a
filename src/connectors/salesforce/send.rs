//! Request shapes for Salesforce: a batch of a phase becomes one
//! Collections request, one Bulk API 2.0 job, or one file upload per row;
//! results are matched to rows by the external id, never by position.
//! Payload keys ending in `.` are lookups by the parent's external id
//! (`"Account."` → the `Account.<field>` column of a Bulk upload, or
//! `{"Account": {"<field>": …}}` in JSON).

use std::collections::HashMap;

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::phases::{BULK_UPSERT, INSERT, UPSERT, USER_MATCH};
use super::{bulk, collections, limits, soql, Salesforce};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::{BatchKind, Phase};
use crate::load::{LoadCtx, Row, RowResult, HELD_BY_DESTINATION};

/// The marker a CaseComment's body ends with (CaseComment takes no custom
/// fields): an in-doubt comment is found again by it.
pub fn marker(source_id: &str) -> String {
    format!("[ferry {source_id}]")
}

/// A row's payload as the JSON record the API takes: nulls dropped,
/// `"X."` lookups as relationship objects, the external id added.
fn record(sf: &Salesforce, row: &Row, with_ext: bool) -> Value {
    let ext = &sf.settings.external_id_field;
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let mut out = Map::new();
    for (k, x) in v.as_object().into_iter().flatten() {
        if x.is_null() || k == "sha256" {
            continue;
        }
        match k.strip_suffix('.') {
            Some(rel) => {
                out.insert(rel.to_string(), json!({ ext.as_str(): x }));
            }
            None => {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    if with_ext {
        if let Some(id) = &row.external_id {
            out.insert(ext.clone(), json!(id));
        }
    }
    Value::Object(out)
}

/// Sends one batch of `phase`.
pub async fn batch(
    sf: &Salesforce,
    cx: &LoadCtx,
    phase: &'static Phase,
    rows: &[Row],
) -> Result<Vec<RowResult>> {
    let client = &cx.client;
    if phase.call.custom != Some(USER_MATCH) {
        check_budget(sf, client).await?;
    }
    let data = sf.settings.data_path();
    let object = phase.call.path;
    match phase.call.custom {
        Some(USER_MATCH) => {
            let users = sf
                .users
                .get_or_try_init(|| all_users(client, &data))
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    let email = r.external_id.clone().unwrap_or_default().to_lowercase();
                    users.get(&email).cloned().ok_or_else(|| {
                        (None, format!("{HELD_BY_DESTINATION}no active Salesforce User has the email {email}: add the user in Setup → Users (or map it) and run `ferry load` again; until then their Cases are owned by the integration user"))
                    })
                })
                .collect())
        }
        _ if phase.batch == BatchKind::FileUpload => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(match upload(sf, cx, r).await {
                    Ok(id) => Ok(id),
                    Err(FerryError::Http { status, body, .. }) => Err((Some(status), body)),
                    Err(e) => return Err(e),
                });
            }
            Ok(out)
        }
        Some(UPSERT) | Some(INSERT) => {
            let records: Vec<Value> = rows
                .iter()
                .map(|r| record(sf, r, phase.call.custom == Some(UPSERT)))
                .collect();
            let outcomes = if phase.call.custom == Some(UPSERT) {
                collections::upsert(
                    client,
                    &data,
                    object,
                    &sf.settings.external_id_field,
                    &records,
                    Some(&sf.budget),
                )
                .await
            } else {
                collections::insert(client, &data, object, &records, Some(&sf.budget)).await
            };
            let outcomes = match outcomes {
                Ok(o) => o,
                Err(FerryError::Http { status, body, .. }) => {
                    return Ok(rows
                        .iter()
                        .map(|_| Err((Some(status), body.clone())))
                        .collect())
                }
                Err(e) => return Err(e),
            };
            Ok(outcomes
                .into_iter()
                .map(|o| o.map(|(id, _)| id).map_err(|e| (Some(400), e)))
                .collect())
        }
        Some(BULK_UPSERT) => bulk_batch(sf, cx, object, rows).await,
        other => Err(FerryError::Other(format!(
            "phase {} has no Salesforce request shape ({other:?})",
            phase.name
        ))),
    }
}

/// One Bulk API 2.0 upsert job for the batch: the CSV's columns are the
/// union of the payloads' keys, the external id first.
async fn bulk_batch(
    sf: &Salesforce,
    cx: &LoadCtx,
    object: &str,
    rows: &[Row],
) -> Result<Vec<RowResult>> {
    let ext = sf.settings.external_id_field.clone();
    let mut header: Vec<String> = vec![ext.clone()];
    let recs: Vec<Value> = rows.iter().map(|r| record(sf, r, true)).collect();
    let cell = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o
            .values()
            .next()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .unwrap_or_default(),
        x => x.to_string(),
    };
    let column = |k: &str, v: &Value| {
        if v.is_object() {
            format!("{k}.{ext}")
        } else {
            k.to_string()
        }
    };
    for r in &recs {
        for (k, v) in r.as_object().into_iter().flatten() {
            let c = column(k, v);
            if !header.contains(&c) {
                header.push(c);
            }
        }
    }
    let table: Vec<Vec<String>> = recs
        .iter()
        .map(|r| {
            let o = r.as_object().cloned().unwrap_or_default();
            header
                .iter()
                .map(|h| {
                    let key = h.strip_suffix(&format!(".{ext}")).unwrap_or(h);
                    o.get(key).map(cell).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let ingest = bulk::Ingest {
        object,
        operation: "upsert",
        ext_field: Some(&ext),
        key: &ext,
    };
    let data = sf.settings.data_path();
    let job = bulk::run(&cx.client, &data, ingest, &header, &table, Some(&sf.budget)).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let key = r.external_id.clone().unwrap_or_default();
            if let Some((id, _)) = job.ok.get(&key) {
                Ok(id.clone())
            } else if let Some(e) = job.failed.get(&key) {
                Err((Some(400), format!("Bulk job {}: {e}", job.job_id)))
            } else {
                Err((
                    None,
                    format!(
                        "Bulk job {} ended {} without processing this row{}",
                        job.job_id,
                        job.state,
                        job.error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    ),
                ))
            }
        })
        .collect())
}

/// A file as a ContentVersion (base64 JSON, FirstPublishLocationId links
/// it to its Case).
async fn upload(sf: &Salesforce, cx: &LoadCtx, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let sha = v["sha256"].as_str().unwrap_or("");
    let file = crate::land::attachment_path(&cx.ws, sha);
    let bytes = std::fs::read(&file)
        .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
    let mut body = record(sf, row, true);
    body["VersionData"] = json!(base64::engine::general_purpose::STANDARD.encode(&bytes));
    let path = format!("{}/sobjects/ContentVersion", sf.settings.data_path());
    let r = cx
        .client
        .send(
            Method::POST,
            &path,
            Some(Payload::Json(&body)),
            Lane::Standard,
        )
        .await?;
    sf.budget.observe(&r.headers);
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// Stops before the daily allocation's reserve (`reserve_percent`).
async fn check_budget(sf: &Salesforce, client: &ApiClient) -> Result<()> {
    if sf.budget.get().is_none() {
        let path = format!("{}/limits", sf.settings.data_path());
        let r = client
            .send(Method::GET, &path, None, Lane::Standard)
            .await?;
        sf.budget.observe(&r.headers);
    }
    if let Some((used, max)) = sf.budget.get() {
        limits::check_reserve(used, max, sf.settings.reserve_percent).map_err(FerryError::Other)?;
    }
    Ok(())
}

/// Active Users by email (lower case) → id.
pub async fn all_users(client: &ApiClient, data: &str) -> Result<HashMap<String, String>> {
    let rows = soql::query_all(
        client,
        data,
        "SELECT Id, Email FROM User WHERE IsActive = true",
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|u| {
            Some((
                u["Email"].as_str()?.to_lowercase(),
                u["Id"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// Finds the records of an in-doubt batch by the external id (a SOQL
/// query, 100 ids at a time), or a CaseComment by the marker in its body
/// among its Case's comments. `None` for the user match (it writes nothing).
pub async fn reconcile(
    sf: &Salesforce,
    cx: &LoadCtx,
    phase: &'static Phase,
    items: &[(String, String)],
) -> Result<Option<Vec<(String, String)>>> {
    let data = sf.settings.data_path();
    let ext = &sf.settings.external_id_field;
    let object = phase.call.path;
    let mut found = Vec::new();
    match phase.call.custom {
        Some(USER_MATCH) => return Ok(None),
        Some(INSERT) => {
            let mut by_case: HashMap<&str, Vec<&str>> = HashMap::new();
            for (src, case) in items {
                by_case.entry(case.as_str()).or_default().push(src.as_str());
            }
            let cases: Vec<&str> = by_case.keys().copied().collect();
            for chunk in cases.chunks(100) {
                let ids = chunk
                    .iter()
                    .map(|c| soql::quote(c))
                    .collect::<Vec<_>>()
                    .join(",");
                let q = format!(
                    "SELECT Id, ParentId, CommentBody FROM {object} WHERE ParentId IN ({ids})"
                );
                for r in soql::query_all(&cx.client, &data, &q).await? {
                    let body = r["CommentBody"].as_str().unwrap_or("");
                    let parent = r["ParentId"].as_str().unwrap_or("");
                    for src in by_case.get(parent).into_iter().flatten() {
                        if body.ends_with(&marker(src)) {
                            found.push((
                                src.to_string(),
                                r["Id"].as_str().unwrap_or("").to_string(),
                            ));
                        }
                    }
                }
            }
        }
        _ => {
            let by_key: HashMap<&str, &str> = items
                .iter()
                .map(|(s, k)| (k.as_str(), s.as_str()))
                .collect();
            let keys: Vec<&str> = by_key.keys().copied().collect();
            for chunk in keys.chunks(100) {
                let list = chunk
                    .iter()
                    .map(|c| soql::quote(c))
                    .collect::<Vec<_>>()
                    .join(",");
                let q = format!("SELECT Id, {ext} FROM {object} WHERE {ext} IN ({list})");
                for r in soql::query_all(&cx.client, &data, &q).await? {
                    let key = r[ext.as_str()].as_str().unwrap_or("");
                    if let Some(src) = by_key.get(key) {
                        found.push((src.to_string(), r["Id"].as_str().unwrap_or("").to_string()));
                    }
                }
            }
        }
    }
    Ok(Some(found))
}
