//! Verify's content comparison: every carried field of the sampled
//! records, read back from the destination and compared with the value
//! the source records give it.
//!
//! The route's `verify/fields.sql` says what to compare, in one table,
//! `verify_expected_fields`: per sampled record and field, the source path
//! it comes from (the field ledger's `object` and `path`), where the
//! destination keeps it (`dest_object`, `dest_id`, `dest_path`) and the
//! value expected there, derived from the raw source JSON by the route's
//! documented rules. The connector only fetches records
//! ([`crate::connector::Destination::read_records`]); comparing, counting
//! and recording (`verify_field_values`) happen here, once for every route.
//! A source path the route declares dropped is not compared: the ledger
//! lists it as a gap instead.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use duckdb::Connection;
use serde_json::Value;

use super::report::Mismatch;
use crate::connector::Destination;
use crate::error::Result;
use crate::http::ApiClient;

/// One value to compare.
#[derive(Debug, Clone)]
struct Expected {
    source_object: String,
    source_path: String,
    source_id: String,
    dest_object: String,
    dest_id: String,
    field: String,
    dest_path: String,
    expected: Value,
    /// `equals` (the default), or `contains`: the destination keeps the
    /// value inside a text (a note, a summary), so the text at `dest_path`
    /// (a list or object as its JSON text) must contain the expected text.
    how: String,
}

/// What the comparison found.
#[derive(Debug, Clone, Default)]
pub struct ContentCheck {
    /// Values compared.
    pub compared: usize,
    /// Destination records read back for it.
    pub records: usize,
    pub mismatches: Vec<Mismatch>,
}

/// Whether the route's verify SQL built `verify_expected_fields`.
fn has_expectations(conn: &Connection) -> bool {
    conn.prepare("SELECT 1 FROM verify_expected_fields LIMIT 0")
        .is_ok()
}

