//! Zendesk's side of a load batch: request shapes, job polling, result
//! parsing, and finding records again (in-doubt batches, "already taken").

use reqwest::Method;
use serde_json::Value;

use super::jobs::JobBoard;
use super::phases::{CUSTOM_LINKS, CUSTOM_OBJECT, CUSTOM_RECORDS, TICKET_COMMENT, TICKET_IMPORT};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::{BatchKind, Existing, Phase};
use crate::load::{blocking, LoadCtx, Row, RowResult};

/// TooManyJobs answers one batch waits through before failing: a minute
/// and more of other integrations' jobs filling the account.
const MAX_TOO_MANY: u32 = 120;
/// External ids per lookup request.
const LOOKUP_IDS: usize = 100;

/// Sends one batch of `phase`; one result per row.
pub async fn batch(
    cx: &LoadCtx,
    jobs: &JobBoard,
    phase: &'static Phase,
    rows: &[Row],
    archive_immediately: bool,
) -> Result<Vec<RowResult>> {
    let results = match (phase.batch, phase.call.custom) {
        (_, Some(TICKET_COMMENT)) => super::delta::comments(cx, rows).await?,
        (_, Some(CUSTOM_RECORDS)) => {
            let key = rows[0].path_arg.clone().unwrap_or_default();
            custom_records(&cx.client, jobs, phase, &key, "create", rows).await?
        }
        (_, Some(CUSTOM_LINKS)) => {
            let key = rows[0].path_arg.clone().unwrap_or_default();
            custom_records(&cx.client, jobs, phase, &key, "update", rows).await?
        }
        (BatchKind::BulkJob { .. } | BatchKind::Collection { .. }, _) => {
            let path = if phase.call.path == TICKET_IMPORT && archive_immediately {
                format!("{}?archive_immediately=true", phase.call.path)
            } else {
                phase.call.path.to_string()
            };
            bulk(&cx.client, jobs, &path, phase.call.key, rows).await?
        }
        _ => {
            // All at once (the limiter paces them), results in row order.
            futures::future::try_join_all(rows.iter().map(|r| single(cx, phase, r))).await?
        }
    };
    resolve_existing(&cx.client, phase, rows, results).await
}

/// The rows' payloads (JSON built in SQL) as the items of a JSON array,
/// without null members.
fn items_json(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| create_body(&r.payload))
        .collect::<Vec<_>>()
        .join(",")
}

/// `v` without its null object members, at any depth. SQL builds payloads
/// as structs, whose absent values are `null`; the official spec types
/// those fields (a comment's `body` and `html_body` are strings, an
/// `author_id` an integer), so a create sends only what is set. (Updates
/// keep their nulls: `assignee_id: null` unassigns.)
pub fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k, without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// A payload as a create sends it: without nulls (unparsable text is
/// sent as it is, for the API to refuse with its own words).
fn create_body(payload: &str) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(v) => without_nulls(v).to_string(),
        Err(_) => payload.to_string(),
    }
}

pub(super) fn bulk<'a>(
    client: &'a ApiClient,
    jobs: &'a JobBoard,
    path: &'a str,
    key: &'a str,
    rows: &'a [Row],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<RowResult>>> + Send + 'a>> {
    Box::pin(async move {
        let body = format!("{{\"{key}\":[{}]}}", items_json(rows));
        let (results, whole) = job(client, jobs, path, &body, rows.len()).await?;
        // One bad item can make the API refuse the whole body (unparsable,
        // too large): split the batch until the culprit stands alone, so
        // every good row still lands and only the bad one fails.
        if whole && rows.len() > 1 {
            let mid = rows.len() / 2;
            let mut left = bulk(client, jobs, path, key, &rows[..mid]).await?;
            left.extend(bulk(client, jobs, path, key, &rows[mid..]).await?);
            return Ok(left);
        }
        Ok(results)
    })
}

async fn custom_records(
    client: &ApiClient,
    jobs: &JobBoard,
    phase: &Phase,
    key: &str,
    action: &str,
    rows: &[Row],
) -> Result<Vec<RowResult>> {
    let body = format!(
        "{{\"job\":{{\"action\":\"{action}\",\"items\":[{}]}}}}",
        items_json(rows)
    );
    job(
        client,
        jobs,
        &phase.call.path.replace("{}", key),
        &body,
        rows.len(),
    )
    .await
    .map(|(r, _)| r)
}

