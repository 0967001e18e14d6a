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

use super::phases::{natural_key, BULK_UPSERT, INSERT, KEYED, UPSERT, USER_MATCH};
use super::{bulk, collections, limits, soql, Salesforce};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::{BatchKind, Phase};
use crate::load::{LoadCtx, Row, RowResult, HELD_BY_DESTINATION};

/// Fields only "Set Audit Fields upon Record Creation" makes createable.
const AUDIT_FIELDS: &[&str] = &[
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "ClosedDate",
];

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
    // `{}`: the object is the row's (custom objects; one per batch).
    let object = match (phase.call.path, rows.first()) {
        ("{}", Some(r)) => r.path_arg.as_deref().unwrap_or(""),
        (p, _) => p,
    };
    // A custom record whose object or fields the org lacks, or a Contact,
    // Lead, Account or Case naming a custom field the org lacks, is held
    // (the admin has not created them yet); the batch's other rows go.
    if phase.call.path == "{}" || matches!(phase.name, "accounts" | "contacts" | "leads" | "cases")
    {
        let gaps: Vec<Option<String>> = rows
            .iter()
            .map(|r| {
                if phase.call.path == "{}" {
                    sf.schema_gap(object, Some(&r.payload))
                } else {
                    serde_json::from_str::<serde_json::Value>(&r.payload)
                        .ok()
                        .and_then(|v| sf.field_gap(object, &v))
                }
            })
            .collect();
        if gaps.iter().any(Option::is_some) {
            let ready: Vec<Row> = rows
                .iter()
                .zip(&gaps)
                .filter(|(_, g)| g.is_none())
                .map(|(r, _)| r.clone())
                .collect();
            let mut sent = if ready.is_empty() {
                Vec::new()
            } else {
                Box::pin(batch(sf, cx, phase, &ready)).await?
            }
            .into_iter();
            return Ok(gaps
                .into_iter()
                .map(|g| match g {
                    Some(why) => Err((None, format!("{HELD_BY_DESTINATION}{why}"))),
                    None => sent
                        .next()
                        .unwrap_or_else(|| Err((None, "no answer for this row".into()))),
                })
                .collect());
        }
    }
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
        Some(KEYED) => keyed_batch(sf, cx, object, rows).await,
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
    // Audit fields (an original CreatedDate) are set on insert only, never
    // through an upsert (help.salesforce.com 000176484: "this only works
    // for INSERT, not UPSERT"): such a batch is inserted. Nothing is lost
    // for a rerun: only rows not yet loaded are sent, and an in-doubt
    // batch is first matched by the external id.
    let audit = recs.iter().any(|r| {
        AUDIT_FIELDS
            .iter()
            .any(|f| r.get(*f).is_some_and(|v| !v.is_null()))
    });
    let ingest = bulk::Ingest {
        object,
        operation: if audit { "insert" } else { "upsert" },
        ext_field: (!audit).then_some(ext.as_str()),
        key: &ext,
    };
    let data = sf.settings.data_path();
    check_batches(sf, &cx.client, rows.len()).await?;
    sf.budget.spend_batches(rows.len());
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

