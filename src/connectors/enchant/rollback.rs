//! `ferry rollback` for Enchant. The API deletes nothing that ferry
//! creates (no DELETE for tickets, messages, customers or attachments in
//! the spec): a ticket is moved to the trash (`PATCH trash=true`, which an
//! agent can undo) and forgotten; customers, messages and uploads stay and
//! are reported as such, still recorded in `ferry_id_map`.

use std::sync::{Arc, Mutex};

use duckdb::{params, Connection};
use reqwest::Method;

use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};

pub use crate::connector::RollbackScope as Scope;

fn ids(conn: &Connection, phase: &str, scope: &Scope) -> Result<Vec<String>> {
    let (cond, arg) = scope.filter();
    let sql = format!(
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = ? AND {cond} ORDER BY dest_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<String> = stmt
        .query_map(params![phase, arg], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    Ok(rows)
}

/// Trashes the scope's tickets; returns (what, count) lines.
pub async fn run(
    client: Arc<ApiClient>,
    db: Arc<Mutex<Connection>>,
    scope: Scope,
) -> Result<Vec<(String, usize)>> {
    let (tickets, kept) = {
        let conn = db.lock().unwrap();
        let tickets = ids(&conn, "tickets", &scope)?;
        let mut kept = Vec::new();
        for p in ["customers", "messages", "attachments", "kobject_notes"] {
            kept.push((p, ids(&conn, p, &scope)?.len()));
        }
        (tickets, kept)
    };
    let mut trashed = 0;
    for id in &tickets {
        let res = client
            .send(
                Method::PATCH,
                &format!("/tickets/{id}"),
                Some(Payload::JsonText("{\"trash\":true}")),
                Lane::Standard,
            )
            .await;
        match res {
            Ok(_) | Err(FerryError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        let conn = db.lock().unwrap();
        // The ticket and everything it carried are forgotten: a new load
        // creates them again.
        conn.execute(
            "DELETE FROM ferry_id_map WHERE dest = 'enchant' AND dest_object IN ('tickets', 'ticket_state') AND dest_id = ?",
            params![id],
        )?;
        conn.execute(
            "DELETE FROM ferry_id_map WHERE dest = 'enchant' AND dest_object IN ('messages', 'kobject_notes')
             AND batch_id IN (SELECT batch_id FROM ferry_batches WHERE dest = 'enchant' AND items LIKE '%\"' || ? || '\"%')",
            params![id],
        )?;
        trashed += 1;
    }
    let mut out = vec![("tickets moved to the trash".to_string(), trashed)];
    for (p, n) in kept {
        if n > 0 {
            out.push((format!("{p} kept (Enchant's API cannot delete them)"), n));
        }
    }
    Ok(out)
}
