//! Zendesk's side of a delta load (cutover): how a change to a record
//! loaded earlier is applied, and how a new comment reaches a ticket that
//! was imported before it was written.
//!
//! The rules, from Zendesk's documentation:
//! - A ticket update (`PUT /api/v2/tickets/{id}`) sets status, priority,
//!   tags, assignee, group and custom fields, and adds one `comment`
//!   (`body` or `html_body`, `author_id`, `public`) per request. It cannot
//!   set a comment's `created_at`: the route's SQL puts the original time
//!   at the head of the body. (Tickets API, "Update Ticket"; "Creating and
//!   updating tickets", developer.zendesk.com.)
//! - A closed ticket cannot be updated: 422 `RecordInvalid` with "Status:
//!   closed prevents ticket update" (the error body quoted in
//!   Speedygeek/ZendeskApi_v2#59). New messages go to a follow-up ticket
//!   instead: `POST /api/v2/tickets` with `via_followup_source_id` = the
//!   closed ticket ("Creating a follow-up ticket": the parameter only works
//!   with closed tickets; the first comment's author may be set with
//!   `author_id`; a follow-up inherits the parent's tags unless tags are
//!   given). The closed ticket's `followup_ids` lists it.
//! - Users are updated by the same `create_or_update_many` job that created
//!   them (matched by external id or email); organizations by
//!   `PUT /api/v2/organizations/{id}`.
//! - Tags are added with `PUT /api/v2/tickets/{id}/tags` (Tags API "Add
//!   Tags" is the PUT, "Set Tags", which replaces them, the POST: as the
//!   clients generated from those docs call them, fprimex/zdesk-cli
//!   `zdesk_user_tags_update.sh` / `zdesk_user_tag_create.sh`), a ticket is
//!   deleted with `DELETE /api/v2/tickets/{id}` (kept 30 days in deleted
//!   tickets).

use reqwest::Method;
use serde_json::{json, Value};

use super::settings::{DeletedInSource, DELETED_TAG};
use crate::error::{FerryError, Result};
use crate::http::{Lane, Payload};
use crate::load::changes::{Applied, ChangeKind, ChangeResult, ChangeRow};
use crate::load::phase::Phase;
use crate::load::{LoadCtx, Row, RowResult};

/// Whether a 422 says the ticket is closed (read-only).
pub fn closed(body: &str) -> bool {
    body.contains("closed prevents ticket update")
}

/// What a closed ticket's field change becomes.
fn skip_closed() -> Applied {
    Applied::not_applied(
        "skip_closed",
        "the Zendesk ticket is closed, so read-only: its fields cannot change (new messages go to a follow-up ticket)",
    )
}

/// Applies one batch of changes of `phase`.
pub async fn send_changes(
    cx: &LoadCtx,
    phase: &'static Phase,
    rows: &[ChangeRow],
    deleted: DeletedInSource,
) -> Result<Vec<ChangeResult>> {
    // Users and agents: the job that created them updates them too.
    if phase.call.path.ends_with("/users/create_or_update_many")
        && rows.iter().all(|r| r.kind == ChangeKind::Changed)
    {
        let as_rows: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                source_id: r.source_id.clone(),
                external_id: None,
                hold: None,
                payload: r.payload.clone(),
                path_arg: None,
                members: Vec::new(),
            })
            .collect();
        let results =
            super::send::bulk(&cx.client, phase.call.path, phase.call.key, &as_rows).await?;
        return Ok(results
            .into_iter()
            .map(|r| r.map(|_| Applied::done("update")))
            .collect());
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(match r.kind {
            ChangeKind::Changed => update(cx, phase, r).await?,
            ChangeKind::Deleted => delete(cx, phase, r, deleted).await?,
        });
    }
    Ok(out)
}

