//! Verify's read-back from Kustomer: every conversation, customer and
//! company ferry created still exists (one GET each), and a sample of
//! conversations read back with their messages, notes and files, compared
//! field by field with what the route's `verify/sample.sql` derives from
//! the raw source JSON (not from the tables the load sent).

use std::collections::HashMap;
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::send::all_pages;
use crate::error::{FerryError, Result};
use crate::http::ApiClient;
use crate::verify::report::{DestinationCheck, SampleCheck};
use crate::verify::sample::{mismatch, pick, picked, plain};

fn loaded(conn: &Connection, phase: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'kustomer' AND dest_object = ? ORDER BY dest_id",
    )?;
    let rows = stmt.query_map([phase], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<Vec<String>, _>>()?)
}

async fn existence(db: &Mutex<Connection>, client: &ApiClient) -> Result<Vec<DestinationCheck>> {
    let mut out = Vec::new();
    for (phase, object) in [
        ("companies", "companies"),
        ("customers", "customers"),
        ("conversations", "conversations"),
        ("kb_categories", "kb/categories"),
        ("kb_articles", "kb/articles"),
    ] {
        let ids = loaded(&db.lock().unwrap(), phase)?;
        let mut missing = Vec::new();
        for id in &ids {
            match client.get_json(&format!("/v1/{object}/{id}")).await {
                Ok(_) => {}
                Err(FerryError::Http { status: 404, .. }) => missing.push(id.clone()),
                Err(e) => return Err(e),
            }
        }
        out.push(DestinationCheck {
            phase: phase.into(),
            created_by_ferry: ids.len() as i64,
            destination_count: None,
            missing,
        });
    }
    Ok(out)
}

/// Milliseconds since the epoch of an ISO time, for comparing times
/// written with different precision.
fn ms(v: &Value) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// SHA-256 of each file a message or note names, read back through the
/// attachment's download link.
async fn file_hashes(
    client: &ApiClient,
    tmp: &std::path::Path,
    rec: &Value,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in rec["relationships"]["attachments"]["data"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(id) = a["id"].as_str() else { continue };
        let v = client.get_json(&format!("/v1/attachments/{id}")).await?;
        let Some(link) = v["data"]["links"]["related"].as_str() else {
            out.push(format!("{id}: no download link"));
            continue;
        };
        let file = tmp.join(format!("verify-{id}"));
        let (sha, _) = client.download(link, &file).await?;
        let _ = std::fs::remove_file(&file);
        out.push(sha);
    }
    out.sort();
    Ok(out)
}

