//! Reading back from Zendesk what ferry loaded, for `ferry verify`: counts,
//! existence of every created id, and full tickets with their comments and
//! attachment bytes. GETs only; they share the loader's rate limiter.

use std::path::Path;

use serde_json::Value;

use crate::error::{FerryError, Result};
use crate::http::ApiClient;

async fn get_json(client: &ApiClient, path: &str) -> Result<Value> {
    client.get_json(path).await
}

/// `GET /api/v2/{object}/count` (organizations, users, tickets).
pub async fn count(client: &ApiClient, object: &str) -> Result<u64> {
    let v = get_json(client, &format!("/api/v2/{object}/count")).await?;
    v["count"]["value"].as_u64().ok_or_else(|| {
        FerryError::Other(format!(
            "Zendesk /api/v2/{object}/count: no count.value in the answer"
        ))
    })
}

/// The ids among `ids` that `show_many` does not return (deleted or never
/// created), 100 per request.
pub async fn missing(client: &ApiClient, object: &str, ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(100) {
        let v = get_json(
            client,
            &format!("/api/v2/{object}/show_many?ids={}", chunk.join(",")),
        )
        .await?;
        let found: std::collections::HashSet<String> = v[object]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_u64().map(|i| i.to_string()))
            .collect();
        out.extend(chunk.iter().filter(|i| !found.contains(*i)).cloned());
    }
    Ok(out)
}

/// A ticket, or None when Zendesk answers 404.
pub async fn ticket(client: &ApiClient, id: &str) -> Result<Option<Value>> {
    match get_json(client, &format!("/api/v2/tickets/{id}")).await {
        Ok(v) => Ok(Some(v["ticket"].clone())),
        Err(FerryError::Http { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The follow-up tickets of a closed ticket (`followup_ids`), and theirs,
/// oldest first.
pub async fn follow_ups(client: &ApiClient, ticket: &Value) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut queue: Vec<String> = ids_of(&ticket["followup_ids"]);
    while let Some(id) = queue.first().cloned() {
        queue.remove(0);
        if out.contains(&id) {
            continue;
        }
        if let Some(t) = self::ticket(client, &id).await? {
            queue.extend(ids_of(&t["followup_ids"]));
        }
        out.push(id);
    }
    Ok(out)
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_u64().map(|n| n.to_string()))
        .collect()
}

/// All comments of a ticket, oldest first, following `next_page`.
pub async fn comments(client: &ApiClient, id: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut next = Some(format!("/api/v2/tickets/{id}/comments"));
    while let Some(path) = next {
        let v = get_json(client, &path).await?;
        out.extend(v["comments"].as_array().cloned().unwrap_or_default());
        next = v["next_page"].as_str().map(str::to_string);
    }
    Ok(out)
}

/// Users by id.
pub async fn users(client: &ApiClient, ids: &[String]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(100) {
        let v = get_json(
            client,
            &format!("/api/v2/users/show_many?ids={}", chunk.join(",")),
        )
        .await?;
        out.extend(v["users"].as_array().cloned().unwrap_or_default());
    }
    Ok(out)
}

/// SHA-256 and size of an attachment's bytes. `content_url` points at the
/// account's own host, so only its path is used, relative to the API base.
pub async fn attachment_digest(
    client: &ApiClient,
    content_url: &str,
    tmp: &Path,
) -> Result<(String, u64)> {
    let path = match url::Url::parse(content_url) {
        Ok(u) => format!(
            "{}{}",
            u.path(),
            u.query().map(|q| format!("?{q}")).unwrap_or_default()
        ),
        Err(_) => content_url.to_string(),
    };
    let res = client.download(&path, tmp).await;
    let _ = std::fs::remove_file(tmp);
    res
}

/// Records for verify's content comparison, by id: `users`,
/// `organizations` and `tickets` through `show_many` (100 ids a request),
/// `custom_object_records/<key>` through the records list filtered by id
/// (`filter[ids]`, openapi ListCustomObjectRecords; cursor pages of 100).
pub async fn records(
    client: &ApiClient,
    object: &str,
    ids: &[String],
) -> Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let (path, key) = match object.split_once('/') {
        Some(("custom_object_records", key)) => (format!("/api/v2/custom_objects/{key}/records"), "custom_object_records"),
        None if matches!(object, "users" | "organizations" | "tickets") => (format!("/api/v2/{object}/show_many"), object),
        _ => {
            return Err(FerryError::Other(format!(
                "verify/fields.sql names a Zendesk object ferry cannot read back: {object} (users, organizations, tickets, custom_object_records/<key>)"
            )))
        }
    };
    for chunk in ids.chunks(100) {
        let mut next = Some(if key == "custom_object_records" {
            format!("{path}?filter[ids]={}&page[size]=100", chunk.join(","))
        } else {
            format!("{path}?ids={}", chunk.join(","))
        });
        while let Some(p) = next {
            let v = get_json(client, &p).await?;
            for r in v[key].as_array().into_iter().flatten() {
                let id = match &r["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push((id, r.clone()));
            }
            next = v["links"]["next"]
                .as_str()
                .filter(|_| v["meta"]["has_more"].as_bool().unwrap_or(false))
                .map(str::to_string);
        }
    }
    Ok(out)
}