/// `PUT {object}/{id}` with the changed fields.
async fn update(cx: &LoadCtx, phase: &Phase, r: &ChangeRow) -> Result<ChangeResult> {
    let (path, key) = match phase.name {
        "organizations" => (
            format!("/api/v2/organizations/{}", r.dest_id),
            "organization",
        ),
        "tickets" => (format!("/api/v2/tickets/{}", r.dest_id), "ticket"),
        other => {
            return Ok(Ok(Applied::not_applied(
                "leave",
                format!("ferry does not update Zendesk {other} after creation"),
            )))
        }
    };
    let body = format!("{{\"{key}\":{}}}", r.payload);
    match cx
        .client
        .send(
            Method::PUT,
            &path,
            Some(Payload::JsonText(&body)),
            Lane::Standard,
        )
        .await
    {
        Ok(_) => Ok(Ok(Applied::done("update"))),
        Err(FerryError::Http {
            status: 422, body, ..
        }) if closed(&body) => Ok(Ok(skip_closed())),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// A ticket whose conversation left the source: the configured policy.
async fn delete(
    cx: &LoadCtx,
    phase: &Phase,
    r: &ChangeRow,
    policy: DeletedInSource,
) -> Result<ChangeResult> {
    if phase.name != "tickets" {
        return Ok(Ok(Applied::not_applied(
            "leave",
            "only tickets follow deleted_in_source",
        )));
    }
    let id = &r.dest_id;
    let res = match policy {
        DeletedInSource::Leave => {
            return Ok(Ok(Applied::not_applied(
                "leave",
                "deleted_in_source = \"leave\": the ticket stays as it is",
            )))
        }
        DeletedInSource::Tag => {
            let body = json!({"tags": [DELETED_TAG]});
            cx.client
                .send(
                    Method::PUT,
                    &format!("/api/v2/tickets/{id}/tags"),
                    Some(Payload::Json(&body)),
                    Lane::Standard,
                )
                .await
                .map(|_| Applied::done("tag"))
        }
        DeletedInSource::Delete => cx
            .client
            .send(
                Method::DELETE,
                &format!("/api/v2/tickets/{id}"),
                None,
                Lane::Standard,
            )
            .await
            .map(|_| Applied::done("delete")),
    };
    match res {
        Ok(a) => Ok(Ok(a)),
        Err(FerryError::Http {
            status: 422, body, ..
        }) if closed(&body) => Ok(Ok(Applied::not_applied(
            "skip_closed",
            "the Zendesk ticket is closed, so read-only: it cannot be tagged",
        ))),
        // Deleted already (by hand, or by a run whose answer was lost).
        Err(FerryError::Http { status: 404, .. }) if policy == DeletedInSource::Delete => {
            Ok(Ok(Applied::done("delete")))
        }
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// What `--dry-run` says a deleted conversation's ticket gets.
pub fn deletion_action(policy: DeletedInSource) -> String {
    match policy {
        DeletedInSource::Leave => "leave (deleted_in_source = \"leave\")".into(),
        DeletedInSource::Tag => format!("PUT /api/v2/tickets/{{id}}/tags [{DELETED_TAG}]"),
        DeletedInSource::Delete => "DELETE /api/v2/tickets/{id}".into(),
    }
}

/// New comments of one ticket (a batch has one `path_arg`: the ticket, or
/// the follow-up its earlier delta comments went to), one update each, in
/// order. On a closed ticket the comment opens a follow-up ticket and the
/// rest of the batch goes there. The id recorded for a comment is the
/// ticket it is on.
pub async fn comments(cx: &LoadCtx, rows: &[Row]) -> Result<Vec<RowResult>> {
    let mut target = rows[0].path_arg.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let v: Value = serde_json::from_str(&row.payload).map_err(|e| {
            FerryError::Other(format!(
                "comment {}: payload is not JSON: {e}",
                row.source_id
            ))
        })?;
        // The source's status goes with the comment: Zendesk reopens a
        // solved ticket on an end user's public comment otherwise.
        let body = json!({"ticket": {"comment": v["comment"], "status": v["status"]}});
        let sent = cx
            .client
            .send(
                Method::PUT,
                &format!("/api/v2/tickets/{target}"),
                Some(Payload::Json(&body)),
                Lane::Standard,
            )
            .await;
        out.push(match sent {
            Ok(_) => Ok(target.clone()),
            Err(FerryError::Http {
                status: 422, body, ..
            }) if closed(&body) => match follow_up(cx, &target, &v).await? {
                Ok(id) => {
                    target = id.clone();
                    Ok(id)
                }
                Err(e) => Err(e),
            },
            Err(FerryError::Http { status, body, .. }) => Err((Some(status), body)),
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// A follow-up of closed ticket `closed_id` holding the comment.
async fn follow_up(cx: &LoadCtx, closed_id: &str, v: &Value) -> Result<RowResult> {
    // A new ticket starts at most solved; Zendesk's automation closes it.
    let status = match v["status"].as_str() {
        Some("closed") => json!("solved"),
        _ => v["status"].clone(),
    };
    let body = json!({"ticket": {
        "via_followup_source_id": closed_id.parse::<u64>().ok(),
        "requester_id": v["requester_id"],
        "subject": v["subject"],
        "external_id": v["external_id"],
        "comment": v["comment"],
        "status": status,
    }});
    match cx
        .client
        .send(
            Method::POST,
            "/api/v2/tickets",
            Some(Payload::Json(&body)),
            Lane::Standard,
        )
        .await
    {
        Ok(r) => {
            let id = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v["ticket"]["id"].as_u64());
            Ok(match id {
                Some(id) => Ok(id.to_string()),
                None => Err((None, "the follow-up ticket's answer carried no id".into())),
            })
        }
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// Comments of an in-doubt batch found on their ticket (or its follow-ups)
/// by the source id the body's header names. `items` carry
/// `"<ticket id>:<comment source id>"` as external id.
pub async fn reconcile_comments(
    cx: &LoadCtx,
    items: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    let mut tickets: Vec<&str> = items
        .iter()
        .filter_map(|(_, e)| e.split_once(':').map(|(t, _)| t))
        .collect();
    tickets.sort();
    tickets.dedup();
    for t in tickets {
        let ticket: Value = cx.client.get_json(&format!("/api/v2/tickets/{t}")).await?;
        let mut ids = vec![t.to_string()];
        for f in ticket["ticket"]["followup_ids"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(f) = f.as_u64() {
                ids.push(f.to_string());
            }
        }
        for id in ids {
            let mut next = Some(format!("/api/v2/tickets/{id}/comments"));
            while let Some(path) = next {
                let v: Value = cx.client.get_json(&path).await?;
                for c in v["comments"].as_array().into_iter().flatten() {
                    let text = c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("");
                    for (src, _) in items
                        .iter()
                        .filter(|(_, e)| e.starts_with(&format!("{t}:")))
                    {
                        if text.contains(&marker(src)) && !found.iter().any(|(s, _)| s == src) {
                            found.push((src.clone(), id.clone()));
                        }
                    }
                }
                next = super::send::next_page(&v);
            }
        }
    }
    Ok(found)
}

/// How a delta comment's header names its source record (the route's
/// `load/comments.sql` writes it).
pub fn marker(source_id: &str) -> String {
    format!("[ferry {source_id}]")
}
