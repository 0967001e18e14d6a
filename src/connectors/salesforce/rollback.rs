//! `ferry rollback` for Salesforce: the scope's records are deleted in
//! reverse dependency order through sObject Collections (`DELETE
//! {data}/composite/sobjects?ids=…`, 200 ids a request); Salesforce moves
//! them to the Recycle Bin, where an admin can restore them for 15 days.
//! Deleting a Case deletes its EmailMessages and CaseComments with it; a
//! file is deleted through its ContentDocument (ContentVersion has no
//! delete call); a Queue (Group) takes its members and QueueSobjects.

use std::sync::{Arc, Mutex};

use duckdb::{params, Connection};
use reqwest::Method;
use serde_json::Value;

use crate::error::Result;
use crate::http::{ApiClient, Lane};

pub use crate::connector::RollbackScope as Scope;

fn ids(conn: &Connection, phase: &str, scope: &Scope) -> Result<Vec<String>> {
    let (cond, arg) = scope.filter();
    let sql = format!("SELECT dest_id FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = ? AND {cond} ORDER BY dest_id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![phase, arg], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// (ContentVersion id, its ContentDocument id) for the files; a version
/// already gone maps to itself (its delete then reports it deleted).
pub async fn documents(
    client: &ApiClient,
    data: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut doc = std::collections::HashMap::new();
    for chunk in ids.chunks(100) {
        let list = chunk
            .iter()
            .map(|i| super::soql::quote(i))
            .collect::<Vec<_>>()
            .join(",");
        let q = format!("SELECT Id, ContentDocumentId FROM ContentVersion WHERE Id IN ({list})");
        for r in super::soql::query_all(client, data, &q).await? {
            if let (Some(v), Some(d)) = (r["Id"].as_str(), r["ContentDocumentId"].as_str()) {
                doc.insert(v.to_string(), d.to_string());
            }
        }
    }
    Ok(ids
        .iter()
        .map(|i| (i.clone(), doc.get(i).cloned().unwrap_or_else(|| i.clone())))
        .collect())
}

/// Deletes the scope's records; returns (what, count) lines.
pub async fn run(
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    scope: Scope,
    data: String,
) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    // A record's links to other records are values of the record: they
    // are forgotten here, and go with the records deleted below.
    {
        let conn = db.lock().unwrap();
        for phase in ["custom_record_links", "case_record_links"] {
            let n = ids(&conn, phase, &scope)?.len();
            if n > 0 {
                let (cond, arg) = scope.filter();
                conn.execute(&format!("DELETE FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = '{phase}' AND {cond}"), params![arg])?;
                out.push((
                    "record links forgotten (they go with their records)".into(),
                    n,
                ));
            }
        }
    }
    // Links, assignments and queue members go with their document,
    // Case, Topic or Group; deleting them first still counts them (a
    // batch of only links is rolled back too).
    for phase in [
        "file_links",
        "files",
        "case_comments",
        "email_relations",
        "email_messages",
        "topic_assignments",
        "cases",
        "custom_records",
        "topics",
        "leads",
        "contacts",
        "accounts",
        "queue_members",
        "queue_sobjects",
        "queues",
    ] {
        let ids = ids(&db.lock().unwrap(), phase, &scope)?;
        // A ContentVersion cannot be deleted: its ContentDocument can, and
        // takes the version with it.
        let targets: Vec<(String, String)> = if phase == "files" {
            documents(&client, &data, &ids).await?
        } else {
            ids.iter().map(|i| (i.clone(), i.clone())).collect()
        };
        let mut deleted = 0;
        for chunk in targets.chunks(200) {
            let list: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
            let path = format!(
                "{data}/composite/sobjects?allOrNone=false&ids={}",
                list.join(",")
            );
            let r = client
                .send(Method::DELETE, &path, None, Lane::Standard)
                .await?;
            let results: Vec<Value> = serde_json::from_slice(&r.body).unwrap_or_default();
            let conn = db.lock().unwrap();
            for ((id, _), res) in chunk.iter().zip(results.iter()) {
                // Gone already (deleted with its Case, or by hand) counts as done.
                let gone = res["success"] == true
                    || res["errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|e| e["statusCode"] == "ENTITY_IS_DELETED");
                if gone {
                    conn.execute("DELETE FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = ? AND dest_id = ?", params![phase, id])?;
                    deleted += 1;
                }
            }
        }
        if deleted > 0 {
            out.push((format!("{phase} deleted (Recycle Bin)"), deleted));
        }
    }
    // Matched Users were never created: forgetting the match is enough.
    let conn = db.lock().unwrap();
    let n = ids(&conn, "agents", &scope)?.len();
    if n > 0 {
        let (cond, arg) = scope.filter();
        conn.execute(&format!("DELETE FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = 'agents' AND {cond}"), params![arg])?;
        out.push((
            "user matches forgotten (Users are never created or deleted)".into(),
            n,
        ));
    }
    Ok(out)
}
