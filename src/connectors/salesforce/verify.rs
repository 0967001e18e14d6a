//! Verify's read-back from Salesforce: every record ferry created still
//! exists (SOQL `WHERE Id IN (…)`, 100 ids a query), the org's totals
//! (`SELECT COUNT()`), and a sample of Cases read with their
//! EmailMessages, CaseComments and files, compared field by field with
//! what the route's `verify/sample.sql` derives from the raw Kustomer JSON.

use std::collections::HashSet;
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::send::marker;
use super::{soql, Settings};
use crate::error::Result;
use crate::http::ApiClient;
use crate::verify::report::{DestinationCheck, SampleCheck};
use crate::verify::sample::{mismatch, pick, picked, plain};

/// (phase, sObject) pairs whose ids are checked.
/// `custom_records` go to each klass's object; `file_links` are read by
/// the EmailMessages they link (Salesforce takes no other filter on
/// ContentDocumentLink).
const CHECKED: &[(&str, &str)] = &[
    ("queues", "Group"),
    ("queue_sobjects", "QueueSobject"),
    ("queue_members", "GroupMember"),
    ("topics", "Topic"),
    ("custom_records", "{}"),
    ("topic_assignments", "TopicAssignment"),
    ("file_links", "ContentDocumentLink"),
    ("accounts", "Account"),
    ("contacts", "Contact"),
    ("leads", "Lead"),
    ("cases", "Case"),
    ("email_messages", "EmailMessage"),
    ("email_relations", "EmailMessageRelation"),
    ("case_comments", "CaseComment"),
    ("files", "ContentVersion"),
];

fn loaded(conn: &Connection, phase: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        // A record a cutover deleted on purpose (deleted_in_source =
        // "delete") is not missing.
        // and neither is what Salesforce deletes with such a Case: its
        // messages and notes, their senders and recipients, the links of their files to the deleted
        // EmailMessages (attachments and inline images alike), and the
        // Case's topic assignments.
        "WITH deleted_cases AS (
             SELECT k.source_id FROM ferry_changes c
             JOIN ferry_id_map k ON k.dest = 'salesforce' AND k.dest_object = 'cases' AND k.dest_id = c.dest_id
             WHERE c.dest = 'salesforce' AND c.dest_object = 'cases' AND c.action = 'delete' AND c.status = 'applied'
         ), gone_items AS (
             SELECT message_id AS item FROM stg_messages WHERE conversation_id IN (SELECT source_id FROM deleted_cases)
             UNION ALL SELECT note_id FROM stg_notes WHERE conversation_id IN (SELECT source_id FROM deleted_cases)
         ), gone_links AS (
             SELECT attachment_id AS item FROM stg_attachments WHERE message_id IN (SELECT item FROM gone_items)
             UNION ALL SELECT image_id FROM stg_inline_images WHERE message_id IN (SELECT item FROM gone_items)
         )
         SELECT dest_id FROM ferry_id_map m WHERE dest = 'salesforce' AND dest_object = ?
         AND NOT EXISTS (SELECT 1 FROM ferry_changes c WHERE c.dest = 'salesforce' AND c.dest_object = m.dest_object
                         AND c.dest_id = m.dest_id AND c.action = 'delete' AND c.status = 'applied')
         AND NOT (m.dest_object IN ('email_messages', 'email_relations', 'case_comments')
                  AND split_part(m.source_id, ':', 1) IN (SELECT item FROM gone_items))
         AND NOT (m.dest_object = 'file_links' AND m.source_id IN (SELECT item FROM gone_links))
         AND NOT (m.dest_object = 'topic_assignments'
                  AND split_part(m.source_id, ':', 1) IN (SELECT source_id FROM deleted_cases))
         ORDER BY dest_id",
    )?;
    let rows = stmt.query_map([phase], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<Vec<String>, _>>()?)
}

