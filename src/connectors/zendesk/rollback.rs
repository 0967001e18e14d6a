//! `ferry rollback`: deletes what a batch, a run or the whole migration
//! created in Zendesk, found through `ferry_id_map`, in reverse dependency
//! order. Agents are never deleted: they are matched to existing seats.
//! Users ferry matched rather than created (`ferry_matched`) are only
//! forgotten: they were the account's before the migration. A bulk delete
//! answers with a job; every job is polled to completion and an id whose
//! delete failed stays in `ferry_id_map`, named in the error.

use std::sync::{Arc, Mutex};

use duckdb::{params, Connection};
use reqwest::Method;
use serde_json::Value;

use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane};

pub use crate::connector::RollbackScope as Scope;

/// Phases in deletion order and how each is deleted.
const ORDER: &[(&str, Deletion)] = &[
    // Delta comments: the follow-up tickets they opened are deleted (and
    // their comments forgotten); a comment added to an imported ticket
    // cannot be deleted on its own (Zendesk only redacts comments): it
    // stays, recorded, and goes with its ticket.
    ("comments", Deletion::FollowUps),
    // Links are values of the records: they go with them.
    ("custom_object_links", Deletion::Forget),
    ("custom_object_records", Deletion::Record),
    ("custom_objects", Deletion::One("/api/v2/custom_objects/{}")),
    (
        "tickets",
        Deletion::Many("/api/v2/tickets/destroy_many?ids="),
    ),
    (
        "group_memberships",
        Deletion::One("/api/v2/group_memberships/{}"),
    ),
    ("ticket_fields", Deletion::One("/api/v2/ticket_fields/{}")),
    ("groups", Deletion::One("/api/v2/groups/{}")),
    // Identities are deleted with their users.
    ("identities", Deletion::Forget),
    ("users", Deletion::Many("/api/v2/users/destroy_many?ids=")),
    ("user_fields", Deletion::One("/api/v2/user_fields/{}")),
    (
        "organizations",
        Deletion::Many("/api/v2/organizations/destroy_many?ids="),
    ),
    (
        "organization_fields",
        Deletion::One("/api/v2/organization_fields/{}"),
    ),
    // Agents are existing seats: never deleted.
    ("uploads", Deletion::One("/api/v2/uploads/{}")),
];

