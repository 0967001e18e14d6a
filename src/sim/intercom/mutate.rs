//! `POST /__sim/mutate {"kind": K, "count": N}`: the workspace changes as
//! teammates and customers change it while a migration runs, for cutover
//! tests. `reply`: a customer's new comment on a conversation; `close`: an
//! open conversation closed by an admin (a `close` part); `contact`: a
//! contact's name edited; `article`: a published Help Center article's
//! title and body edited by an admin (its default locale). Each moves the
//! record's `updated_at` to now and answers the ids it changed.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::SimState;

#[derive(serde::Deserialize)]
pub struct Mutate {
    kind: String,
    #[serde(default = "one")]
    count: usize,
}

fn one() -> usize {
    1
}

pub async fn mutate(State(st): State<Arc<SimState>>, Json(m): Json<Mutate>) -> Response {
    let now = chrono::Utc::now().timestamp();
    let mut guard = st.ws.write().unwrap();
    let mut w = (**guard).clone();
    let mut changed = Vec::new();
    for _ in 0..m.count {
        let n = st.next() as usize;
        match m.kind.as_str() {
            "reply" | "close" => {
                let open: Vec<usize> = (0..w.conversations.len())
                    .filter(|&i| m.kind == "reply" || w.conversations[i]["state"] != "closed")
                    .filter(|&i| w.conversations[i]["id"] != "2000001")
                    .collect();
                let Some(&i) = open.get(n * 7 % open.len().max(1)) else {
                    break;
                };
                let c = &mut w.conversations[i];
                let author = if m.kind == "reply" {
                    c["source"]["author"].clone()
                } else {
                    json!({"type": "admin", "id": c["teammates"]["teammates"][0]["id"]})
                };
                let part = json!({
                    "type": "conversation_part", "id": format!("{}", 190_000_000 + n),
                    "part_type": if m.kind == "reply" { "comment" } else { "close" },
                    "body": if m.kind == "reply" { json!(format!("<p>Follow-up {n} from the customer</p>")) } else { Value::Null },
                    "created_at": now, "updated_at": now, "notified_at": now, "assigned_to": null,
                    "author": author, "attachments": [], "external_id": null, "redacted": false,
                });
                if let Some(parts) = c["conversation_parts"]["conversation_parts"].as_array_mut() {
                    parts.push(part);
                }
                let total = c["conversation_parts"]["total_count"].as_i64().unwrap_or(0) + 1;
                c["conversation_parts"]["total_count"] = json!(total);
                c["statistics"]["count_conversation_parts"] = json!(total + 1);
                if m.kind == "close" {
                    c["state"] = json!("closed");
                    c["open"] = json!(false);
                    c["snoozed_until"] = Value::Null;
                }
                c["updated_at"] = json!(now);
                changed.push(c["id"].clone());
            }
            "contact" => {
                let live: Vec<usize> = (0..w.contacts.len())
                    .filter(|&i| !w.merged.iter().any(|id| w.contacts[i]["id"] == id.as_str()))
                    .collect();
                let Some(&i) = live.get(n * 5 % live.len().max(1)) else {
                    break;
                };
                let c = &mut w.contacts[i];
                c["name"] = json!(format!("Edited Person {n}"));
                c["updated_at"] = json!(now);
                changed.push(c["id"].clone());
            }
            "article" => {
                let published: Vec<usize> = (0..w.articles.len())
                    .filter(|&i| w.articles[i]["state"] == "published")
                    .collect();
                let Some(&i) = published.get(n * 3 % published.len().max(1)) else {
                    break;
                };
                let a = &mut w.articles[i];
                a["title"] = json!(format!(
                    "{} (revised {n})",
                    a["title"].as_str().unwrap_or("")
                ));
                a["body"] = json!(format!("<p>Revised steps, edition {n}</p>"));
                a["updated_at"] = json!(now);
                changed.push(a["id"].clone());
            }
            other => {
                return super::error(
                    axum::http::StatusCode::BAD_REQUEST,
                    "parameter_invalid",
                    &format!("kind {other}: one of reply, close, contact, article"),
                )
            }
        }
    }
    w.reindex();
    *guard = Arc::new(w);
    Json(json!({"changed": changed})).into_response()
}
