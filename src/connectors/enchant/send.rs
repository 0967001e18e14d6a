//! Request shapes for Enchant: one request per row, in row order (a
//! ticket's messages must arrive in the thread's order), and how an
//! in-doubt row is found again without external ids.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use super::phases::{TICKET_PATCH, USER_MATCH};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::{BatchKind, Phase};
use crate::load::{LoadCtx, Row, RowResult};

/// Pages of recent tickets searched for an in-doubt ticket's marker.
const RECENT_PAGES: u32 = 5;

/// The marker ferry writes into every ticket's header note and every
/// message: a crashed run finds what it sent by it.
pub fn marker(source_id: &str) -> String {
    format!("[ferry {source_id}]")
}

/// Sends one batch of `phase`, row after row.
pub async fn batch(
    cx: &LoadCtx,
    phase: &'static Phase,
    rows: &[Row],
    users: &tokio::sync::OnceCell<HashMap<String, String>>,
) -> Result<Vec<RowResult>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if phase.call.custom == Some(USER_MATCH) {
            out.push(user_match(&cx.client, users, row).await?);
            continue;
        }
        let res = match phase.call.custom {
            Some(TICKET_PATCH) => {
                let path = phase
                    .call
                    .path
                    .replace("{}", row.path_arg.as_deref().unwrap_or(""));
                send_json(&cx.client, Method::PATCH, &path, &row.payload)
                    .await
                    .map(|_| row.path_arg.clone().unwrap_or_default())
            }
            _ if phase.batch == BatchKind::FileUpload => upload(cx, row).await,
            _ => create(&cx.client, phase, row).await,
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

async fn send_json(client: &ApiClient, method: Method, path: &str, body: &str) -> Result<Value> {
    let r = client
        .send(method, path, Some(Payload::JsonText(body)), Lane::Standard)
        .await?;
    Ok(serde_json::from_slice(&r.body).unwrap_or(Value::Null))
}

/// A POST of the row's payload; the created object's `id`. Looks first
/// when the phase says the destination would take a duplicate.
async fn create(client: &ApiClient, phase: &Phase, row: &Row) -> Result<String> {
    if phase.existing.is_some_and(|e| e.before_create) {
        if let Some(id) = find_existing(client, phase, row.external_id.as_deref()).await? {
            return Ok(id);
        }
    }
    let path = phase
        .call
        .path
        .replace("{}", row.path_arg.as_deref().unwrap_or(""));
    let body = without_nulls(&row.payload);
    let v = send_json(client, Method::POST, &path, &body).await?;
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// The record the phase's `existing` lookup finds for `key` (a bare-array
/// list answer), if any.
async fn find_existing(
    client: &ApiClient,
    phase: &Phase,
    key: Option<&str>,
) -> Result<Option<String>> {
    let (Some(ex), Some(key)) = (phase.existing, key.filter(|k| !k.is_empty())) else {
        return Ok(None);
    };
    let enc: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    let v = client.get_json(&ex.path.replace("{}", &enc)).await?;
    Ok(v.as_array()
        .and_then(|l| l.first())
        .and_then(|c| c["id"].as_str())
        .map(str::to_string))
}

/// Matches an agent to the Enchant user with their email. No match is a
/// failure without HTTP status: re-tried on every load, so inviting the
/// user in Enchant and loading again fixes it.
async fn user_match(
    client: &ApiClient,
    users: &tokio::sync::OnceCell<HashMap<String, String>>,
    row: &Row,
) -> Result<RowResult> {
    let map = users.get_or_try_init(|| all_users(client)).await?;
    let email = row.external_id.clone().unwrap_or_default().to_lowercase();
    Ok(match map.get(&email) {
        Some(id) => Ok(id.clone()),
        None => Err((
            None,
            format!("{}no Enchant user has the email {email}: invite them in Enchant (Settings → Users) and run `ferry load` again; until then their messages are authored by the fallback agent, with their name in the header", crate::load::HELD_BY_DESTINATION),
        )),
    })
}

/// Every Enchant user, email (lower case) → id, page by page.
pub async fn all_users(client: &ApiClient) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for page in 1.. {
        let v = client
            .get_json(&format!("/users?per_page=100&page={page}"))
            .await?;
        let list = v.as_array().cloned().unwrap_or_default();
        for u in &list {
            if let (Some(e), Some(id)) = (u["email"].as_str(), u["id"].as_str()) {
                out.insert(e.to_lowercase(), id.to_string());
            }
        }
        if list.len() < 100 {
            break;
        }
    }
    Ok(out)
}

/// `POST /attachments` with the bytes as base64 JSON.
async fn upload(cx: &LoadCtx, row: &Row) -> Result<String> {
    let v: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let sha = v["sha256"].as_str().unwrap_or("");
    let file = crate::land::attachment_path(&cx.ws, sha);
    let bytes = std::fs::read(&file)
        .map_err(|e| FerryError::io(format!("reading attachment {}", file.display()), e))?;
    let body = serde_json::json!({
        "name": v["name"],
        "type": v["type"],
        "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
    });
    let r = cx
        .client
        .send(
            Method::POST,
            "/attachments",
            Some(Payload::Json(&body)),
            Lane::Standard,
        )
        .await?;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// Finds the records of an in-doubt batch. `None`: the phase's rows are
/// safe to resend (a user match, a PATCH, an unattached upload).
pub async fn reconcile(
    cx: &LoadCtx,
    phase: &'static Phase,
    items: &[(String, String)],
) -> Result<Option<Vec<(String, String)>>> {
    let client = &cx.client;
    match phase.name {
        "customers" => {
            let mut found = Vec::new();
            for (src, email) in items {
                if let Some(id) = find_existing(client, phase, Some(email)).await? {
                    found.push((src.clone(), id));
                }
            }
            Ok(Some(found))
        }
        "tickets" => tickets_by_marker(client, items).await.map(Some),
        "messages" | "kobject_notes" => {
            // external id = the ticket's Enchant id.
            let mut by_ticket: HashMap<&str, Vec<&str>> = HashMap::new();
            for (src, ticket) in items {
                by_ticket.entry(ticket).or_default().push(src);
            }
            let mut found = Vec::new();
            for (ticket, srcs) in by_ticket {
                let msgs = ticket_messages(client, ticket).await?;
                for src in srcs {
                    if let Some(id) = message_with(&msgs, src) {
                        found.push((src.to_string(), id));
                    }
                }
            }
            Ok(Some(found))
        }
        _ => Ok(None),
    }
}

/// A ticket's messages (`embed=messages`: the only way the API lists them).
pub async fn ticket_messages(client: &ApiClient, ticket: &str) -> Result<Vec<Value>> {
    match client
        .get_json(&format!("/tickets/{ticket}?embed=messages"))
        .await
    {
        Ok(v) => Ok(v["messages"].as_array().cloned().unwrap_or_default()),
        Err(FerryError::Http { status: 404, .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The id of the message whose body carries `src`'s marker.
pub fn message_with(msgs: &[Value], src: &str) -> Option<String> {
    let m = marker(src);
    msgs.iter()
        .find(|x| x["body"].as_str().is_some_and(|b| b.contains(&m)))
        .and_then(|x| x["id"].as_str().map(str::to_string))
}

/// In-doubt tickets (external id = their customer's Enchant id): the most
/// recent tickets of those customers whose header note has the marker.
async fn tickets_by_marker(
    client: &ApiClient,
    items: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let customers: HashSet<&str> = items.iter().map(|(_, c)| c.as_str()).collect();
    let mut found = Vec::new();
    let mut left: HashSet<&str> = items.iter().map(|(s, _)| s.as_str()).collect();
    for page in 1..=RECENT_PAGES {
        let v = client
            .get_json(&format!(
                "/tickets?sort=-created_at&per_page=100&page={page}"
            ))
            .await?;
        let list = v.as_array().cloned().unwrap_or_default();
        for t in &list {
            let (Some(id), Some(c)) = (t["id"].as_str(), t["customer_id"].as_str()) else {
                continue;
            };
            if !customers.contains(c) || left.is_empty() {
                continue;
            }
            let msgs = ticket_messages(client, id).await?;
            let hit = left
                .iter()
                .copied()
                .find(|src| message_with(&msgs, src).is_some());
            if let Some(src) = hit {
                left.remove(src);
                found.push((src.to_string(), id.to_string()));
            }
        }
        if list.len() < 100 || left.is_empty() {
            break;
        }
    }
    Ok(found)
}

/// A create body without its null fields (nor those of its `messages`):
/// the SQL writes every key, but Enchant's create schemas type them as
/// plain strings, where a null is not a value.
fn without_nulls(payload: &str) -> String {
    fn strip(v: &mut Value) {
        if let Some(o) = v.as_object_mut() {
            o.retain(|_, x| !x.is_null());
            if let Some(Value::Array(ms)) = o.get_mut("messages") {
                ms.iter_mut().for_each(strip);
            }
        }
    }
    match serde_json::from_str::<Value>(payload) {
        Ok(mut v) => {
            strip(&mut v);
            v.to_string()
        }
        Err(_) => payload.to_string(),
    }
}