/// Sends a bulk body, waits for its job, maps results back by index. The
/// flag says the API refused the request as a whole (400/413/422 before
/// any job), rather than item by item.
async fn job(
    client: &ApiClient,
    jobs: &JobBoard,
    path: &str,
    body: &str,
    n: usize,
) -> Result<(Vec<RowResult>, bool)> {
    // A place among the jobs ferry keeps in flight, held until the job is
    // over.
    let mut place = jobs.slot().await;
    let mut refused = 0u32;
    let resp = loop {
        match client
            .send(
                Method::POST,
                path,
                Some(Payload::JsonText(body)),
                Lane::Standard,
            )
            .await
        {
            // Too many jobs queued on the account (ferry's and other
            // integrations'): nothing was queued, so the same request goes
            // again once a job has finished, with one fewer in flight.
            Err(FerryError::Http {
                status: 429,
                body: b,
                ..
            }) if b.contains("TooManyJobs") && refused < MAX_TOO_MANY => {
                refused += 1;
                place = jobs.too_many(place).await;
            }
            other => break other,
        }
    };
    let resp = match resp {
        Ok(r) => r,
        // The API refused the whole request: every row fails with its answer.
        Err(FerryError::Http { status, body, .. }) => {
            let whole = matches!(status, 400 | 413 | 422);
            return Ok((vec![Err((Some(status), body)); n], whole));
        }
        Err(e) => return Err(e),
    };
    let v: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| FerryError::Other(format!("{path}: unreadable job response: {e}")))?;
    let id = v["job_status"]["id"]
        .as_str()
        .ok_or_else(|| FerryError::Other(format!("{path}: no job_status.id in the response")))?
        .to_string();
    let status = jobs
        .wait(
            client,
            &id,
            &format!("({path}); the batch stays in doubt and the next `ferry load` reconciles it"),
        )
        .await?;
    drop(place);
    let mut out: Vec<RowResult> =
        vec![Err((None, format!("job {id} returned no result for this item"))); n];
    // Results come back in request order. Some jobs number them with
    // `index`; `users/create_or_update_many` does not (a Zendesk developer
    // advocate, community post 4408861015066: "the order of results array
    // will remain the same as the order of the users array", statuses only
    // Created | Updated | Failed, and a failed item carries a placeholder
    // id such as 1 or 2). So: `index` when present, else the position.
    for (pos, item) in status["job_status"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let i = item["index"].as_u64().map_or(pos, |i| i as usize);
        if i >= n {
            continue;
        }
        let failed = item["status"] == "Failed"
            || item["success"] == Value::Bool(false)
            || item.get("error").is_some_and(|e| !e.is_null());
        out[i] = match (failed, id_text(&item["id"])) {
            (false, Some(dest_id)) => Ok(dest_id),
            (false, None) => Err((None, format!("job {id}: a result without an id"))),
            (true, _) => Err((Some(422), item_error(item))),
        };
    }
    Ok((out, false))
}

/// Zendesk's per-item failure text, compact.
fn item_error(item: &Value) -> String {
    let details = item
        .get("details")
        .map(|d| d.to_string())
        .unwrap_or_default();
    format!("{} {}", item["error"].as_str().unwrap_or("Failed"), details)
        .trim()
        .to_string()
}