/// The whole read-back: existence, then the sample.
pub async fn read_back(
    db: &Mutex<Connection>,
    client: &ApiClient,
    tmp: &std::path::Path,
    n: usize,
    sample_sql: &str,
) -> Result<(Vec<DestinationCheck>, SampleCheck)> {
    let (strata, picks) = {
        let conn = db.lock().unwrap();
        (pick(&conn, sample_sql, n)?, picked(&conn)?)
    };
    let checks = existence(db, client).await?;
    let mut s = SampleCheck {
        requested: n,
        strata,
        rules: vec![
            ("order".into(), "messages and notes in the source's time order (the first message is the conversation's `source`, then its parts)".into()),
            ("kind".into(), "Intercom part_type comment → message, note → note; state changes are no records".into()),
            ("direction".into(), "an admin's part is out, a user's or lead's in".into()),
            ("author".into(), "an admin's part names the Kustomer user matched by email (createdBy)".into()),
            ("time".into(), "createdAt (and a message's sentAt) = the part's created_at".into()),
            ("body".into(), "the part's HTML, text compared (meta.html of a message, the body of a note)".into()),
            ("attachments".into(), "SHA-256 of every file and inline image of the part, downloaded back from Kustomer".into()),
            ("status".into(), "Intercom open → open, closed → done, snoozed until a time ahead → snoozed (else open)".into()),
        ],
        ..Default::default()
    };
    for (src, dest, expected) in picks {
        let e: Value = serde_json::from_str(&expected).unwrap_or(Value::Null);
        let conv = client
            .get_json(&format!("/v1/conversations/{dest}"))
            .await?;
        s.tickets_checked += 1;
        let status = &conv["data"]["attributes"]["status"];
        if &e["status"] != status {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "status",
                e["status"].as_str().unwrap_or("?"),
                status.as_str().unwrap_or("?"),
            ));
        }
        let mut got: Vec<(String, Value)> = Vec::new();
        for (kind, path) in [("message", "messages"), ("note", "notes")] {
            for r in all_pages(client, &format!("/v1/conversations/{dest}/{path}")).await? {
                got.push((kind.to_string(), r));
            }
        }
        let by_ext: HashMap<String, usize> = got
            .iter()
            .enumerate()
            .filter_map(|(i, (_, r))| {
                r["attributes"]["externalId"]
                    .as_str()
                    .map(|x| (x.to_string(), i))
            })
            .collect();
        // Kustomer orders a timeline by time: the order is the times'.
        let mut timeline: Vec<(i64, String)> = got
            .iter()
            .map(|(_, r)| {
                (
                    ms(&r["attributes"]["createdAt"]).unwrap_or(0),
                    r["attributes"]["externalId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        timeline.sort();
        let want_order: Vec<String> = e["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["ext"].as_str().map(str::to_string))
            .collect();
        let got_order: Vec<String> = timeline.into_iter().map(|(_, x)| x).collect();
        if want_order != got_order {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "order",
                format!(
                    "{} parts {:?}…",
                    want_order.len(),
                    want_order.iter().take(4).collect::<Vec<_>>()
                ),
                format!(
                    "{} records {:?}…",
                    got_order.len(),
                    got_order.iter().take(4).collect::<Vec<_>>()
                ),
            ));
        }
        for p in e["parts"].as_array().into_iter().flatten() {
            let ext = p["ext"].as_str().unwrap_or("");
            let Some(&i) = by_ext.get(ext) else {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &format!("part {ext}"),
                    "present",
                    "missing",
                ));
                continue;
            };
            s.comments_checked += 1;
            let (kind, r) = &got[i];
            let a = &r["attributes"];
            let field = |f: &str| format!("part {ext} {f}");
            if p["kind"].as_str() != Some(kind.as_str()) {
                s.mismatches
                    .push(mismatch(&src, &dest, &field("kind"), &p["kind"], kind));
            }
            if ms(&p["at"]) != ms(&a["createdAt"]) {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &field("createdAt"),
                    &p["at"],
                    &a["createdAt"],
                ));
            }
            if kind == "message" {
                if p["direction"] != a["direction"] {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &field("direction"),
                        &p["direction"],
                        &a["direction"],
                    ));
                }
                if ms(&p["at"]) != ms(&a["sentAt"]) {
                    s.mismatches.push(mismatch(
                        &src,
                        &dest,
                        &field("sentAt"),
                        &p["at"],
                        &a["sentAt"],
                    ));
                }
            }
            let author = &r["relationships"]["createdBy"]["data"]["id"];
            if !p["author"].is_null() && &p["author"] != author {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &field("createdBy"),
                    &p["author"],
                    author,
                ));
            }
            let body = if kind == "message" {
                a["meta"]["html"].as_str().or(a["preview"].as_str())
            } else {
                a["body"].as_str()
            };
            s.mismatches
                .extend(crate::verify::sample::inline_images_check(
                    &src,
                    &dest,
                    &format!("part {ext}"),
                    // The source's own body: `body` is the expected text,
                    // its images already placeholders.
                    p["source_body"]
                        .as_str()
                        .or(p["body"].as_str())
                        .unwrap_or(""),
                    body.unwrap_or(""),
                    "Kustomer",
                ));
            let want = plain(p["body"].as_str().unwrap_or(""));
            let have = plain(body.unwrap_or(""));
            if want != have {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &field("body"),
                    want.chars().take(80).collect::<String>(),
                    have.chars().take(80).collect::<String>(),
                ));
            }
            let mut want_files: Vec<String> = p["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            want_files.sort();
            let have_files = file_hashes(client, tmp, r).await?;
            s.attachments_checked += have_files.len();
            if want_files != have_files {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &field("attachments"),
                    format!("{want_files:?}"),
                    format!("{have_files:?}"),
                ));
            }
        }
    }
    Ok((checks, s))
}

