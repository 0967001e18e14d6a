//! `ferry rollback`: deletes what a batch, a run or the whole migration
//! created in Zendesk, found through `ferry_id_map`, in reverse dependency
//! order. Agents are never deleted: they are matched to existing seats.

use std::sync::{Arc, Mutex};

use duckdb::{params, Connection};
use reqwest::Method;

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

fn where_clause(scope: &Scope) -> (String, Option<String>) {
    match scope {
        Scope::Batch(b) => ("batch_id = ?".into(), Some(b.clone())),
        Scope::Run(r) => ("batch_id LIKE ? || '-%'".into(), Some(r.clone())),
        Scope::All => ("true".into(), None),
    }
}

fn rows(
    conn: &Connection,
    phase: &str,
    scope: &Scope,
) -> Result<Vec<(String, String, Option<String>)>> {
    let (cond, arg) = where_clause(scope);
    // Records need their object key: it is the custom object's id map entry
    // reached through the output table.
    let sql = format!(
        "SELECT m.source_id, m.dest_id, r.object_key FROM ferry_id_map m
         LEFT JOIN (SELECT source_id, object_key FROM out_zendesk_custom_object_records) r
           ON m.dest_object = 'custom_object_records' AND r.source_id = m.source_id
         WHERE m.dest = 'zendesk' AND m.dest_object = ? AND {cond} ORDER BY m.dest_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let map = |r: &duckdb::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
    let out = match arg {
        Some(a) => stmt
            .query_map(params![phase, a], map)?
            .collect::<std::result::Result<Vec<_>, _>>()?,
        None => stmt
            .query_map(params![phase], map)?
            .collect::<std::result::Result<Vec<_>, _>>()?,
    };
    Ok(out)
}

/// Deletes and forgets; returns (phase, deleted) counts.
pub async fn run(
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    scope: Scope,
) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
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
                    client
                        .send(
                            Method::DELETE,
                            &format!("{path}{}", ids.join(",")),
                            None,
                            Lane::Standard,
                        )
                        .await?;
                    done.extend(chunk.iter().map(|r| r.0.clone()));
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
                for chunk in follow_ups.chunks(100) {
                    client
                        .send(
                            Method::DELETE,
                            &format!("/api/v2/tickets/destroy_many?ids={}", chunk.join(",")),
                            None,
                            Lane::Standard,
                        )
                        .await?;
                }
                done.extend(
                    list.iter()
                        .filter(|r| !tickets.contains(&r.1))
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
    Ok(out)
}