/// One request per row: fields, identities, groups, uploads, custom objects.
async fn single(cx: &LoadCtx, phase: &'static Phase, row: &Row) -> Result<RowResult> {
    if let Some(ex) = phase.existing.filter(|e| e.before_create) {
        if let Some(id) = find_existing(&cx.client, &ex, row).await? {
            return Ok(Ok(id));
        }
    }
    let call = phase.call;
    let res = match (phase.batch, call.custom) {
        (_, Some(CUSTOM_OBJECT)) => custom_object(&cx.client, row).await,
        (BatchKind::FileUpload, _) => upload(cx, row).await,
        _ => {
            let path = call
                .path
                .replace("{}", row.path_arg.as_deref().unwrap_or(""));
            let body = format!("{{\"{}\":{}}}", call.key, create_body(&row.payload));
            cx.client
                .send(
                    Method::POST,
                    &path,
                    Some(Payload::JsonText(&body)),
                    Lane::Standard,
                )
                .await
                .map(|r| {
                    serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| v[call.key][call.id_field].as_u64())
                        .map(|i| i.to_string())
                        .unwrap_or_default()
                })
        }
    };
    match res {
        Ok(id) if !id.is_empty() => Ok(Ok(id)),
        Ok(_) => Ok(Err((None, "the response carried no id".into()))),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// Raw bytes to `POST /api/v2/uploads?filename=…`; the id is the token,
/// recorded with the URL Zendesk serves the file from
/// (`upload.attachment.content_url`, official spec AttachmentUploadResponse →
/// AttachmentObject.content_url), which an inline image's `<img>` links.
async fn upload(cx: &LoadCtx, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let sha = v["sha256"].as_str().unwrap_or("");
    let file = crate::land::attachment_path(&cx.ws, sha);
    let bytes = std::fs::read(&file)
        .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
    let name = url::form_urlencoded::byte_serialize(
        v["file_name"].as_str().unwrap_or("attachment").as_bytes(),
    )
    .collect::<String>();
    let ctype = v["content_type"]
        .as_str()
        .unwrap_or("application/octet-stream");
    cx.client
        .send(
            Method::POST,
            &format!("/api/v2/uploads?filename={name}"),
            Some(Payload::Bytes(&bytes, ctype)),
            Lane::Standard,
        )
        .await
        .map(|r| {
            let v = serde_json::from_slice::<Value>(&r.body).unwrap_or_default();
            let token = v["upload"]["token"].as_str().unwrap_or_default();
            match v["upload"]["attachment"]["content_url"].as_str() {
                Some(url) if !token.is_empty() => crate::load::hosted(token, url),
                _ => token.to_string(),
            }
        })
}

async fn custom_object(client: &ApiClient, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let key = v["key"].as_str().unwrap_or("").to_string();
    let obj = serde_json::json!({"custom_object": {"key": key, "title": v["title"], "title_pluralized": v["title_pluralized"]}});
    let existing: Vec<Value> = match client
        .send(
            Method::POST,
            "/api/v2/custom_objects",
            Some(Payload::Json(&obj)),
            Lane::Standard,
        )
        .await
    {
        Ok(_) => Vec::new(),
        // Created by a run that died before recording it: carry on with
        // the fields it did not create yet.
        Err(FerryError::Http {
            status: 422, body, ..
        }) if body.contains("already been taken") => {
            let list: Value = client
                .get_json(&format!("/api/v2/custom_objects/{key}/fields"))
                .await?;
            list["custom_object_fields"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
        Err(e) => return Err(e),
    };
    for f in v["fields"].as_array().into_iter().flatten() {
        if existing.iter().any(|x| x["key"] == f["key"]) {
            continue;
        }
        let body = serde_json::json!({"custom_object_field": f});
        client
            .send(
                Method::POST,
                &format!("/api/v2/custom_objects/{key}/fields"),
                Some(Payload::Json(&body)),
                Lane::Standard,
            )
            .await?;
    }
    Ok(key)
}

/// The record the phase's `existing` rule finds for `row`, if any. Lists
/// are paginated (100 per page, `next_page` or cursor `links.next`), so
/// every page is read until the record turns up.
async fn find_existing(client: &ApiClient, ex: &Existing, row: &Row) -> Result<Option<String>> {
    let want: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let norm = |x: &Value| match (x.as_str(), ex.case_insensitive) {
        (Some(s), true) => Value::String(s.to_lowercase()),
        _ => x.clone(),
    };
    let mut next = Some(ex.path.replace("{}", row.path_arg.as_deref().unwrap_or("")));
    while let Some(path) = next {
        let v: Value = client.get_json(&path).await?;
        let found = v[ex.key]
            .as_array()
            .into_iter()
            .flatten()
            .find(|rec| ex.fields.iter().all(|f| norm(&rec[*f]) == norm(&want[*f])))
            .and_then(|rec| id_text(&rec["id"]));
        if found.is_some() {
            return Ok(found);
        }
        next = next_page(&v);
    }
    Ok(None)
}

/// The next page of a Zendesk list: offset `next_page`, or cursor
/// `links.next` while `meta.has_more` (developer.zendesk.com, "Pagination").
pub fn next_page(v: &Value) -> Option<String> {
    v["next_page"]
        .as_str()
        .or_else(|| {
            (v["meta"]["has_more"] == Value::Bool(true))
                .then(|| v["links"]["next"].as_str())
                .flatten()
        })
        .map(str::to_string)
}

/// In-doubt tickets found by external id. `GET /api/v2/tickets?external_id=`
/// takes one value ("List Tickets": external ids need not be unique, so it
/// may return several) and, like every list, leaves archived tickets out.
/// With `archive_immediately` a closed ticket is archived at import, so
/// what the list does not show is looked for with the Search API, which
/// reaches archived tickets (Zendesk help 4408887617050). Search indexes
/// new records within "up to a few minutes" (Search API docs): a ticket
/// created moments before the crash may not be found yet, which
/// `ferry probe` cannot settle; the README tells to wait a few minutes
/// before resuming a load that died mid-import with `archive_immediately`.
async fn tickets_by_external_id(
    client: &ApiClient,
    items: &[(String, String)],
    archive_immediately: bool,
) -> Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    for (src, ext) in items {
        let q: String = url::form_urlencoded::byte_serialize(ext.as_bytes()).collect();
        let v: Value = client
            .get_json(&format!("/api/v2/tickets?external_id={q}"))
            .await?;
        let mut hit = first_with_external_id(&v["tickets"], ext);
        if hit.is_none() && archive_immediately {
            let query: String = url::form_urlencoded::byte_serialize(
                format!("type:ticket external_id:\"{ext}\"").as_bytes(),
            )
            .collect();
            let v: Value = client
                .get_json(&format!("/api/v2/search?query={query}"))
                .await?;
            hit = first_with_external_id(&v["results"], ext);
        }
        if let Some(id) = hit {
            found.push((src.clone(), id));
        }
    }
    Ok(found)
}

/// The oldest record of a list whose `external_id` is exactly `ext`.
fn first_with_external_id(list: &Value, ext: &str) -> Option<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["external_id"].as_str() == Some(ext))
        .filter_map(|r| r["id"].as_u64())
        .min()
        .map(|id| id.to_string())
}