/// Records for verify's content comparison: `customers`, `companies`,
/// `conversations` (`GET /v1/<object>/<id>`) and `klasses/<name>`
/// (`GET /v1/klasses/<name>/<id>`), one request each (the sample is
/// small); a 404 leaves the record out. The record is the response's
/// `data` (JSON:API), so paths read `attributes.custom.…`.
pub async fn records(
    client: &ApiClient,
    object: &str,
    ids: &[String],
) -> Result<Vec<(String, Value)>> {
    let known = matches!(
        object,
        "customers" | "companies" | "conversations" | "kb/articles" | "kb/categories"
    ) || object
        .strip_prefix("klasses/")
        .is_some_and(|k| !k.is_empty() && !k.contains('/'));
    if !known {
        return Err(FerryError::Other(format!(
            "verify/fields.sql names a Kustomer object ferry cannot read back: {object} (customers, companies, conversations, klasses/<name>, kb/articles, kb/categories)"
        )));
    }
    let mut out = Vec::new();
    for id in ids {
        match client.get_json(&format!("/v1/{object}/{id}")).await {
            Ok(v) => out.push((id.clone(), v["data"].clone())),
            Err(FerryError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The Help Center's redirect map: for each row of the route's
/// `verify/redirects.sql` (a version's source id, its Intercom URL, the
/// article's Kustomer id, the language), the Kustomer URL as the
/// destination holds it — the article read back for its `hash` and the
/// version's `slug` (the published one, else the draft). Written to the
/// table `verify_kb_redirects` (verify/fields.sql compares the links
/// inside articles with it) and to `reports/kb-redirects.csv`.
pub async fn kb_redirects(
    db: &Mutex<Connection>,
    client: &ApiClient,
    s: &super::Settings,
    tmp: &std::path::Path,
    sql: &str,
) -> Result<()> {
    let rows: Vec<(String, String, String, String)> = {
        let conn = db.lock().unwrap();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let site = if rows.is_empty() {
        String::new()
    } else {
        let kb = super::kb::knowledge_base(client, &s.knowledge_base).await?;
        super::kb::public_url(s, &kb)
    };
    let mut articles: HashMap<String, Value> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (source_id, intercom, article, lang) in rows {
        if !articles.contains_key(&article) {
            let v = match client.get_json(&format!("/v1/kb/articles/{article}")).await {
                Ok(v) => v["data"].clone(),
                Err(FerryError::Http { status: 404, .. }) => Value::Null,
                Err(e) => return Err(e),
            };
            articles.insert(article.clone(), v);
        }
        let a = &articles[&article];
        let versions: Vec<&Value> = a["attributes"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["lang"] == lang.as_str())
            .collect();
        let version = versions
            .iter()
            .find(|v| v["status"] == "published")
            .or_else(|| versions.iter().find(|v| v["status"] == "draft"));
        let url = match (
            a["attributes"]["hash"].as_str(),
            version.and_then(|v| v["slug"].as_str()),
        ) {
            (Some(hash), Some(slug)) => Some(super::kb::article_url(&site, &lang, slug, hash)),
            _ => None,
        };
        let published = version.is_some_and(|v| v["status"] == "published");
        out.push((source_id, intercom, url, article, lang, published));
    }
    let conn = db.lock().unwrap();
    conn.execute_batch(
        "CREATE OR REPLACE TABLE verify_kb_redirects (
             source_id VARCHAR, intercom_url VARCHAR, kustomer_url VARCHAR,
             article_id VARCHAR, lang VARCHAR, published BOOLEAN);
         COMMENT ON TABLE verify_kb_redirects IS 'ferry verify: each Help Center article language''s Intercom URL and its Kustomer URL, as read back (the 301 map; NULL: not found in Kustomer)';",
    )?;
    let mut app = conn.appender("verify_kb_redirects")?;
    for (source_id, intercom, url, article, lang, published) in &out {
        app.append_row(duckdb::params![
            source_id, intercom, url, article, lang, published
        ])?;
    }
    app.flush()?;
    drop(app);
    if let Some(ws) = tmp.parent() {
        let file = ws.join("reports").join("kb-redirects.csv");
        let _ = std::fs::create_dir_all(file.parent().unwrap());
        conn.execute_batch(&format!(
            "COPY (SELECT intercom_url, kustomer_url, lang, published FROM verify_kb_redirects ORDER BY source_id) TO '{}' (HEADER, DELIMITER ',')",
            file.display().to_string().replace('\'', "''")
        ))?;
    }
    Ok(())
}
