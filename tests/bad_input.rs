//! The bad-input corpus (`fixtures/bad/*.json`): each case is a record
//! spliced into a real page of the Kustomer simulator, a hostile record the
//! simulator already serves, an isolated run expected to stop, or a broken
//! `ferry.toml`, with its expected outcome as SQL or an exit code and
//! message. Everything else must land untouched.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

fn cases() -> Vec<(String, Value)> {
    let dir = manifest_dir().join("fixtures/bad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().to_string(), v)
        })
        .collect()
}

/// `{{customer0}}`-style placeholders and `{{repeat:x:N}}` bodies.
fn expand(v: &Value, ids: &BTreeMap<&str, String>) -> Value {
    match v {
        Value::String(s) => {
            if let Some(rest) = s
                .strip_prefix("{{repeat:")
                .and_then(|r| r.strip_suffix("}}"))
            {
                let (ch, n) = rest.split_once(':').unwrap();
                return Value::String(ch.repeat(n.parse().unwrap()));
            }
            let mut out = s.clone();
            for (k, id) in ids {
                out = out.replace(&format!("{{{{{k}}}}}"), id);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| expand(x, ids)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), expand(x, ids))).collect())
        }
        other => other.clone(),
    }
}

fn sim_ids(k: &Sim) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("customer0", k.ids("customers")[0].clone()),
        ("conversation0", k.ids("conversations")[0].clone()),
    ])
}

#[test]
fn the_corpus_has_at_least_thirty_cases_each_with_an_expected_outcome() {
    let all = cases();
    assert!(all.len() >= 30, "{} cases", all.len());
    for (name, c) in &all {
        assert!(c["about"].is_string(), "{name}: about");
        assert!(c["expect"]["outcome"].is_string(), "{name}: expect.outcome");
        assert!(
            c["expect"]["sql"].is_string() || c["expect"]["exit"].is_i64(),
            "{name}: a check"
        );
    }
}

#[test]
fn bad_records_are_quarantined_or_handled_and_everything_else_lands() {
    let k = Sim::start(&["--seed", "71", "--customers", "6"]);
    let z = Sim::zendesk(&[]);
    let ids = sim_ids(&k);
    // One injection per (path, method): every case's records on the first page.
    let mut groups: BTreeMap<(String, String), (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    let shared: Vec<(String, Value)> = cases()
        .into_iter()
        .filter(|(_, c)| {
            c["expect"]["sql"].is_string() && !c["isolated"].as_bool().unwrap_or(false)
        })
        .collect();
    assert!(!shared.is_empty(), "no shared bad-input cases found");
    for (_, c) in &shared {
        let inj = &c["inject"];
        if inj.is_null() {
            continue;
        }
        let g = groups
            .entry((
                inj["path"].as_str().unwrap().into(),
                inj["method"].as_str().unwrap().into(),
            ))
            .or_default();
        for r in inj["records"].as_array().into_iter().flatten() {
            g.0.push(expand(r, &ids));
        }
        if let Some(raw) = inj["raw_b64"].as_str() {
            g.1.push(json!(raw));
        }
    }
    for ((path, method), (records, raw)) in groups {
        k.post(
            "/__sim/inject",
            json!({"path": path, "method": method, "kind": "append", "times": 1, "records": records, "raw_b64": raw}),
        );
    }
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "extract: {}", text(&out));
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "transform: {}", text(&out));
    let dry = ferry(&dir, &["load", "--dry-run"]);
    assert!(
        text(&dry).contains("bad-email-invalid"),
        "dry run names the invalid email: {}",
        text(&dry)
    );
    let out = ferry(&dir, &["load"]);
    // Only the rows the corpus makes invalid fail.
    let conn = db(&dir);
    let failed = strings(
        &conn,
        "SELECT source_id FROM ferry_load_errors WHERE http_status IS NOT NULL ORDER BY 1",
    );
    let why = strings(&conn, "SELECT source_id || ': ' || coalesce(error_body, '') FROM ferry_load_errors WHERE http_status IS NOT NULL ORDER BY 1 LIMIT 3");
    assert_eq!(
        failed,
        vec!["bad-email-invalid"],
        "{}\n{why:#?}",
        text(&out)
    );
    let mut broken = Vec::new();
    for (name, c) in &shared {
        let sql = c["expect"]["sql"].as_str().unwrap();
        let ok: Option<bool> = conn
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
        if ok != Some(true) {
            broken.push(format!("{name}: expected {}", c["expect"]["outcome"]));
        }
    }
    assert!(broken.is_empty(), "cases not met:\n{}", broken.join("\n"));
    // Everything the simulator really has landed, untouched by the bad records.
    for object in OBJECTS {
        let landed: std::collections::HashSet<String> =
            strings(&conn, &format!("SELECT id FROM raw_kustomer_{object}"))
                .into_iter()
                .collect();
        for id in k.ids(object) {
            assert!(landed.contains(&id), "{object} {id} did not land");
        }
    }
}

#[test]
fn isolated_cases_stop_where_they_should_with_a_clear_message() {
    let isolated: Vec<(String, Value)> = cases()
        .into_iter()
        .filter(|(_, c)| c["isolated"].as_bool().unwrap_or(false))
        .collect();
    assert!(!isolated.is_empty(), "no isolated bad-input cases found");
    for (name, c) in isolated {
        let k = Sim::start(&["--seed", "72", "--customers", "3"]);
        let ids = sim_ids(&k);
        for inj in c["inject"].as_array().unwrap() {
            let records: Vec<Value> = inj["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| expand(r, &ids))
                .collect();
            k.post(
                "/__sim/inject",
                json!({"path": inj["path"], "method": inj["method"], "kind": "append", "times": 1, "records": records}),
            );
        }
        let (_t, dir) = workspace(&k.url, &[]);
        assert!(
            ferry(&dir, &["extract", "--no-progress"]).status.success(),
            "{name}"
        );
        expect_exit(&name, &c, &dir);
    }
}

/// Runs the case's step; checks its exit code and message. Returns the output text.
fn expect_exit(name: &str, c: &Value, dir: &Path) -> String {
    let out = ferry(dir, &[c["expect"]["step"].as_str().unwrap()]);
    let msg = text(&out);
    assert_eq!(
        out.status.code(),
        Some(c["expect"]["exit"].as_i64().unwrap() as i32),
        "{name}: {msg}"
    );
    let want = c["expect"]["message"].as_str().unwrap();
    assert!(msg.contains(want), "{name}: {want:?} not in {msg}");
    msg
}

#[test]
fn broken_config_files_are_refused_with_the_fix_and_no_secret() {
    let configs: Vec<(String, Value)> = cases()
        .into_iter()
        .filter(|(_, c)| c["config"].is_array())
        .collect();
    assert!(!configs.is_empty(), "no bad-config cases found");
    for (name, c) in configs {
        let edits: Vec<(String, String)> = c["config"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e[0].as_str().unwrap().to_string(),
                    e[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let edits: Vec<(&str, &str)> = edits
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_t, dir) = workspace("http://127.0.0.1:9", &edits);
        let msg = expect_exit(&name, &c, &dir);
        if let Some(secret) = c["expect"]["not_in_message"].as_str() {
            assert!(!msg.contains(secret), "{name}: the secret was echoed");
        }
    }
}