/// A record id as text: Zendesk ids are integers, custom object record
/// ids are strings.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(x) => Some(x.to_string()),
        Value::String(x) if !x.is_empty() => Some(x.clone()),
        _ => None,
    }
}

/// A record a crashed run created but never recorded comes back as
/// "already taken / already a member": find it and record its id instead
/// of a failure. (Phases with external ids are reconciled before sending.)
async fn resolve_existing(
    client: &ApiClient,
    phase: &Phase,
    rows: &[Row],
    mut results: Vec<RowResult>,
) -> Result<Vec<RowResult>> {
    let Some(ex) = phase.existing else {
        return Ok(results);
    };
    let dup = |r: &RowResult| matches!(r, Err((Some(422), b)) if b.contains("already"));
    for (i, row) in rows.iter().enumerate() {
        if !dup(&results[i]) {
            continue;
        }
        if let Some(id) = find_existing(client, &ex, row).await? {
            results[i] = Ok(id);
        }
    }
    Ok(results)
}

/// In-doubt rows found by external id: the phase's lookup, or for custom
/// object records, each custom object's records filter.
pub async fn reconcile(
    cx: &LoadCtx,
    phase: &'static Phase,
    items: &[(String, String)],
    archive_immediately: bool,
) -> Result<Option<Vec<(String, String)>>> {
    if phase.call.path == TICKET_IMPORT {
        return tickets_by_external_id(&cx.client, items, archive_immediately)
            .await
            .map(Some);
    }
    if phase.call.custom == Some(TICKET_COMMENT) {
        return super::delta::reconcile_comments(cx, items).await.map(Some);
    }
    let lookups: Vec<String> = match (phase.lookup, phase.call.custom) {
        (Some(l), _) => vec![l.to_string()],
        (None, Some(CUSTOM_RECORDS)) => {
            let db = cx.db.clone();
            let dest = cx.vars.dest;
            blocking(move || {
                let db = db.lock().unwrap();
                let mut stmt = db.prepare(
                    "SELECT DISTINCT dest_id FROM ferry_id_map WHERE dest = ? AND dest_object = 'custom_objects'",
                )?;
                let keys = stmt
                    .query_map([dest], |r| r.get::<_, String>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(keys
                    .into_iter()
                    .map(|k| format!("/api/v2/custom_objects/{k}/records?filter[external_ids]="))
                    .collect())
            })
            .await?
        }
        _ => return Ok(None),
    };
    let mut found = Vec::new();
    for lookup in &lookups {
        for chunk in items.chunks(LOOKUP_IDS) {
            let ids: Vec<&str> = chunk.iter().map(|(_, e)| e.as_str()).collect();
            let v: Value = cx
                .client
                .get_json(&format!("{lookup}{}", ids.join(",")))
                .await?;
            let list = v
                .as_object()
                .and_then(|o| o.values().find_map(|x| x.as_array()))
                .cloned()
                .unwrap_or_default();
            for rec in list {
                if let (Some(ext), Some(id)) = (rec["external_id"].as_str(), id_text(&rec["id"])) {
                    if let Some((src, _)) = chunk.iter().find(|(_, e)| e == ext) {
                        found.push((src.clone(), id));
                    }
                }
            }
        }
    }
    Ok(Some(found))
}
