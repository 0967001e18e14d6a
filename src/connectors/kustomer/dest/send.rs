//! Request shapes for Kustomer as a destination: bulk creates polled to
//! completion, the single calls (agent match, metadata, klasses, the
//! attachment upload flow), and how an in-doubt batch is found again by
//! external id.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::phases::{
    KB_ARTICLE, KB_CATEGORY, KB_VERSION, KLASS, METADATA, SNOOZE, TEAM, UPLOAD, USER_MATCH,
};
use super::settings::Settings;
use crate::error::{FerryError, Result};
use crate::http::multipart::{form, Field};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::{BatchKind, Phase};
use crate::load::{LoadCtx, Row, RowResult, HELD_BY_DESTINATION};

/// Kustomer's agents by email (lower case) → user id, read once per load.
pub type Users = tokio::sync::OnceCell<HashMap<String, String>>;

/// Sends one batch of `phase`.
pub async fn batch(
    cx: &LoadCtx,
    s: &Settings,
    phase: &'static Phase,
    rows: &[Row],
    users: &Users,
    kb: &super::kb::Kb,
) -> Result<Vec<RowResult>> {
    if matches!(phase.batch, BatchKind::BulkJob { .. }) {
        return bulk(cx, s, phase, rows).await;
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let res = match phase.call.custom {
            Some(USER_MATCH) => {
                out.push(user_match(&cx.client, s, users, row).await?);
                continue;
            }
            Some(TEAM) => {
                out.push(team(&cx.client, s, row).await?);
                continue;
            }
            Some(KB_CATEGORY) => {
                out.push(super::kb::category(cx, kb, s, row).await?);
                continue;
            }
            Some(KB_ARTICLE) => {
                out.push(super::kb::article(cx, kb, s, row).await?);
                continue;
            }
            Some(KB_VERSION) => {
                out.push(super::kb::version(cx, kb, s, row).await?);
                continue;
            }
            Some(METADATA) => metadata(&cx.client, row).await,
            Some(KLASS) => klass(&cx.client, row).await,
            Some(UPLOAD) => upload(cx, row).await,
            Some(SNOOZE) => snooze(&cx.client, phase, row).await,
            // PHASES is static: every non-bulk phase names its step.
            _ => unreachable!("phase {} has no request shape", phase.name),
        };
        out.push(match res {
            Ok(id) if !id.is_empty() => Ok(id),
            Ok(_) => Err((None, "the response carried no id".into())),
            Err(FerryError::Http { status, body, .. }) => Err((Some(status), body)),
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// The path of a phase's request for a row (`{}` ← the row's path_arg).
fn path_of(phase: &Phase, row: &Row) -> String {
    phase
        .call
        .path
        .replacen("{}", row.path_arg.as_deref().unwrap_or(""), 1)
}

/// One bulk create: POST the rows as an array, poll `GET /v1/bulk/{id}`
/// until `complete`, read the per-item outcome from
/// `GET /v1/bulk/{id}/batches` (guide "Bulk operations"). Ids come from
/// `objectIds` in request order; a failed item is named by `results[]`,
/// and any row the answer leaves unclear is looked up by external id.
async fn bulk(
    cx: &LoadCtx,
    s: &Settings,
    phase: &'static Phase,
    rows: &[Row],
) -> Result<Vec<RowResult>> {
    let path = path_of(phase, &rows[0]);
    let mut body = String::with_capacity(rows.iter().map(|r| r.payload.len() + 1).sum());
    body.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&super::without_nulls(&r.payload));
    }
    body.push(']');
    let r = match cx
        .client
        .send(
            Method::POST,
            &path,
            Some(Payload::JsonText(&body)),
            Lane::Standard,
        )
        .await
    {
        Ok(r) => r,
        // The whole request refused (its shape): every row carries why.
        Err(FerryError::Http { status, body, .. }) if (400..500).contains(&status) => {
            return Ok(rows
                .iter()
                .map(|_| Err((Some(status), body.clone())))
                .collect());
        }
        Err(e) => return Err(e),
    };
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let Some(bulk_id) = v["data"]["id"].as_str().map(str::to_string) else {
        return Err(FerryError::InDoubt {
            api: "Kustomer".into(),
            url: cx.client.url(&path),
            cause: "the bulk answer carried no operation id".into(),
        });
    };
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(s.bulk_poll_ms)).await;
        let st = cx.client.get_json(&format!("/v1/bulk/{bulk_id}")).await?;
        let a = &st["data"]["attributes"];
        if a["status"] == "complete" || a["completed"] == true {
            break;
        }
        if a["status"] == "failed" || a["status"] == "error" {
            break;
        }
        if started.elapsed() > Duration::from_secs(s.bulk_poll_max_secs) {
            return Err(FerryError::InDoubt {
                api: "Kustomer".into(),
                url: cx.client.url(&format!("/v1/bulk/{bulk_id}")),
                cause: format!(
                    "bulk operation {bulk_id} not complete after {} s (destination.bulk_poll_max_secs)",
                    s.bulk_poll_max_secs
                ),
            });
        }
    }
    let b = cx
        .client
        .get_json(&format!("/v1/bulk/{bulk_id}/batches"))
        .await?;
    let mut ids: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let mut failures = 0u64;
    for batch in b["data"].as_array().into_iter().flatten() {
        let a = batch.get("attributes").unwrap_or(batch);
        ids.extend(a["objectIds"].as_array().cloned().unwrap_or_default());
        results.extend(a["results"].as_array().cloned().unwrap_or_default());
        failures += a["failureCount"].as_u64().unwrap_or(0);
    }
    let mut out: Vec<Option<RowResult>> = vec![None; rows.len()];
    for (i, r) in results.iter().enumerate() {
        let at = r["index"].as_u64().map_or(i, |x| x as usize);
        if at >= rows.len() {
            continue;
        }
        out[at] = Some(match (r["status"].as_str(), r["objectId"].as_str()) {
            (Some("created") | Some("updated"), Some(id)) => Ok(id.to_string()),
            _ => Err((
                Some(400),
                r["error"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| r["error"].to_string()),
            )),
        });
    }
    // Without results[], objectIds in request order are the answer when
    // every item went through.
    if failures == 0 && ids.len() == rows.len() {
        for (i, id) in ids.iter().enumerate() {
            if out[i].is_none() {
                if let Some(id) = id.as_str() {
                    out[i] = Some(Ok(id.to_string()));
                }
            }
        }
    }
    // What is still unclear is looked up by external id.
    let unclear: Vec<(String, String)> = rows
        .iter()
        .zip(&out)
        .filter(|(_, o)| o.is_none())
        .map(|(r, _)| (r.source_id.clone(), lookup_key(r)))
        .collect();
    if !unclear.is_empty() {
        let found: HashMap<String, String> = find_by_external_id(cx, phase, &unclear)
            .await?
            .into_iter()
            .collect();
        for (i, r) in rows.iter().enumerate() {
            if out[i].is_none() {
                out[i] = Some(match found.get(&r.source_id) {
                    Some(id) => Ok(id.clone()),
                    None => Err((
                        Some(400),
                        format!(
                            "bulk operation {bulk_id} did not create it (no per-item reason given)"
                        ),
                    )),
                });
            }
        }
    }
    Ok(out.into_iter().map(|o| o.unwrap()).collect())
}

