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
//! - Users are updated one `PUT /api/v2/users/{id}` each (Update User:
//!   no bulk import needed); a user ferry matched instead of created only
//!   as `existing_users` allows (`users.rs`); organizations by
//!   `PUT /api/v2/organizations/{id}`.
//! - Tags are added with `PUT /api/v2/tickets/{id}/tags` (Tags API "Add
//!   Tags" is the PUT, "Set Tags", which replaces them, the POST: as the
//!   clients generated from those docs call them, fprimex/zdesk-cli
//!   `zdesk_user_tags_update.sh` / `zdesk_user_tag_create.sh`), a ticket is
//!   deleted with `DELETE /api/v2/tickets/{id}` (kept 30 days in deleted
//!   tickets).

use reqwest::Method;
use serde_json::{json, Value};

use super::settings::{DeletedInSource, ExistingUsers, DELETED_TAG};
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
    existing: ExistingUsers,
) -> Result<Vec<ChangeResult>> {
    // Users and agents: one Update User each, never to a user ferry
    // matched rather than created (unless existing_users allows it).
    if phase.call.custom == Some(super::phases::USERS) {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(match r.kind {
                ChangeKind::Changed => update_user(cx, phase, r, existing).await?,
                ChangeKind::Deleted => Ok(Applied::not_applied(
                    "leave",
                    "ferry never deletes a Zendesk user whose source record is gone",
                )),
            });
        }
        return Ok(out);
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

/// A changed person: `PUT /api/v2/users/{id}` with the changed fields,
/// without a role for a user ferry matched. A matched admin or agent is
/// never updated; a matched end user only under `existing_users =
/// "update"`.
async fn update_user(
    cx: &LoadCtx,
    phase: &Phase,
    r: &ChangeRow,
    existing: ExistingUsers,
) -> Result<ChangeResult> {
    let (db, object, source_id) = (cx.db.clone(), phase.name, r.source_id.clone());
    let matched: Option<(String, String)> = crate::load::blocking(move || {
        let db = db.lock().unwrap();
        let mut stmt = db.prepare(
            "SELECT coalesce(dest_role, ''), action FROM ferry_matched
             WHERE dest = 'zendesk' AND dest_object = ? AND source_id = ?",
        )?;
        let mut rows = stmt.query(duckdb::params![object, source_id])?;
        Ok(match rows.next()? {
            Some(row) => Some((row.get(0)?, row.get(1)?)),
            None => None,
        })
    })
    .await?;
    let mut fields: Value = serde_json::from_str(&r.payload).unwrap_or_default();
    if let Some((role, _)) = &matched {
        if role != "end-user" {
            return Ok(Ok(Applied::not_applied(
                "leave",
                format!("an existing Zendesk {role} ferry matched: never changed"),
            )));
        }
        if existing != ExistingUsers::Update {
            return Ok(Ok(Applied::not_applied(
                "leave",
                "an existing Zendesk end user ferry matched: left as it is (existing_users is not \"update\")",
            )));
        }
        if let Some(o) = fields.as_object_mut() {
            for k in ["role", "email"] {
                o.remove(k);
            }
        }
    }
    if let Some(o) = fields.as_object_mut() {
        // Flags of a create, not fields of a user.
        for k in ["verified", "skip_verify_email"] {
            o.remove(k);
        }
    }
    let body = json!({ "user": super::send::without_nulls(fields) });
    match cx
        .client
        .send(
            Method::PUT,
            &format!("/api/v2/users/{}", r.dest_id),
            Some(Payload::Json(&body)),
            Lane::Standard,
        )
        .await
    {
        Ok(_) => Ok(Ok(Applied::done("update"))),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
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
    // The official spec types a ticket's `assignee_id` and `group_id`
    // (and an organization's fields) as values, never null, and documents
    // no way to empty them: a field the source emptied is left as it is,
    // and the change record says so.
    let fields: Value = serde_json::from_str(&r.payload).unwrap_or_default();
    let emptied: Vec<String> = fields
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    let body = json!({ key: super::send::without_nulls(fields) });
    match cx
        .client
        .send(Method::PUT, &path, Some(Payload::Json(&body)), Lane::Standard)
        .await
    {
        Ok(_) if emptied.is_empty() => Ok(Ok(Applied::done("update"))),
        Ok(_) => Ok(Ok(Applied {
            action: "update".into(),
            applied: true,
            detail: Some(format!(
                "empty in the source, left as they are in Zendesk (the API takes no null for them): {}",
                emptied.join(", ")
            )),
        })),
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
        // The comment sends only what is set (body or html_body).
        let comment = super::send::without_nulls(v["comment"].clone());
        let body = json!({"ticket": {"comment": comment, "status": v["status"]}});
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
    // A new ticket: nothing null where the spec types a value.
    let body = super::send::without_nulls(body);
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