/// A file as a ContentVersion, FirstPublishLocationId linking it to its
/// Case: base64 JSON up to `json_upload_max_bytes`, multipart beyond
/// (REST API guide, "Insert or Update Blob Data": a non-multipart
/// request takes at most 37.5 MB of base64; multipart takes a
/// ContentVersion up to 2 GB, the JSON fields in a part named
/// `entity_content`, the bytes in one named `VersionData`).
async fn upload(sf: &Salesforce, cx: &LoadCtx, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let sha = v["sha256"].as_str().unwrap_or("");
    let file = crate::land::attachment_path(&cx.ws, sha);
    let bytes = std::fs::read(&file)
        .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
    let mut body = record(sf, row, true);
    let path = format!("{}/sobjects/ContentVersion", sf.settings.data_path());
    let r = if bytes.len() as u64 > sf.settings.json_upload_max_bytes {
        let name = body["PathOnClient"].as_str().unwrap_or("file").to_string();
        let (content_type, form) = multipart(&body, &name, &bytes);
        cx.client
            .send(
                Method::POST,
                &path,
                Some(Payload::Bytes(&form, &content_type)),
                Lane::Standard,
            )
            .await?
    } else {
        body["VersionData"] = json!(base64::engine::general_purpose::STANDARD.encode(&bytes));
        cx.client
            .send(
                Method::POST,
                &path,
                Some(Payload::Json(&body)),
                Lane::Standard,
            )
            .await?
    };
    sf.budget.observe(&r.headers);
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// A `multipart/form-data` body: the record's fields as JSON in
/// `entity_content`, then the file's bytes as `VersionData`.
fn multipart(fields: &Value, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let json = fields.to_string();
    crate::http::multipart::form(
        &[crate::http::multipart::Field {
            name: "entity_content",
            value: &json,
            content_type: Some("application/json"),
        }],
        "VersionData",
        file_name,
        "application/octet-stream",
        bytes,
    )
}

/// Stops before a Bulk job would eat into the reserve of the org's
/// daily Bulk batches (`/limits` read once, then counted down).
async fn check_batches(sf: &Salesforce, client: &ApiClient, rows: usize) -> Result<()> {
    if sf.budget.batches().is_none() {
        let v = client
            .get_json(&format!("{}/limits", sf.settings.data_path()))
            .await?;
        let b = &v["DailyBulkApiBatches"];
        if let (Some(left), Some(max)) = (b["Remaining"].as_u64(), b["Max"].as_u64()) {
            sf.budget.set_batches(left, max);
        }
    }
    if let Some((left, max)) = sf.budget.batches() {
        limits::check_batches(left, max, rows, sf.settings.reserve_percent)
            .map_err(FerryError::Other)?;
    }
    Ok(())
}

/// A keyed phase's batch (`phases::KEYED`): its records are looked up
/// by natural key first; only keys not found are created, once each
/// (two tags named "VIP" and "vip" are one Topic), and every row maps to
/// the record of its key.
async fn keyed_batch(
    sf: &Salesforce,
    cx: &LoadCtx,
    object: &str,
    rows: &[Row],
) -> Result<Vec<RowResult>> {
    let data = sf.settings.data_path();
    let (fields, cond) = natural_key(object)
        .ok_or_else(|| FerryError::Other(format!("{object} has no natural key to match it by")))?;
    let mut recs: Vec<Value> = rows.iter().map(|r| record(sf, r, false)).collect();
    // A file's links name its ContentDocument, which the load only knows
    // through the ContentVersion it created.
    if object == "ContentDocumentLink" {
        let versions: Vec<String> = recs
            .iter()
            .filter_map(|r| r["ContentVersionId"].as_str().map(str::to_string))
            .collect();
        let docs: HashMap<String, String> =
            super::rollback::documents(&cx.client, &data, &versions)
                .await?
                .into_iter()
                .collect();
        for r in &mut recs {
            if let Some(o) = r.as_object_mut() {
                if let Some(v) = o.remove("ContentVersionId") {
                    let d = v.as_str().and_then(|v| docs.get(v)).cloned();
                    o.insert("ContentDocumentId".into(), json!(d));
                }
            }
        }
    }
    let key_of = |r: &Value| -> Option<String> {
        let parts: Option<Vec<String>> = fields
            .iter()
            .map(|f| r[*f].as_str().map(str::to_lowercase))
            .collect();
        parts.map(|p| p.join("|"))
    };
    let keys: Vec<Option<String>> = recs.iter().map(key_of).collect();
    let mut found = existing_by_key(cx, &data, object, fields, cond, &recs).await?;
    let mut create: Vec<(String, usize)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            if !found.contains_key(k) && !create.iter().any(|(c, _)| c == k) {
                create.push((k.clone(), i));
            }
        }
    }
    let mut refused: HashMap<String, (Option<u16>, String)> = HashMap::new();
    if !create.is_empty() {
        let body: Vec<Value> = create.iter().map(|(_, i)| recs[*i].clone()).collect();
        match collections::insert(&cx.client, &data, object, &body, Some(&sf.budget)).await {
            Ok(outcomes) => {
                for ((k, _), o) in create.iter().zip(outcomes) {
                    match o {
                        Ok((id, _)) => {
                            found.insert(k.clone(), id);
                        }
                        Err(e) => {
                            refused.insert(k.clone(), (Some(400), e));
                        }
                    }
                }
            }
            Err(FerryError::Http { status, body, .. }) => {
                for (k, _) in &create {
                    refused.insert(k.clone(), (Some(status), body.clone()));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(keys
        .iter()
        .map(|k| match k {
            None => Err((
                None,
                format!(
                    "{object} needs {}: a parent it names is not loaded",
                    fields.join(" and ")
                ),
            )),
            Some(k) => found.get(k).cloned().ok_or_else(|| {
                refused
                    .get(k)
                    .cloned()
                    .unwrap_or((None, "not created".into()))
            }),
        })
        .collect())
}

/// Records of `object` whose natural key is among `recs`' (one SOQL
/// query per 100 values of the key's first field): key → id.
async fn existing_by_key(
    cx: &LoadCtx,
    data: &str,
    object: &str,
    fields: &[&str],
    cond: &str,
    recs: &[Value],
) -> Result<HashMap<String, String>> {
    let mut firsts: Vec<&str> = recs.iter().filter_map(|r| r[fields[0]].as_str()).collect();
    firsts.sort_unstable();
    firsts.dedup();
    let mut out = HashMap::new();
    for chunk in firsts.chunks(100) {
        let list = chunk
            .iter()
            .map(|c| soql::quote(c))
            .collect::<Vec<_>>()
            .join(",");
        let extra = if cond.is_empty() {
            String::new()
        } else {
            format!(" AND {cond}")
        };
        let q = format!(
            "SELECT Id, {} FROM {object} WHERE {} IN ({list}){extra}",
            fields.join(", "),
            fields[0]
        );
        for r in soql::query_all(&cx.client, data, &q).await? {
            let parts: Option<Vec<String>> = fields
                .iter()
                .map(|f| r[*f].as_str().map(str::to_lowercase))
                .collect();
            if let (Some(p), Some(id)) = (parts, r["Id"].as_str()) {
                out.entry(p.join("|")).or_insert_with(|| id.to_string());
            }
        }
    }
    Ok(out)
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
        // A keyed batch looks its records up before creating anything:
        // resending the in-doubt rows adopts what the lost answer created.
        Some(KEYED) => return Ok(Some(Vec::new())),
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
            // A custom object phase names its object per row: look in each
            // custom object the org has (a handful).
            let objects: Vec<String> = if object == "{}" {
                sf.custom_objects()
            } else {
                vec![object.to_string()]
            };
            for object in &objects {
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
                            found.push((
                                src.to_string(),
                                r["Id"].as_str().unwrap_or("").to_string(),
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(Some(found))
}
