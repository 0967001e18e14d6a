//! `ferry rollback` for Kustomer: in reverse dependency order, KObjects
//! (`DELETE /v1/klasses/{name}/{id}`), notes (`DELETE /v1/notes/{id}`),
//! conversations (`DELETE /v1/conversations/{id}`; their messages go with
//! them: the spec has no message delete) and customers (`DELETE
//! /v1/customers/bulk?ids=`, 100 a request). Companies, files, klasses,
//! metadata and teams have no delete ferry may use (companies: none in
//! the spec; a klass, attribute or team may predate the migration): they
//! are reported as kept. Knowledge-base articles are soft-deleted (`PUT
//! {deleted: true}`: no DELETE exists); categories have no documented
//! delete and are kept.

use std::sync::{Arc, Mutex};

use duckdb::{params, Connection};
use reqwest::Method;

use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane};

pub use crate::connector::RollbackScope as Scope;

/// (source_id, dest_id) of a phase's records in the scope.
fn ids(conn: &Connection, phase: &str, scope: &Scope) -> Result<Vec<(String, String)>> {
    let (cond, arg) = scope.filter();
    let sql = format!(
        "SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = ? AND {cond} ORDER BY dest_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![phase, arg], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<std::result::Result<_, _>>()?;
    Ok(rows)
}

fn forget(conn: &Connection, phase: &str, dest_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = ? AND dest_id = ?",
        params![phase, dest_id],
    )?;
    Ok(())
}

async fn delete(client: &ApiClient, path: &str) -> Result<()> {
    match client
        .send(Method::DELETE, path, None, Lane::Standard)
        .await
    {
        Ok(_) | Err(FerryError::Http { status: 404, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Deletes what the scope created; returns (what, count) lines.
pub async fn run(
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    scope: Scope,
) -> Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    // Knowledge-base articles have no DELETE: `PUT {deleted: true}` is
    // the documented soft delete; their versions go with them.
    let articles = ids(&db.lock().unwrap(), "kb_articles", &scope)?;
    for (_, dest) in &articles {
        match client
            .send(
                Method::PUT,
                &format!("/v1/kb/articles/{dest}"),
                Some(crate::http::Payload::Json(
                    &serde_json::json!({"deleted": true}),
                )),
                Lane::Standard,
            )
            .await
        {
            Ok(_) | Err(FerryError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        let conn = db.lock().unwrap();
        forget(&conn, "kb_articles", dest)?;
        conn.execute(
            "DELETE FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = 'kb_versions' AND starts_with(dest_id, ?)",
            params![format!("{dest}/")],
        )?;
    }
    if !articles.is_empty() {
        out.push((
            "knowledge-base articles deleted (soft: deleted = true, with their versions)"
                .to_string(),
            articles.len(),
        ));
    }
    // KObjects: their klass name is the transform's.
    let kobjects: Vec<(String, String, String)> = {
        let conn = db.lock().unwrap();
        let list = ids(&conn, "kobjects", &scope)?;
        let mut named = Vec::new();
        for (src, dest) in list {
            let klass: Option<String> = conn
                .query_row(
                    "SELECT klass_name FROM out_kustomer_kobjects WHERE source_id = ?",
                    params![src],
                    |r| r.get(0),
                )
                .ok();
            named.push((src, dest, klass.unwrap_or_default()));
        }
        named
    };
    for (_, dest, klass) in &kobjects {
        delete(&client, &format!("/v1/klasses/{klass}/{dest}")).await?;
        forget(&db.lock().unwrap(), "kobjects", dest)?;
    }
    out.push(("KObjects deleted".to_string(), kobjects.len()));
    for (phase, what) in [
        ("notes", "notes deleted"),
        (
            "conversations",
            "conversations deleted (with their messages)",
        ),
    ] {
        let list = ids(&db.lock().unwrap(), phase, &scope)?;
        for (_, dest) in &list {
            delete(&client, &format!("/v1/{phase}/{dest}")).await?;
            forget(&db.lock().unwrap(), phase, dest)?;
        }
        out.push((what.to_string(), list.len()));
    }
    // Messages went with their conversations.
    {
        let conn = db.lock().unwrap();
        let n = ids(&conn, "messages", &scope)?.len();
        conn.execute(
            "DELETE FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = 'messages'
             AND source_id IN (SELECT source_id FROM out_kustomer_messages WHERE conversation_source_id NOT IN
                 (SELECT source_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = 'conversations'))",
            [],
        )?;
        out.push(("messages removed with their conversations".to_string(), n));
    }
    let customers = ids(&db.lock().unwrap(), "customers", &scope)?;
    for chunk in customers.chunks(100) {
        let list: Vec<&str> = chunk.iter().map(|(_, d)| d.as_str()).collect();
        delete(
            &client,
            &format!("/v1/customers/bulk?ids={}", list.join(",")),
        )
        .await?;
        let conn = db.lock().unwrap();
        for d in list {
            forget(&conn, "customers", d)?;
        }
    }
    out.push(("customers deleted".to_string(), customers.len()));
    let conn = db.lock().unwrap();
    // A category has no documented delete (kustomer-docs-2026.md §2a).
    for p in [
        "companies",
        "attachments",
        "klasses",
        "metadata",
        "teams",
        "kb_categories",
    ] {
        let n = ids(&conn, p, &scope)?.len();
        if n > 0 {
            out.push((format!("{p} kept (no delete ferry may use)"), n));
        }
    }
    Ok(out)
}