async fn existence(
    db: &Mutex<Connection>,
    client: &ApiClient,
    data: &str,
) -> Result<Vec<DestinationCheck>> {
    let mut out = Vec::new();
    for (phase, object) in CHECKED {
        let ids = loaded(&db.lock().unwrap(), phase)?;
        let mut seen = HashSet::new();
        let mut total = Some(0u64);
        // (object, SOQL filter field, values) per query family.
        let families: Vec<(String, &str, Vec<String>)> = match *object {
            "{}" => {
                let conn = db.lock().unwrap();
                // Only objects ferry loaded into (the others may not exist yet).
                let mut stmt = conn.prepare(
                    "SELECT DISTINCT r.object FROM out_salesforce_custom_records r
                     JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'custom_records' AND m.source_id = r.source_id
                     ORDER BY 1",
                )?;
                let objects = stmt
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                objects
                    .into_iter()
                    .map(|o| (o, "Id", ids.clone()))
                    .collect()
            }
            "ContentDocumentLink" => {
                let conn = db.lock().unwrap();
                let mut stmt = conn.prepare(
                    "SELECT DISTINCT e.dest_id FROM ferry_id_map m
                     JOIN out_salesforce_file_links k ON k.source_id = m.source_id
                     JOIN ferry_id_map e ON e.dest = 'salesforce' AND e.dest_object = 'email_messages' AND e.source_id = k.message_row
                     WHERE m.dest = 'salesforce' AND m.dest_object = 'file_links' ORDER BY 1",
                )?;
                let emails = stmt
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                total = None;
                vec![(object.to_string(), "LinkedEntityId", emails)]
            }
            _ => vec![(object.to_string(), "Id", ids.clone())],
        };
        for (object, filter, values) in &families {
            for chunk in values.chunks(100) {
                let list = chunk
                    .iter()
                    .map(|i| soql::quote(i))
                    .collect::<Vec<_>>()
                    .join(",");
                let q = format!("SELECT Id FROM {object} WHERE {filter} IN ({list})");
                for r in soql::query_all(client, data, &q).await? {
                    if let Some(id) = r["Id"].as_str() {
                        seen.insert(id.to_string());
                    }
                }
            }
            if let Some(t) = total.as_mut() {
                let q: String = url::form_urlencoded::byte_serialize(
                    format!("SELECT COUNT() FROM {object}").as_bytes(),
                )
                .collect();
                *t += client.get_json(&format!("{data}/query?q={q}")).await?["totalSize"]
                    .as_u64()
                    .unwrap_or(0);
            }
        }
        out.push(DestinationCheck {
            phase: phase.to_string(),
            created_by_ferry: ids.len() as i64,
            destination_count: total,
            missing: ids.iter().filter(|i| !seen.contains(*i)).cloned().collect(),
        });
    }
    Ok(out)
}