fn expectations(conn: &Connection) -> Result<Vec<Expected>> {
    // A path declared dropped is the ledger's to report, not a mismatch;
    // a workspace transformed before the ledger compares everything.
    let ledger = conn
        .prepare("SELECT 1 FROM int_field_ledger LIMIT 0")
        .is_ok();
    let filter = if ledger {
        "WHERE NOT EXISTS (SELECT 1 FROM int_field_ledger l
                           WHERE l.object = e.source_object AND l.path = e.source_path AND l.fate = 'dropped')"
    } else {
        ""
    };
    let how = if conn
        .prepare("SELECT how FROM verify_expected_fields LIMIT 0")
        .is_ok()
    {
        "coalesce(how, 'equals')"
    } else {
        "'equals'"
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT source_object, source_path, source_id, dest_object, dest_id, field, dest_path, expected::VARCHAR, {how}
         FROM verify_expected_fields e {filter}
         ORDER BY dest_object, dest_id, field"
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(Expected {
            source_object: r.get(0)?,
            source_path: r.get(1)?,
            source_id: r.get(2)?,
            dest_object: r.get(3)?,
            dest_id: r.get(4)?,
            field: r.get(5)?,
            dest_path: r.get(6)?,
            expected: r
                .get::<_, Option<String>>(7)?
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null),
            how: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Reads back every record `verify_expected_fields` names, compares each
/// value and records the outcome in `verify_field_values`. None when the
/// route's verify SQL expects nothing (an ejected sql/ from before it).
pub async fn compare(
    db: &Mutex<Connection>,
    dest: &dyn Destination,
    client: &ApiClient,
) -> Result<Option<ContentCheck>> {
    let expected = {
        let conn = db.lock().unwrap();
        if !has_expectations(&conn) {
            return Ok(None);
        }
        expectations(&conn)?
    };
    // One read per destination object, with every id and path it needs.
    let mut wanted: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for e in &expected {
        let (ids, paths) = wanted.entry(&e.dest_object).or_default();
        if !ids.contains(&e.dest_id) {
            ids.push(e.dest_id.clone());
        }
        if !paths.contains(&e.dest_path) {
            paths.push(e.dest_path.clone());
        }
    }
    let mut records: HashMap<(String, String), Value> = HashMap::new();
    for (object, (ids, paths)) in &wanted {
        for (id, v) in dest.read_records(client, object, ids, paths).await? {
            records.insert((object.to_string(), id), v);
        }
    }
    let mut check = ContentCheck {
        records: records.len(),
        ..Default::default()
    };
    let mut outcomes = Vec::with_capacity(expected.len());
    for e in &expected {
        let actual = match records.get(&(e.dest_object.clone(), e.dest_id.clone())) {
            Some(rec) => lookup(rec, &e.dest_path).cloned().unwrap_or(Value::Null),
            None => {
                check.mismatches.push(Mismatch {
                    source_id: e.source_id.clone(),
                    dest_id: e.dest_id.clone(),
                    field: format!("{} {}", e.dest_object, e.field),
                    expected: "the record".into(),
                    actual: "missing".into(),
                });
                outcomes.push((e, Value::Null, false));
                continue;
            }
        };
        check.compared += 1;
        let actual = if e.how == "html_images" {
            images_by_hash(&actual)
        } else {
            actual
        };
        let same = if e.how == "contains" {
            contains(&actual, &e.expected)
        } else {
            same(&e.expected, &actual)
        };
        if !same {
            check.mismatches.push(Mismatch {
                source_id: e.source_id.clone(),
                dest_id: e.dest_id.clone(),
                field: format!("{} {}", e.dest_object, e.field),
                expected: shown(&e.expected),
                actual: shown(&actual),
            });
        }
        outcomes.push((e, actual, same));
    }
    record(&db.lock().unwrap(), &outcomes)?;
    Ok(Some(check))
}

/// The rules the route's verify/fields.sql applied (`verify_field_rules`),
/// for the report's list of what the comparison assumes.
pub fn rules(conn: &Connection) -> Result<Vec<(String, String)>> {
    let Ok(mut stmt) = conn.prepare("SELECT field, rule FROM verify_field_rules") else {
        return Ok(Vec::new());
    };
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// `verify_field_values`: every compared value, for SQL.
fn record(conn: &Connection, outcomes: &[(&Expected, Value, bool)]) -> Result<()> {
    conn.execute_batch(
        "CREATE OR REPLACE TABLE verify_field_values (
             source_object VARCHAR, source_path VARCHAR, source_id VARCHAR,
             dest_object VARCHAR, dest_id VARCHAR, field VARCHAR,
             expected VARCHAR, actual VARCHAR, matches BOOLEAN);
         COMMENT ON TABLE verify_field_values IS 'ferry verify: every carried field of the sampled records, the value the source gives it and the value the destination holds';",
    )?;
    let mut app = conn.appender("verify_field_values")?;
    for (e, actual, same) in outcomes {
        app.append_row(duckdb::params![
            e.source_object,
            e.source_path,
            e.source_id,
            e.dest_object,
            e.dest_id,
            e.field,
            e.expected.to_string(),
            actual.to_string(),
            same
        ])?;
    }
    app.flush()?;
    Ok(())
}

/// An HTML body with each image carried in it (`data:<type>;base64,…`)
/// written as `ferry-image:<SHA-256 of its bytes>`, as the route's
/// expected value names the source's images: images compare by their
/// bytes, the rest of the body as text.
fn images_by_hash(v: &Value) -> Value {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Some(html) = v.as_str() else {
        return v.clone();
    };
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("data:") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(comma) = tail.find(";base64,") else {
            out.push_str("data:");
            rest = &tail[5..];
            continue;
        };
        let data = &tail[comma + 8..];
        let end = data
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
            .unwrap_or(data.len());
        match base64::engine::general_purpose::STANDARD.decode(&data[..end]) {
            Ok(bytes) => out.push_str(&format!(
                "ferry-image:{}",
                hex::encode(Sha256::digest(&bytes))
            )),
            Err(_) => out.push_str(&tail[..comma + 8 + end]),
        }
        rest = &data[end..];
    }
    out.push_str(rest);
    Value::String(out)
}

/// The value at `path` in a record: keys separated by dots; `name[k=v]`
/// picks the element of the array `name` whose `k` is `v` (Zendesk's
/// `custom_fields[id=360001].value`), `name[k=v,k2=w]` the one matching
/// every pair (a knowledge-base version by language and status).
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.') {
        match seg.split_once('[') {
            Some((key, filter)) => {
                let conds: Vec<(&str, &str)> = filter
                    .trim_end_matches(']')
                    .split(',')
                    .map(|c| c.split_once('='))
                    .collect::<Option<_>>()?;
                let arr = if key.is_empty() { cur } else { cur.get(key)? };
                cur = arr.as_array()?.iter().find(|el| {
                    conds.iter().all(|(k, want)| {
                        el.get(k).is_some_and(|x| {
                            x.as_str().map(str::to_string).unwrap_or(x.to_string()) == *want
                        })
                    })
                })?;
            }
            None => cur = cur.get(seg)?,
        }
    }
    Some(cur)
}

/// A value as the comparison sees it: empty (null, missing, "", []) is
/// one value; lists compare as sets of their elements' text; a number
/// equals a numeric string of the same value; two times are equal when
/// they are the same instant, whatever their notation.
#[derive(Debug, PartialEq)]
enum Canon {
    Empty,
    Text(String),
    Number(f64),
    Instant(i64),
    List(Vec<String>),
}

