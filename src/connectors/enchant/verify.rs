//! Verify's read-back from Enchant: every ticket and customer ferry
//! created still exists (tickets by the `id=` list filter, 100 a request;
//! customers by walking the list), and a sample of tickets read with
//! `embed=messages,labels` compared field by field with what the route's
//! `verify/sample.sql` derives from the raw Kustomer JSON.

use std::collections::HashSet;
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::send::marker;
use crate::error::{FerryError, Result};
use crate::http::ApiClient;
use crate::verify::report::{DestinationCheck, SampleCheck};
use crate::verify::sample::{mismatch, pick, picked, plain};

fn loaded(conn: &Connection, phase: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = ? ORDER BY dest_id",
    )?;
    let rows = stmt.query_map([phase], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<Vec<String>, _>>()?)
}

async fn total(client: &ApiClient, path: &str) -> Result<Option<u64>> {
    let r = client.probe(path).await?;
    Ok(r.headers
        .get("total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok()))
}

async fn existence(db: &Mutex<Connection>, client: &ApiClient) -> Result<Vec<DestinationCheck>> {
    let (tickets, customers) = {
        let c = db.lock().unwrap();
        (loaded(&c, "tickets")?, loaded(&c, "customers")?)
    };
    let mut seen = HashSet::new();
    for chunk in tickets.chunks(100) {
        let v = client
            .get_json(&format!("/tickets?per_page=100&id={}", chunk.join(",")))
            .await?;
        for t in v.as_array().into_iter().flatten() {
            if let Some(id) = t["id"].as_str() {
                seen.insert(id.to_string());
            }
        }
    }
    let t_check = DestinationCheck {
        phase: "tickets".into(),
        created_by_ferry: tickets.len() as i64,
        destination_count: total(client, "/tickets?count=true&per_page=0").await?,
        missing: tickets
            .iter()
            .filter(|t| !seen.contains(*t))
            .cloned()
            .collect(),
    };
    let mut seen = HashSet::new();
    for page in 1.. {
        let v = client
            .get_json(&format!("/customers?per_page=100&page={page}"))
            .await?;
        let list = v.as_array().cloned().unwrap_or_default();
        seen.extend(
            list.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_string)),
        );
        if list.len() < 100 {
            break;
        }
    }
    let c_check = DestinationCheck {
        phase: "customers".into(),
        created_by_ferry: customers.len() as i64,
        destination_count: Some(seen.len() as u64),
        missing: customers
            .iter()
            .filter(|c| !seen.contains(*c))
            .cloned()
            .collect(),
    };
    Ok(vec![c_check, t_check])
}

/// The whole read-back: existence, then the sample.
pub async fn read_back(
    db: &Mutex<Connection>,
    client: &ApiClient,
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
            ("order".into(), "messages and notes in the source's time order, found by their [ferry <id>] markers".into()),
            ("body".into(), "the source text (tags and blanks aside) is in the Enchant message, after its header".into()),
            ("kind".into(), "customer messages are inbound replies; agent messages and notes are notes".into()),
            ("state".into(), "Kustomer open/snoozed/done → open/hold/closed (seeds/status_map.csv)".into()),
            ("attachments".into(), "each file of the message, by name and byte size (the API gives no download, so no SHA-256 read-back)".into()),
        ],
        ..Default::default()
    };
    for (src, dest, expected) in picks {
        let e: Value = serde_json::from_str(&expected).unwrap_or(Value::Null);
        let t = client
            .get_json(&format!("/tickets/{dest}?embed=messages,labels"))
            .await?;
        s.tickets_checked += 1;
        if e["state"] != t["state"] {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "state",
                e["state"].as_str().unwrap_or("?"),
                t["state"].as_str().unwrap_or("?"),
            ));
        }
        let msgs = t["messages"].as_array().cloned().unwrap_or_default();
        let head = marker(&src);
        if !msgs
            .first()
            .and_then(|m| m["body"].as_str())
            .is_some_and(|b| b.contains(&head))
        {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "header note",
                head,
                "first message without the marker",
            ));
        }
        let mut last = 0usize;
        for m in e["messages"].as_array().into_iter().flatten() {
            let id = m["id"].as_str().unwrap_or("");
            let mk = marker(id);
            let Some(pos) = msgs
                .iter()
                .position(|x| x["body"].as_str().is_some_and(|b| b.contains(&mk)))
            else {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &format!("message {id}"),
                    "present",
                    "missing",
                ));
                continue;
            };
            s.comments_checked += 1;
            if pos < last {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &format!("message {id} order"),
                    format!("after position {last}"),
                    pos,
                ));
            }
            last = pos;
            let got = &msgs[pos];
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
                    got["body"].as_str().unwrap_or(""),
                    "Enchant",
                ));
            let want_text = plain(m["text"].as_str().unwrap_or(""));
            let got_text = plain(got["body"].as_str().unwrap_or(""));
            if !got_text.contains(&want_text) {
                let w: String = want_text.chars().take(80).collect();
                let g: String = got_text.chars().take(160).collect();
                s.mismatches
                    .push(mismatch(&src, &dest, &format!("message {id} body"), w, g));
            }
            let want_type = if m["note"] == true { "note" } else { "reply" };
            if got["type"] != want_type {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &format!("message {id} type"),
                    want_type,
                    got["type"].as_str().unwrap_or("?"),
                ));
            }
            let mut want: Vec<(String, u64)> = m["files"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or("").to_string(),
                        f["size"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            let mut have: Vec<(String, u64)> = got["attachments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or("").to_string(),
                        f["size"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            want.sort();
            have.sort();
            s.attachments_checked += have.len();
            if want != have {
                s.mismatches.push(mismatch(
                    &src,
                    &dest,
                    &format!("message {id} attachments"),
                    format!("{want:?}"),
                    format!("{have:?}"),
                ));
            }
        }
        let mut want_labels: Vec<String> = e["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        let mut got_labels: Vec<String> = t["label_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        want_labels.sort();
        got_labels.sort();
        if want_labels != got_labels {
            s.mismatches.push(mismatch(
                &src,
                &dest,
                "labels",
                format!("{want_labels:?}"),
                format!("{got_labels:?}"),
            ));
        }
    }
    Ok((checks, s))
}

/// Records for verify's content comparison: `tickets` and `customers`,
/// one `GET /<object>/<id>` each (the sample is small); a 404 leaves the
/// record out.
pub async fn records(
    client: &ApiClient,
    object: &str,
    ids: &[String],
) -> Result<Vec<(String, Value)>> {
    let embed = match object {
        "tickets" => "?embed=messages,labels",
        "customers" => "",
        _ => {
            return Err(FerryError::Other(format!(
                "verify/fields.sql names an Enchant object ferry cannot read back: {object} (tickets, customers)"
            )))
        }
    };
    let mut out = Vec::new();
    for id in ids {
        match client.get_json(&format!("/{object}/{id}{embed}")).await {
            Ok(v) => out.push((id.clone(), v)),
            Err(FerryError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