/// The whole read-back: existence, then the sample.
pub async fn read_back(
    db: &Mutex<Connection>,
    client: &ApiClient,
    settings: &Settings,
    n: usize,
    sample_sql: &str,
) -> Result<(Vec<DestinationCheck>, SampleCheck)> {
    let data = settings.data_path();
    let ext = settings.external_id_field.as_str();
    let (strata, picks) = {
        let conn = db.lock().unwrap();
        (pick(&conn, sample_sql, n)?, picked(&conn)?)
    };
    let checks = existence(db, client, &data).await?;
    let mut s = SampleCheck {
        requested: n,
        strata,
        rules: vec![
            ("order".into(), "EmailMessages by MessageDate and CaseComments by creation follow the source's time order".into()),
            ("body".into(), "the source text (tags and blanks aside) is the EmailMessage body, or inside the CaseComment; a split body is its parts joined".into()),
            ("kind".into(), "messages are EmailMessages (Incoming = customer), notes are private CaseComments".into()),
            ("status".into(), "Kustomer open/snoozed/done → Case Status by seeds/status_map.csv".into()),
            ("attachments".into(), "each message's files are ContentVersions on its Case (count; bytes by SHA-256 in the tests)".into()),
        ],
        ..Default::default()
    };
    for (src, dest, expected) in picks {
        let e: Value = serde_json::from_str(&expected).unwrap_or(Value::Null);
        s.tickets_checked += 1;
        let q = format!(
            "SELECT Id, Status FROM Case WHERE Id = {}",
            soql::quote(&dest)
        );
        let case = soql::query_all(client, &data, &q).await?;
        let status = case
            .first()
            .and_then(|c| c["Status"].as_str())
            .unwrap_or("(missing)");
        if e["status"].as_str() != Some(status) {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "Status",
                e["status"].as_str().unwrap_or("?"),
                status,
            ));
        }
        let q = format!("SELECT Id, {ext}, Incoming, TextBody, HtmlBody, MessageDate FROM EmailMessage WHERE ParentId = {} ORDER BY MessageDate", soql::quote(&dest));
        let emails = soql::query_all(client, &data, &q).await?;
        let q = format!("SELECT Id, CommentBody, CreatedDate FROM CaseComment WHERE ParentId = {} ORDER BY CreatedDate", soql::quote(&dest));
        let comments = soql::query_all(client, &data, &q).await?;
        let q = format!(
            "SELECT Id FROM ContentVersion WHERE FirstPublishLocationId = {}",
            soql::quote(&dest)
        );
        let files = soql::query_all(client, &data, &q).await?;
        let mut last_email = 0usize;
        let mut want_files = 0u64;
        for m in e["messages"].as_array().into_iter().flatten() {
            let id = m["id"].as_str().unwrap_or("");
            let want = plain(m["text"].as_str().unwrap_or(""));
            if m["kind"] == "message" {
                want_files += m["files"].as_u64().unwrap_or(0);
                // Its parts, in order: `id` alone, or `id:1`, `id:2`…
                let parts: Vec<(usize, &Value)> = emails
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| {
                        x[ext]
                            .as_str()
                            .is_some_and(|k| k == id || k.starts_with(&format!("{id}:")))
                    })
                    .collect();
                let Some((pos, first)) = parts.first() else {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &format!("message {id}"),
                        "an EmailMessage",
                        "missing",
                    ));
                    continue;
                };
                s.comments_checked += 1;
                if *pos < last_email {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &format!("message {id} order"),
                        format!("after position {last_email}"),
                        pos,
                    ));
                }
                last_email = *pos;
                let got: String = parts
                    .iter()
                    .map(|(_, x)| {
                        x["TextBody"]
                            .as_str()
                            .or(x["HtmlBody"].as_str())
                            .unwrap_or("")
                    })
                    .collect();
                let html: String = parts
                    .iter()
                    .map(|(_, x)| x["HtmlBody"].as_str().unwrap_or(""))
                    .collect();
                s.mismatches
                    .extend(crate::verify::sample::inline_images_check(
                        &src,
                        &dest,
                        id,
                        // The source's own body: `text` is the expected one,
                        // its images already placeholders.
                        m["source_html"]
                            .as_str()
                            .or(m["text"].as_str())
                            .unwrap_or(""),
                        &html,
                        "Salesforce",
                    ));
                if plain(&got) != want {
                    let w: String = want.chars().take(80).collect();
                    let g: String = plain(&got).chars().take(80).collect();
                    s.mismatches
                        .push(mismatch(&src, &dest, &format!("message {id} body"), w, g));
                }
                if first["Incoming"] != m["incoming"] {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &format!("message {id} Incoming"),
                        &m["incoming"],
                        &first["Incoming"],
                    ));
                }
            } else {
                let parts: Vec<&str> = comments
                    .iter()
                    .filter_map(|c| c["CommentBody"].as_str())
                    .filter(|b| b.ends_with(&marker(id)) || b.contains(&format!("[ferry {id}:")))
                    .collect();
                if parts.is_empty() {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &format!("note {id}"),
                        "a CaseComment",
                        "missing",
                    ));
                    continue;
                }
                s.comments_checked += 1;
                s.mismatches
                    .extend(crate::verify::sample::inline_images_check(
                        &src,
                        &dest,
                        id,
                        // The source's own body: `text` is the expected
                        // one, its images already placeholders.
                        m["source_html"]
                            .as_str()
                            .or(m["text"].as_str())
                            .unwrap_or(""),
                        &parts.join(" "),
                        "Salesforce",
                    ));
                let got = plain(&parts.join(" "));
                let first_words: String = want.chars().take(60).collect();
                if !got.contains(first_words.trim()) {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &format!("note {id} body"),
                        first_words,
                        got.chars().take(120).collect::<String>(),
                    ));
                }
            }
        }
        s.attachments_checked += files.len();
        if files.len() as u64 != want_files {
            s.mismatches
                .push(mismatch(&src, &dest, "files", want_files, files.len()));
        }
    }
    Ok((checks, s))
}

/// Records for verify's content comparison: `SELECT Id, <paths> FROM
/// <object> WHERE Id IN (…)`, 100 ids a query. The object is an sObject
/// name and each path a field of it (verify/fields.sql names both).
pub async fn records(
    client: &ApiClient,
    data: &str,
    object: &str,
    ids: &[String],
    paths: &[String],
) -> Result<Vec<(String, Value)>> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    if !name_ok(object) || !paths.iter().all(|p| name_ok(p)) {
        return Err(crate::error::FerryError::Other(format!(
            "verify/fields.sql names a Salesforce object or field that is not an API name: {object} {paths:?}"
        )));
    }
    let mut fields: Vec<&str> = vec!["Id"];
    fields.extend(paths.iter().map(String::as_str).filter(|p| *p != "Id"));
    let mut out = Vec::new();
    for chunk in ids.chunks(100) {
        let list = chunk
            .iter()
            .map(|i| soql::quote(i))
            .collect::<Vec<_>>()
            .join(",");
        let q = format!(
            "SELECT {} FROM {object} WHERE Id IN ({list})",
            fields.join(", ")
        );
        for r in soql::query_all(client, data, &q).await? {
            if let Some(id) = r["Id"].as_str() {
                out.push((id.to_string(), r.clone()));
            }
        }
    }
    Ok(out)
}