fn canon(v: &Value) -> Canon {
    match v {
        Value::Null => Canon::Empty,
        Value::Bool(b) => Canon::Text(b.to_string()),
        Value::Number(n) => Canon::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                Canon::Empty
            } else if let Some(t) = instant(s) {
                Canon::Instant(t)
            } else {
                Canon::Text(s.to_string())
            }
        }
        Value::Array(a) if a.is_empty() => Canon::Empty,
        Value::Array(a) => {
            let mut l: Vec<String> = a
                .iter()
                .map(|x| x.as_str().map(str::to_string).unwrap_or(x.to_string()))
                .collect();
            l.sort();
            l.dedup();
            Canon::List(l)
        }
        Value::Object(_) => Canon::Text(v.to_string()),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time or Salesforce's
/// `2026-10-02T15:04:05.000+0000`.
fn instant(s: &str) -> Option<i64> {
    if s.len() < 19 || !s.as_bytes()[10].eq_ignore_ascii_case(&b'T') {
        return None;
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn same(expected: &Value, actual: &Value) -> bool {
    match (canon(expected), canon(actual)) {
        (Canon::Number(a), Canon::Text(b)) | (Canon::Text(b), Canon::Number(a)) => b
            .parse::<f64>()
            .is_ok_and(|b| (a - b).abs() <= 1e-9 * a.abs().max(1.0)),
        (Canon::Number(a), Canon::Number(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a == b,
    }
}

/// Whether the text at the destination holds the expected text (an
/// empty expectation holds everywhere). HTML entities for quotes and
/// ampersands are read as their characters: a note's body may be HTML.
fn contains(actual: &Value, expected: &Value) -> bool {
    let want = leaves(expected);
    // `&amp;` last: "&amp;lt;" is the text "&lt;", not "<".
    let have = leaves(actual)
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    want.trim().is_empty() || have.contains(want.trim())
}

/// The text a value holds: a string as itself, a number or boolean as
/// JSON, and every leaf of a list or object (e.g. the bodies of a
/// ticket's messages) on lines of their own, so that a line of a note is
/// found as written, not as escaped JSON.
fn leaves(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(leaves).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => map.values().map(leaves).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// A value for the report: text without its quotes, long values cut.
fn shown(v: &Value) -> String {
    let s = match v {
        Value::Null => "(empty)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_compare_by_meaning_not_notation() {
        let rec = json!({"custom_fields": [{"id": 7, "value": "gold"}, {"id": 8, "value": 12.5}],
                         "tags": ["b", "a"], "user_fields": {"vip": false}});
        assert_eq!(
            lookup(&rec, "custom_fields[id=7].value"),
            Some(&json!("gold"))
        );
        assert_eq!(lookup(&rec, "custom_fields[id=9].value"), None);
        let kb = serde_json::json!({"versions": [
            {"lang": "fr", "status": "superseded", "title": "old"},
            {"lang": "fr", "status": "published", "title": "new"}]});
        assert_eq!(
            lookup(&kb, "versions[lang=fr,status=published].title").unwrap(),
            "new"
        );
        assert_eq!(lookup(&kb, "versions[lang=fr,status=draft].title"), None);
        // An image carried in a body compares by its bytes.
        let body = serde_json::json!("<p>a <img src=\"data:image/png;base64,iVBORw==\"> b</p>");
        assert_eq!(
            images_by_hash(&body),
            serde_json::json!(
                "<p>a <img src=\"ferry-image:0f4636c78f65d3639ece5a064b5ae753e3408614a14fb18ab4d7540d2c248543\"> b</p>"
            )
        );
        assert!(same(&json!(["a", "b"]), lookup(&rec, "tags").unwrap()));
        assert!(same(
            &json!("12.50"),
            lookup(&rec, "custom_fields[id=8].value").unwrap()
        ));
        assert!(same(
            &json!(false),
            lookup(&rec, "user_fields.vip").unwrap()
        ));
        assert!(same(&Value::Null, &json!("")));
        assert!(same(
            &json!("2026-10-02T15:04:05Z"),
            &json!("2026-10-02T15:04:05.000+0000")
        ));
        // A different value, a missing one and a changed list all differ.
        assert!(!same(&json!("gold"), &json!("silver")));
        assert!(!same(&json!("gold"), &Value::Null));
        assert!(!same(&json!(["a"]), &json!(["a", "b"])));
        assert!(!same(&json!(true), &json!(false)));
        assert!(!same(&json!(12.5), &json!("12.6")));
        assert!(contains(
            &json!("Record 42\nCompany: Acme"),
            &json!("Company: Acme")
        ));
        assert!(!contains(&json!("Record 42"), &json!("Company: Acme")));
        // A line of one message among a ticket's messages, found as
        // written although it holds a quote and was HTML-escaped.
        let messages = json!([{"body": "hi"}, {"body": "<p>bioTxt: say &quot;&lt;b&gt;hi&lt;/b&gt;&quot;</p>"}]);
        assert!(contains(&messages, &json!("bioTxt: say \"<b>hi</b>\"")));
        assert!(!contains(&messages, &json!("bioTxt: say hi")));
    }
}
