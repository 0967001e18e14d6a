//! `ferry verify`'s read-back from Zendesk: every created id exists, the
//! counts, and a field-by-field comparison of sampled tickets (and their
//! comments, attachments and requesters) with what Zendesk returns.

use std::path::Path;
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::readback;
use crate::error::Result;
use crate::http::ApiClient;
use crate::verify::report::{DestinationCheck, Mismatch, SampleCheck};

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
    /// One of several tickets of a split conversation: its thread is
    /// compared once, across all the conversation's tickets.
    split: bool,
    conversation_id: String,
}

/// One source message or note; a split body is several Zendesk comments.
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
    /// Attachments over the account's size limit: not uploaded, each named
    /// by a line ferry adds to the comment.
    files_over_limit: i64,
    /// (sha256, size) of each inline image the body shows, which Zendesk
    /// holds as attachments of the comment too.
    images: Vec<(String, i64)>,
}

fn expected_tickets(conn: &Connection) -> Result<Vec<ExpectedTicket>> {
    let mut stmt = conn.prepare(
        "SELECT source_id, dest_id, subject, status, priority, to_json(tags)::VARCHAR, requester_id, assignee_id, group_id, created_epoch, split, conversation_id
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
                split: r.get::<_, Option<bool>>(10)?.unwrap_or(false),
                conversation_id: r.get(11)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn expected_comments(conn: &Connection, ticket: &str) -> Result<Vec<ExpectedComment>> {
    let mut stmt = conn.prepare(
        "SELECT comment_source_id, author_id, public, created_epoch, body, to_json(attachments)::VARCHAR, is_html,
                to_json(images)::VARCHAR, files_over_limit
         FROM verify_expected_comments WHERE ticket_source_id = ? ORDER BY position",
    )?;
    let rows = stmt
        .query_map([ticket], |r| {
            let files = |s: Option<String>| -> Vec<(String, i64)> {
                s.and_then(|a| serde_json::from_str::<Vec<Value>>(&a).ok())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        (
                            a["sha256"].as_str().unwrap_or("").to_string(),
                            a["size"].as_i64().unwrap_or(-1),
                        )
                    })
                    .collect()
            };
            Ok(ExpectedComment {
                source_id: r.get(0)?,
                author_id: r.get(1)?,
                public: r.get::<_, Option<bool>>(2)?.unwrap_or(false),
                created_epoch: r.get(3)?,
                body: r.get(4)?,
                is_html: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                attachments: files(r.get(5)?),
                images: files(r.get(7)?),
                files_over_limit: r.get::<_, Option<i64>>(8)?.unwrap_or(0),
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// HTML with the `src` of every `<img>` emptied: bodies compared apart
/// from where their images live.
/// A comment's text without the lines ferry adds for files over the
/// account's attachment size limit, and how many there were.
fn without_size_notes(text: &str, html: bool) -> (String, usize) {
    const NOTE: &str =
        " not attached: over Zendesk's attachment size limit; kept in the migration workspace]";
    let n = text.matches(NOTE).count();
    if n == 0 {
        return (text.to_string(), 0);
    }
    let cut = if html {
        text.rfind("<p><em>[file ")
    } else {
        text.rfind("\n\n[file ")
    };
    (cut.map_or(text, |i| &text[..i]).to_string(), n)
}

fn without_image_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.to_ascii_lowercase().find("<img") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('>').map(|e| i + e + 1).unwrap_or(rest.len());
        let tag = &rest[i..end];
        let blank = match tag.find("src=\"") {
            Some(s) => {
                let from = s + 5;
                let to = tag[from..].find('"').map(|e| from + e).unwrap_or(tag.len());
                format!("{}{}", &tag[..from], &tag[to..])
            }
            None => tag.to_string(),
        };
        out.push_str(&blank);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Destination ids of a split conversation's tickets, in part order.
fn split_parts(conn: &Connection, conversation: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT dest_id FROM verify_split_parts WHERE conversation_id = ? ORDER BY part_no",
    )?;
    let rows = stmt
        .query_map([conversation], |r| r.get(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The documented rules the expected values were derived with.
fn rules(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT field, rule FROM verify_rules ORDER BY n")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
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
    let frozen = closed_before_change(&db.lock().unwrap())?;
    check.rules = rules(&db.lock().unwrap())?;
    let mut split_done = std::collections::HashSet::new();
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
        // A ticket closed in Zendesk before its source changed keeps its
        // fields (read-only; recorded as skip_closed in ferry_changes).
        let fields_frozen = frozen.contains(&t.source_id);
        if !fields_frozen {
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
        }
        d.check(
            "requester_id",
            opt(&t.requester_id),
            text(&actual["requester_id"]),
        );
        if !fields_frozen {
            d.check(
                "assignee_id",
                opt(&t.assignee_id),
                text(&actual["assignee_id"]),
            );
            d.check("group_id", opt(&t.group_id), text(&actual["group_id"]));
        }
        d.check(
            "created_at",
            opt_i(t.created_epoch),
            opt_i(epoch(&actual["created_at"])),
        );
        let want = expected_comments(&db.lock().unwrap(), &t.source_id)?;
        let got = if t.split {
            // One thread over every part: each part's last comment is the
            // internal link to the others, not a source message.
            if !split_done.insert(t.conversation_id.clone()) {
                continue;
            }
            let mut all = Vec::new();
            let parts = split_parts(&db.lock().unwrap(), &t.conversation_id)?;
            let mut whole = true;
            for dest in parts {
                let mut part = match readback::comments(client, &dest).await {
                    Ok(p) => p,
                    // A part deleted on the destination: named, and the
                    // thread is not compared (it cannot be whole).
                    Err(crate::error::FerryError::Http { status: 404, .. }) => {
                        d.check(
                            &format!("comments.part {dest}"),
                            "present".into(),
                            "missing (404)".into(),
                        );
                        whole = false;
                        break;
                    }
                    Err(e) => return Err(e),
                };
                let link = part.pop();
                d.check(
                    "comments.link",
                    "an internal link comment last".into(),
                    match &link {
                        Some(l) if l["public"] == Value::Bool(false) => {
                            "an internal link comment last".into()
                        }
                        other => format!("{other:?}"),
                    },
                );
                all.extend(part);
            }
            if !whole {
                continue;
            }
            all
        } else {
            // Comments written after the import are on the ticket, or on
            // the follow-up tickets a closed ticket got.
            let mut all = readback::comments(client, &t.dest_id).await?;
            for f in readback::follow_ups(client, &actual).await? {
                all.extend(readback::comments(client, &f).await?);
            }
            all
        };
        let got: Vec<Value> = got.into_iter().map(without_delta_header).collect();
        // Each source message is one comment, or several consecutive
        // pieces (same author, time and flag) whose bodies concatenate to
        // it: the pieces are gathered before comparing.
        let mut j = 0;
        for (i, w) in want.iter().enumerate() {
            let f = |name: &str| format!("comments[{i}].{name} ({})", w.source_id);
            let Some(first) = got.get(j) else {
                d.check(&f("comment"), "present".into(), "missing".into());
                break;
            };
            check.comments_checked += 1;
            let field = if w.is_html { "html_body" } else { "body" };
            let piece = |g: &Value| g[field].as_str().unwrap_or("").to_string();
            let expected_body = opt(&w.body);
            let mut body = piece(first);
            let mut pieces = vec![first];
            j += 1;
            while body.len() < expected_body.len()
                && expected_body.starts_with(&body)
                && got.get(j).is_some_and(|g| {
                    g["author_id"] == first["author_id"]
                        && g["created_at"] == first["created_at"]
                        && g["public"] == first["public"]
                })
            {
                body.push_str(&piece(&got[j]));
                pieces.push(&got[j]);
                j += 1;
            }
            d.check(
                &f("author_id"),
                opt(&w.author_id),
                text(&first["author_id"]),
            );
            d.check(
                &f("public"),
                w.public.to_string(),
                first["public"].as_bool().unwrap_or(false).to_string(),
            );
            // A delta comment's time is the one its header names, to the
            // minute (a ticket update cannot set created_at).
            let delta = first["ferry_delta"] == Value::Bool(true);
            d.check(
                &f("created_at"),
                opt_i(
                    w.created_epoch
                        .map(|e| if delta { e - e.rem_euclid(60) } else { e }),
                ),
                opt_i(epoch(&first["created_at"])),
            );
            // long_body_mode = attachment: the comment says where the text went.
            // An inline image must be hosted by Zendesk, not left as a
            // link to the source's CDN (which dies with the account).
            d.out.extend(crate::verify::sample::inline_images_check(
                d.source_id,
                d.dest_id,
                &w.source_id,
                &expected_body,
                &body,
                "Zendesk",
            ));
            let moved = body.starts_with("[This message had ");
            // Files over the size limit: one line each names it, after
            // the body (load/macros.sql zendesk_with_file_notes).
            let (body, notes) = without_size_notes(&body, w.is_html);
            d.check(
                &f("files over the size limit"),
                format!("{} named in the comment", w.files_over_limit),
                format!("{notes} named in the comment"),
            );
            if !moved {
                // The images' links differ by design (Zendesk's copies):
                // compared below, file by file.
                d.check(
                    &f("body"),
                    without_image_links(&expected_body),
                    without_image_links(&body),
                );
            }
            let mut atts = Vec::new();
            let files: Vec<&Value> = pieces
                .iter()
                .flat_map(|g| g["attachments"].as_array().into_iter().flatten())
                .collect();
            // Every image the comment shows is one of its own files, whose
            // bytes are compared with the source's below.
            for src in crate::verify::sample::image_sources(&body) {
                let src = src.replace("&amp;", "&");
                if !files
                    .iter()
                    .any(|a| a["content_url"].as_str() == Some(src.as_str()))
                {
                    d.check(
                        &f("inline image"),
                        "a file of the comment".into(),
                        format!("{src} (not a file Zendesk holds for it)"),
                    );
                }
            }
            for a in files {
                let url = a["content_url"].as_str().unwrap_or("");
                let (sha, size) = readback::attachment_digest(client, url, &tmp).await?;
                // The text of a body moved to a file is not a source attachment.
                if a["file_name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("message-") && n.ends_with(".html"))
                {
                    continue;
                }
                atts.push((sha, size as i64));
                check.attachments_checked += 1;
            }
            atts.sort();
            let mut want_files = w.attachments.clone();
            if !moved {
                want_files.extend(w.images.iter().cloned());
            }
            want_files.sort();
            let show = |v: &[(String, i64)]| {
                v.iter()
                    .map(|(s, n)| format!("{}:{n}", &s[..s.len().min(12)]))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            d.check(&f("attachments"), show(&want_files), show(&atts));
        }
        d.check(
            "comments.count",
            format!(
                "{} comments for {} source messages and notes",
                j,
                want.len()
            ),
            format!(
                "{} comments for {} source messages and notes",
                got.len(),
                want.len()
            ),
        );
    }
    // Requesters: name and email.
    type ExpectedUser = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let users: Vec<ExpectedUser> = {
        let conn = db.lock().unwrap();
        let mut stmt = conn.prepare(
            "SELECT source_id, dest_id, name, email, matched FROM verify_expected_users ORDER BY source_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows
    };
    let ids: Vec<String> = users.iter().map(|u| u.1.clone()).collect();
    let got = readback::users(client, &ids).await?;
    for (source_id, dest_id, name, email, matched) in &users {
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
        // A user the account had before is the account's: ferry sent it
        // nothing (kept, linked) or only the fields `existing_users =
        // "update"` allows (never the primary email). It must be there,
        // and tickets must point at it (checked above).
        if matched.as_deref() != Some("kept") && matched.as_deref() != Some("linked") {
            d.check("user.name", opt(name), text(&u["name"]));
        }
        if matched.is_none() {
            d.check(
                "user.email",
                opt(email),
                u["email"]
                    .as_str()
                    .map(str::to_lowercase)
                    .unwrap_or_default(),
            );
        }
    }
    Ok(check)
}

/// Tickets whose field changes were not applied because the Zendesk
/// ticket was closed (read-only).
fn closed_before_change(conn: &Connection) -> Result<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT source_id FROM ferry_changes
         WHERE dest = 'zendesk' AND dest_object = 'tickets' AND kind = 'changed' AND action = 'skip_closed'",
    )?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<_, _>>()?;
    Ok(ids)
}

/// A comment a delta load added (`load/comments.sql`): its body without
/// the header, its `created_at` the original time the header names, and
/// `ferry_delta` set. Other comments are returned as they are.
fn without_delta_header(mut c: Value) -> Value {
    const LEAD: &str = "Originally written ";
    for (field, open, close) in [("html_body", "<p><em>", "</em></p>"), ("body", "", "\n\n")] {
        let Some(b) = c[field].as_str() else {
            continue;
        };
        let Some(rest) = b.strip_prefix(open).and_then(|r| r.strip_prefix(LEAD)) else {
            continue;
        };
        let Some((header, body)) = rest.split_once(close) else {
            continue;
        };
        if !header.contains("[ferry ") {
            continue;
        }
        let when = header.get(..16).unwrap_or("");
        let Ok(t) = chrono::NaiveDateTime::parse_from_str(when, "%Y-%m-%d %H:%M") else {
            continue;
        };
        let body = body.to_string();
        c[field] = Value::String(body);
        c["created_at"] = Value::String(t.format("%Y-%m-%dT%H:%M:00Z").to_string());
        c["ferry_delta"] = Value::Bool(true);
        // Zendesk renders a text comment's html_body itself; only the
        // field the comment was sent with is compared.
        break;
    }
    c
}

/// Phases whose created ids are checked for existence, with their
/// Zendesk collection name.
const EXISTENCE: &[(&str, &str)] = &[
    ("organizations", "organizations"),
    ("users", "users"),
    ("agents", "users"),
    ("tickets", "tickets"),
];

/// Ids created per phase, for the existence check.
fn created_ids(conn: &Connection, phase: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = ? ORDER BY dest_id",
    )?;
    let ids = stmt
        .query_map([phase], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// Counts and existence of every created record on the destination.
async fn existence(conn: &Mutex<Connection>, client: &ApiClient) -> Result<Vec<DestinationCheck>> {
    let mut out = Vec::new();
    for (phase, collection) in EXISTENCE {
        let ids = created_ids(&conn.lock().unwrap(), phase)?;
        // `users` and `agents` share one collection: count it once.
        let destination_count = if *phase == "agents" {
            None
        } else {
            Some(readback::count(client, collection).await?)
        };
        let missing = readback::missing(client, collection, &ids).await?;
        out.push(DestinationCheck {
            phase: phase.to_string(),
            created_by_ferry: ids.len() as i64,
            destination_count,
            missing,
        });
    }
    Ok(out)
}

/// The whole read-back: existence and counts, then the sample.
pub async fn read_back(
    db: &Mutex<Connection>,
    client: &ApiClient,
    tmp: &Path,
    n: usize,
    sample_sql: &str,
) -> Result<(Vec<DestinationCheck>, SampleCheck)> {
    // The account's attachment size limit, read here (not from the load):
    // a file over it is expected absent and named in its comment.
    let limit = super::preflight::attachment_limit(client).await?;
    db.lock()
        .unwrap()
        .execute_batch(&format!("SET VARIABLE zendesk_attachment_limit = {limit};"))?;
    let strata = crate::verify::sample::pick(&db.lock().unwrap(), sample_sql, n)?;
    let checks = existence(db, client).await?;
    let sample = sample(db, client, tmp, n, strata).await?;
    Ok((checks, sample))
}