#[derive(Debug, Clone, Copy)]
enum Deletion {
    Many(&'static str),
    One(&'static str),
    Record,
    Forget,
    FollowUps,
}

fn rows(
    conn: &Connection,
    phase: &str,
    scope: &Scope,
) -> Result<Vec<(String, String, Option<String>)>> {
    let (cond, arg) = scope.filter();
    // Records need their object key: it is the custom object's id map entry
    // reached through the output table.
    let sql = format!(
        "SELECT m.source_id, m.dest_id, r.object_key FROM ferry_id_map m
         LEFT JOIN (SELECT source_id, object_key FROM out_zendesk_custom_object_records) r
           ON m.dest_object = 'custom_object_records' AND r.source_id = m.source_id
         WHERE m.dest = 'zendesk' AND m.dest_object = ? AND {cond}
           AND NOT EXISTS (SELECT 1 FROM ferry_matched x WHERE x.dest = m.dest
                           AND x.dest_object = m.dest_object AND x.source_id = m.source_id AND x.dest_id = m.dest_id)
         ORDER BY m.dest_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let map = |r: &duckdb::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    let out = stmt
        .query_map(params![phase, arg], map)?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(out)
}

/// Users the scope linked to people the account already had: forgotten
/// (their id map rows go), never deleted. Returns how many.
fn forget_matched(conn: &mut Connection, scope: &Scope) -> Result<usize> {
    let (cond, arg) = scope.filter();
    let sql = format!(
        "DELETE FROM ferry_id_map m WHERE m.dest = 'zendesk' AND {cond}
           AND EXISTS (SELECT 1 FROM ferry_matched x WHERE x.dest = m.dest
                       AND x.dest_object = m.dest_object AND x.source_id = m.source_id AND x.dest_id = m.dest_id)"
    );
    Ok(conn.execute(&sql, params![arg])?)
}

/// Waits for a bulk delete's job and returns the ids whose delete failed,
/// with why (Job Statuses API: results `{id, action, success, status}`,
/// a failed one with `error`/`details`). A record already gone
/// (`RecordNotFound`) counts as deleted.
async fn deleted_by_job(client: &ApiClient, answer: &[u8]) -> Result<Vec<(String, String)>> {
    let v: Value = serde_json::from_slice(answer)
        .map_err(|e| FerryError::Other(format!("bulk delete: unreadable job answer: {e}")))?;
    let Some(id) = v["job_status"]["id"].as_str() else {
        return Err(FerryError::Other(
            "bulk delete: no job_status.id in the answer".into(),
        ));
    };
    let status = super::jobs::JobBoard::new(1)
        .wait(
            client,
            id,
            "for a delete; its records stay in ferry_id_map: rerun the rollback",
        )
        .await?;
    if status["job_status"]["status"] != "completed" {
        let why = status["job_status"]["message"]
            .as_str()
            .unwrap_or("the job did not complete")
            .to_string();
        return Ok(vec![(format!("job {id}"), why)]);
    }
    let mut failed = Vec::new();
    for r in status["job_status"]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let bad = r["success"] == Value::Bool(false)
            || r["status"] == "Failed"
            || r.get("error").is_some_and(|e| !e.is_null());
        let gone = r["error"] == "RecordNotFound";
        if bad && !gone {
            let why = format!(
                "{} {}",
                r["error"].as_str().unwrap_or("Failed"),
                r["details"].as_str().unwrap_or("")
            );
            failed.push((r["id"].to_string(), why.trim().to_string()));
        }
    }
    Ok(failed)
}

/// Deletes and forgets; returns (phase, deleted) counts.
pub async fn run(
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    scope: Scope,
) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    let forgotten = forget_matched(&mut db.lock().unwrap(), &scope)?;
    if forgotten > 0 {
        out.push(("matched users (kept)".to_string(), forgotten));
    }
    let mut failures: Vec<(String, String)> = Vec::new();
    for (phase, how) in ORDER {
        let list = rows(&db.lock().unwrap(), phase, &scope)?;
        if list.is_empty() {
            continue;
        }
        let mut done: Vec<String> = Vec::new();
        match how {
            Deletion::Many(path) => {
                for chunk in list.chunks(100) {
                    let ids: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
                    let answer = client
                        .send(
                            Method::DELETE,
                            &format!("{path}{}", ids.join(",")),
                            None,
                            Lane::Standard,
                        )
                        .await?;
                    let failed = deleted_by_job(&client, &answer.body).await?;
                    let whole_job = failed.iter().any(|(id, _)| id.starts_with("job "));
                    for r in chunk {
                        if !whole_job && !failed.iter().any(|(id, _)| *id == r.1) {
                            done.push(r.0.clone());
                        }
                    }
                    for (id, why) in failed {
                        tracing::warn!(phase, id, why, "a delete failed");
                        failures.push((format!("{phase} {id}"), why));
                    }
                }
            }
            Deletion::One(path) => {
                for r in &list {
                    match client
                        .send(
                            Method::DELETE,
                            &path.replace("{}", &r.1),
                            None,
                            Lane::Standard,
                        )
                        .await
                    {
                        Ok(_) | Err(FerryError::Http { status: 404, .. }) => done.push(r.0.clone()),
                        Err(e) => return Err(e),
                    }
                }
            }
            Deletion::Record => {
                for r in &list {
                    let key = r.2.clone().unwrap_or_default();
                    let path = format!("/api/v2/custom_objects/{key}/records/{}", r.1);
                    match client
                        .send(Method::DELETE, &path, None, Lane::Standard)
                        .await
                    {
                        Ok(_) | Err(FerryError::Http { status: 404, .. }) => done.push(r.0.clone()),
                        Err(e) => return Err(e),
                    }
                }
            }
            Deletion::Forget => done.extend(list.iter().map(|r| r.0.clone())),
            Deletion::FollowUps => {
                let tickets: std::collections::HashSet<String> = {
                    let conn = db.lock().unwrap();
                    let mut stmt = conn.prepare(
                        "SELECT dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'tickets'",
                    )?;
                    let ids = stmt
                        .query_map([], |r| r.get::<_, String>(0))?
                        .collect::<std::result::Result<_, _>>()?;
                    ids
                };
                let mut follow_ups: Vec<&str> = list
                    .iter()
                    .map(|r| r.1.as_str())
                    .filter(|d| !tickets.contains(*d))
                    .collect();
                follow_ups.sort();
                follow_ups.dedup();
                let kept = list.iter().filter(|r| tickets.contains(&r.1)).count();
                if kept > 0 {
                    // Forgetting them would make the next load send them again.
                    tracing::warn!(
                        kept,
                        "comments added to imported tickets stay in Zendesk (a comment cannot be deleted, only redacted) and stay in ferry_id_map"
                    );
                    eprintln!("note: {kept} comments added to imported tickets stay: Zendesk cannot delete a comment (only redact it); they stay in ferry_id_map so no load sends them again");
                }
                let mut failed_ids: Vec<String> = Vec::new();
                for chunk in follow_ups.chunks(100) {
                    let answer = client
                        .send(
                            Method::DELETE,
                            &format!("/api/v2/tickets/destroy_many?ids={}", chunk.join(",")),
                            None,
                            Lane::Standard,
                        )
                        .await?;
                    for (id, why) in deleted_by_job(&client, &answer.body).await? {
                        let all = id.starts_with("job ");
                        failed_ids.extend(if all {
                            chunk.iter().map(|c| c.to_string()).collect()
                        } else {
                            vec![id.clone()]
                        });
                        failures.push((format!("follow-up ticket {id}"), why));
                    }
                }
                done.extend(
                    list.iter()
                        .filter(|r| !tickets.contains(&r.1) && !failed_ids.contains(&r.1))
                        .map(|r| r.0.clone()),
                );
            }
        }
        let mut conn = db.lock().unwrap();
        let tx = conn.transaction()?;
        // The rows move to ferry_rolled_back: the id map says what exists
        // in the destination now, the trail says what existed.
        let ids = serde_json::to_string(&done).unwrap();
        tx.execute(
            "INSERT INTO ferry_rolled_back SELECT *, now() FROM ferry_id_map
             WHERE dest = 'zendesk' AND dest_object = ? AND source_id IN (SELECT unnest(from_json(?::VARCHAR, '[\"VARCHAR\"]')))",
            params![phase, ids],
        )?;
        tx.execute(
            "DELETE FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = ? AND source_id IN (SELECT unnest(from_json(?::VARCHAR, '[\"VARCHAR\"]')))",
            params![phase, ids],
        )?;
        tx.commit()?;
        out.push((phase.to_string(), done.len()));
    }
    if !failures.is_empty() {
        let first: Vec<String> = failures
            .iter()
            .take(5)
            .map(|(what, why)| format!("{what}: {why}"))
            .collect();
        return Err(FerryError::Other(format!(
            "{} deletes failed in Zendesk's jobs (first: {}); those records stay in ferry_id_map: fix the cause, then run the same rollback again",
            failures.len(),
            first.join("; ")
        )));
    }
    Ok(out)
}