/// What a row is found by: its `external_id` column (the external id
/// sent; `klass/external id` for KObjects; the conversation for notes),
/// else its source id.
fn lookup_key(row: &Row) -> String {
    row.external_id
        .clone()
        .unwrap_or_else(|| row.source_id.clone())
}

/// `(source_id, dest_id)` of the items that exist. Items are
/// `(source_id, key)`: the key is the external id, or for notes the
/// conversation's id (their external id is the source id).
pub async fn find_by_external_id(
    cx: &LoadCtx,
    phase: &'static Phase,
    items: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    let Some(lookup) = phase.lookup else {
        // Notes: list each conversation's notes once.
        let mut by_conv: HashMap<&str, Vec<&str>> = HashMap::new();
        for (src, conv) in items {
            by_conv.entry(conv).or_default().push(src);
        }
        for (conv, srcs) in by_conv {
            let notes = all_pages(&cx.client, &format!("/v1/conversations/{conv}/notes")).await?;
            for n in notes {
                let ext = n["attributes"]["externalId"].as_str().unwrap_or("");
                if srcs.contains(&ext) {
                    if let Some(id) = n["id"].as_str() {
                        found.push((ext.to_string(), id.to_string()));
                    }
                }
            }
        }
        return Ok(found);
    };
    for (src, ext) in items {
        let enc: String = url::form_urlencoded::byte_serialize(ext.as_bytes()).collect();
        let path = if lookup.matches("{}").count() == 2 {
            // Klass-scoped: the klass name is the row's path_arg, which
            // the in-doubt item does not carry; the key is `klass/ext`.
            let (klass, e) = ext.split_once('/').unwrap_or(("", ext));
            let e: String = url::form_urlencoded::byte_serialize(e.as_bytes()).collect();
            lookup.replacen("{}", klass, 1).replacen("{}", &e, 1)
        } else {
            lookup.replace("{}", &enc)
        };
        match cx.client.get_json(&path).await {
            Ok(v) => {
                let rec = if v["data"].is_array() {
                    v["data"][0].clone()
                } else {
                    v["data"].clone()
                };
                if let Some(id) = rec["id"].as_str() {
                    found.push((src.clone(), id.to_string()));
                }
            }
            Err(FerryError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Every record of a paged list (`links.next` until null).
pub async fn all_pages(client: &ApiClient, path: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    for page in 1.. {
        let v = client
            .get_json(&format!("{path}{sep}page={page}&pageSize=100"))
            .await?;
        let list = v["data"].as_array().cloned().unwrap_or_default();
        let more = !v["links"]["next"].is_null() && !list.is_empty();
        out.extend(list);
        if !more {
            break;
        }
    }
    Ok(out)
}

/// Matches an agent to the Kustomer user with their email. No match is,
/// with `unmatched_agents = "create"`, `POST /v1/users` (in Kustomer's
/// notes, not in the published Core Resources spec: `ferry probe` names
/// it), else a hold (no HTTP status): re-tried at every load, so inviting
/// the agent and loading again fixes it.
async fn user_match(
    client: &ApiClient,
    s: &Settings,
    users: &Users,
    row: &Row,
) -> Result<RowResult> {
    let map = users.get_or_try_init(|| all_users(client)).await?;
    let email = row.external_id.clone().unwrap_or_default().to_lowercase();
    if let Some(id) = map.get(&email) {
        return Ok(Ok(id.clone()));
    }
    if s.unmatched_agents != super::settings::UnmatchedAgents::Create {
        return Ok(Err((
            None,
            format!("{HELD_BY_DESTINATION}no Kustomer user has the email {email}: invite them in Kustomer (Settings → Users) or set destination.unmatched_agents = \"create\", and run `ferry load` again; until then their messages follow destination.unmatched_agents"),
        )));
    }
    created_id(client, "/v1/users", &row.payload).await
}

/// `POST` of a row's payload; the new record's id, or the refusal.
async fn created_id(client: &ApiClient, path: &str, payload: &str) -> Result<RowResult> {
    match client
        .send(
            Method::POST,
            path,
            Some(Payload::JsonText(payload)),
            Lane::Standard,
        )
        .await
    {
        Ok(r) => {
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            Ok(match v["data"]["id"].as_str() {
                Some(id) => Ok(id.to_string()),
                None => Err((None, "the response carried no id".into())),
            })
        }
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// Every Kustomer user, email (lower case) → id.
pub async fn all_users(client: &ApiClient) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for u in all_pages(client, "/v1/users").await? {
        if let (Some(e), Some(id)) = (u["attributes"]["email"].as_str(), u["id"].as_str()) {
            out.insert(e.to_lowercase(), id.to_string());
        }
    }
    Ok(out)
}

/// `PUT /v1/metadata/{resource}` with one attribute; the id recorded is
/// `resource.name` (metadata has no id of its own). PUT merges, so a
/// resend is harmless.
async fn metadata(client: &ApiClient, row: &Row) -> Result<String> {
    let resource = row.path_arg.as_deref().unwrap_or("");
    client
        .send(
            Method::PUT,
            &format!("/v1/metadata/{resource}"),
            Some(Payload::JsonText(&row.payload)),
            Lane::Standard,
        )
        .await?;
    Ok(format!(
        "{resource}.{}",
        row.external_id.as_deref().unwrap_or("")
    ))
}

/// Snoozes a loaded conversation (its id is the row's path_arg); a resend
/// sets the same snooze again.
async fn snooze(client: &ApiClient, phase: &Phase, row: &Row) -> Result<String> {
    client
        .send(
            Method::PUT,
            &path_of(phase, row),
            Some(Payload::JsonText(&row.payload)),
            Lane::Standard,
        )
        .await?;
    Ok(row.path_arg.clone().unwrap_or_default())
}

/// A klass by name: the existing one (an admin made it, or a rerun), else
/// created.
async fn klass(client: &ApiClient, row: &Row) -> Result<String> {
    let name = row.external_id.clone().unwrap_or_default();
    if let Some(id) = klass_named(client, &name).await? {
        return Ok(id);
    }
    let r = client
        .send(
            Method::POST,
            "/v1/klasses",
            Some(Payload::JsonText(&row.payload)),
            Lane::Standard,
        )
        .await?;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Ok(v["data"]["id"].as_str().unwrap_or_default().to_string())
}

/// An Intercom team: the Kustomer team of the same name (case-blind; an
/// admin may have made it, and it is left as it is), else — with
/// `teams = "create"` — `POST /v1/teams` (kustomer-api.md lists the write;
/// the published Core Resources spec has no teams, so `ferry probe`
/// names it), else held until an admin makes it.
async fn team(client: &ApiClient, s: &Settings, row: &Row) -> Result<RowResult> {
    let name = row.external_id.clone().unwrap_or_default();
    // Listed again per team (teams are few): two Intercom teams of one
    // name then share the Kustomer team the first created.
    let all = all_pages(client, "/v1/teams").await?;
    let found = all.iter().find(|t| {
        t["attributes"]["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name.trim()))
    });
    if let Some(id) = found.and_then(|t| t["id"].as_str()) {
        return Ok(Ok(id.to_string()));
    }
    if s.teams == super::settings::Teams::Hold {
        return Ok(Err((
            None,
            format!("{HELD_BY_DESTINATION}no Kustomer team is named {name:?}: create it in Kustomer (Settings → Teams) or set destination.teams = \"create\", and run `ferry load` again"),
        )));
    }
    created_id(client, "/v1/teams", &row.payload).await
}

/// The id of the klass called `name`, if the org has it.
pub async fn klass_named(client: &ApiClient, name: &str) -> Result<Option<String>> {
    let all = all_pages(client, "/v1/klasses").await?;
    Ok(all
        .iter()
        .find(|k| k["attributes"]["name"] == name)
        .and_then(|k| k["id"].as_str().map(str::to_string)))
}

/// Kustomer's upload flow: `POST /v1/attachments` with the name, type and
/// length gives the record and an S3 presigned POST (`meta.upload.url`,
/// `fields`); the bytes go there as `file` after the fields (S3 reads the
/// file as the last part), with no credentials (another host).
async fn upload(cx: &LoadCtx, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let sha = v["sha256"].as_str().unwrap_or("");
    let file = crate::land::attachment_path(&cx.ws, sha);
    let bytes = std::fs::read(&file)
        .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
    let name = v["name"].as_str().unwrap_or("attachment");
    let ctype = v["contentType"]
        .as_str()
        .unwrap_or("application/octet-stream");
    let create =
        serde_json::json!({"name": name, "contentType": ctype, "contentLength": bytes.len()});
    let r = cx
        .client
        .send(
            Method::POST,
            "/v1/attachments",
            Some(Payload::Json(&create)),
            Lane::Standard,
        )
        .await?;
    let a: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let id = a["data"]["id"].as_str().unwrap_or_default().to_string();
    let url = a["meta"]["upload"]["url"].as_str().unwrap_or_default();
    if id.is_empty() || url.is_empty() {
        return Err(FerryError::Http {
            api: "Kustomer".into(),
            status: 502,
            url: cx.client.url("/v1/attachments"),
            body: "the attachment answer carried no id or upload URL".into(),
        });
    }
    let fields: Vec<(String, String)> = a["meta"]["upload"]["fields"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
        .collect();
    let parts: Vec<Field<'_>> = fields
        .iter()
        .map(|(k, v)| Field {
            name: k,
            value: v,
            content_type: None,
        })
        .collect();
    let (content_type, body) = form(&parts, "file", name, ctype, &bytes);
    cx.client.post_elsewhere(url, &content_type, &body).await?;
    Ok(id)
}
