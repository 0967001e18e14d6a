//! Field-by-field comparison of sampled tickets (and their comments,
//! attachments and requesters) against what the destination returns.

use std::path::Path;
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::report::{Mismatch, SampleCheck};
use crate::connectors::zendesk::readback;
use crate::error::Result;
use crate::http::ApiClient;

struct ExpectedTicket {
    source_id: String,
    dest_id: String,
    subject: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    tags: Vec<String>,
    requester_id: Option<String>,
    assignee_id: Option<String>,
    group_id: Option<String>,
    created_epoch: Option<i64>,
}

struct ExpectedComment {
    source_id: String,
    author_id: Option<String>,
    public: bool,
    created_epoch: Option<i64>,
    body: Option<String>,
    /// Sent as `html_body` (else as plain `body`).
    is_html: bool,
    /// (sha256, size) of each attachment, sorted by sha.
    attachments: Vec<(String, i64)>,
}

fn expected_tickets(conn: &Connection) -> Result<Vec<ExpectedTicket>> {
    let mut stmt = conn.prepare(
        "SELECT source_id, dest_id, subject, status, priority, to_json(tags)::VARCHAR, requester_id, assignee_id, group_id, created_epoch
         FROM verify_expected_tickets ORDER BY source_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let tags: Option<String> = r.get(5)?;
            Ok(ExpectedTicket {
                source_id: r.get(0)?,
                dest_id: r.get(1)?,
                subject: r.get(2)?,
                status: r.get(3)?,
                priority: r.get(4)?,
                tags: tags
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
                requester_id: r.get(6)?,
                assignee_id: r.get(7)?,
                group_id: r.get(8)?,
                created_epoch: r.get(9)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn expected_comments(conn: &Connection, ticket: &str) -> Result<Vec<ExpectedComment>> {
    let mut stmt = conn.prepare(
        "SELECT comment_source_id, author_id, public, created_epoch, body, to_json(attachments)::VARCHAR, is_html
         FROM verify_expected_comments WHERE ticket_source_id = ? ORDER BY position",
    )?;
    let rows = stmt
        .query_map([ticket], |r| {
            let atts: Option<String> = r.get(5)?;
            let atts: Vec<Value> = atts
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default();
            Ok(ExpectedComment {
                source_id: r.get(0)?,
                author_id: r.get(1)?,
                public: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
                created_epoch: r.get(3)?,
                body: r.get(4)?,
                is_html: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                attachments: atts
                    .iter()
                    .map(|a| {
                        (
                            a["sha256"].as_str().unwrap_or("").to_string(),
                            a["size"].as_i64().unwrap_or(-1),
                        )
                    })
                    .collect(),
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Text of a JSON value for a report cell (ids as digits, null as empty).
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn epoch(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.timestamp())
}

/// Short form of a long text for the report: its length and a prefix.
fn brief(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!(
            "{}… ({} chars)",
            s.chars().take(60).collect::<String>(),
            s.chars().count()
        )
    }
}

struct Diff<'a> {
    source_id: &'a str,
    dest_id: &'a str,
    out: &'a mut Vec<Mismatch>,
}

impl Diff<'_> {
    fn check(&mut self, field: &str, expected: String, actual: String) {
        if expected != actual {
            self.out.push(Mismatch {
                source_id: self.source_id.to_string(),
                dest_id: self.dest_id.to_string(),
                field: field.to_string(),
                expected: brief(&expected),
                actual: brief(&actual),
            });
        }
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn opt_i(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Reads back every sampled ticket and compares it.
pub async fn sample(
    db: &Mutex<Connection>,
    client: &ApiClient,
    tmp_dir: &Path,
    requested: usize,
    strata: Vec<(String, i64)>,
) -> Result<SampleCheck> {
    let mut check = SampleCheck {
        requested,
        strata,
        ..Default::default()
    };
    let tickets = expected_tickets(&db.lock().unwrap())?;
    let tmp = tmp_dir.join(format!("verify-{}.bin", std::process::id()));
    for t in &tickets {
        let mut d = Diff {
            source_id: &t.source_id,
            dest_id: &t.dest_id,
            out: &mut check.mismatches,
        };
        let Some(actual) = readback::ticket(client, &t.dest_id).await? else {
            d.check("ticket", "present".into(), "missing (404)".into());
            continue;
        };
        check.tickets_checked += 1;
        d.check("subject", opt(&t.subject), text(&actual["subject"]));
        d.check("status", opt(&t.status), text(&actual["status"]));
        d.check("priority", opt(&t.priority), text(&actual["priority"]));
        let mut tags: Vec<String> = actual["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        tags.sort();
        d.check("tags", t.tags.join(" "), tags.join(" "));
        d.check(
            "requester_id",
            opt(&t.requester_id),
            text(&actual["requester_id"]),
        );
        d.check(
            "assignee_id",
            opt(&t.assignee_id),
            text(&actual["assignee_id"]),
        );
        d.check("group_id", opt(&t.group_id), text(&actual["group_id"]));
        d.check(
            "created_at",
            opt_i(t.created_epoch),
            opt_i(epoch(&actual["created_at"])),
        );
        let want = expected_comments(&db.lock().unwrap(), &t.source_id)?;
        let got = readback::comments(client, &t.dest_id).await?;
        d.check(
            "comments.count",
            want.len().to_string(),
            got.len().to_string(),
        );
        for (i, (w, g)) in want.iter().zip(got.iter()).enumerate() {
            check.comments_checked += 1;
            let f = |name: &str| format!("comments[{i}].{name} ({})", w.source_id);
            d.check(&f("author_id"), opt(&w.author_id), text(&g["author_id"]));
            d.check(
                &f("public"),
                w.public.to_string(),
                g["public"].as_bool().unwrap_or(false).to_string(),
            );
            d.check(
                &f("created_at"),
                opt_i(w.created_epoch),
                opt_i(epoch(&g["created_at"])),
            );
            let body = g[if w.is_html { "html_body" } else { "body" }]
                .as_str()
                .unwrap_or("");
            d.check(&f("body"), opt(&w.body), body.to_string());
            let mut atts = Vec::new();
            for a in g["attachments"].as_array().into_iter().flatten() {
                let url = a["content_url"].as_str().unwrap_or("");
                let (sha, size) = readback::attachment_digest(client, url, &tmp).await?;
                atts.push((sha, size as i64));
                check.attachments_checked += 1;
            }
            atts.sort();
            let show = |v: &[(String, i64)]| {
                v.iter()
                    .map(|(s, n)| format!("{}:{n}", &s[..s.len().min(12)]))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            d.check(&f("attachments"), show(&w.attachments), show(&atts));
        }
    }
    // Requesters: name and email.
    let users: Vec<(String, String, Option<String>, Option<String>)> = {
        let conn = db.lock().unwrap();
        let mut stmt = conn.prepare(
            "SELECT source_id, dest_id, name, email FROM verify_expected_users ORDER BY source_id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows
    };
    let ids: Vec<String> = users.iter().map(|u| u.1.clone()).collect();
    let got = readback::users(client, &ids).await?;
    for (source_id, dest_id, name, email) in &users {
        let mut d = Diff {
            source_id,
            dest_id,
            out: &mut check.mismatches,
        };
        let Some(u) = got.iter().find(|u| text(&u["id"]) == *dest_id) else {
            d.check("user", "present".into(), "missing".into());
            continue;
        };
        check.users_checked += 1;
        d.check("user.name", opt(name), text(&u["name"]));
        d.check(
            "user.email",
            opt(email),
            u["email"]
                .as_str()
                .map(str::to_lowercase)
                .unwrap_or_default(),
        );
    }
    Ok(check)
}
