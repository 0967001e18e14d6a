//! `ferry sim intercom` against outside references: Intercom's official
//! Python SDK (`python-intercom` 5.0.1, generated from Intercom's OpenAPI)
//! reads everything a migration needs through its own pagers, unmodified,
//! with a Prism proxy holding Intercom's 2.14 spec
//! (`../shared/reference/intercom-openapi-2.14.yaml`) between them: zero
//! request and zero response violations. Then the rules no spec file
//! states but Intercom's docs do: the scroll (one per app, restart after a
//! 500), the 500-part cap, 10-second windows, expiring attachment links.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::Value;

fn python() -> PathBuf {
    let p = home_cache("ferry-intercom-py/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run `bash .ci/run` once (it installs python-intercom 5.0.1)",
        p.display()
    );
    p
}

/// Violations that are the 2.14 spec contradicting itself or Prism
/// misreading it, not the simulator or ferry, as (path, words of the
/// message, why):
/// - `contact_tags`/`contact_notes`/`contact_companies` declare `url` with
///   `format: uri` but give relative examples
///   ("/contacts/5ba682d23d7cf92bef87bfd4/notes"), and `addressable_list`
///   declares `type` with `format: uri` and the example "note";
/// - `company.custom_attributes` declares string values, and its own
///   example is `{"paid_subscriber": true, "monthly_spend": 155.5}`;
/// - `GET /events` declares `filter` as an exploded form object
///   (`?intercom_user_id=…`) whose variants forbid other keys, and Prism
///   folds the other query parameters (`type`, `summary`) into it.
const SPEC_NOISE: &[(&str, &str)] = &[
    ("tags.url", "must match format \"uri\""),
    ("notes.url", "must match format \"uri\""),
    ("companies.url", "must match format \"uri\""),
    ("tags.data.N.url", "must match format \"uri\""),
    ("tags.data.N.type", "must match format \"uri\""),
    ("notes.data.N.url", "must match format \"uri\""),
    ("notes.data.N.type", "must match format \"uri\""),
    ("companies.data.N.url", "must match format \"uri\""),
    ("custom_attributes.company_integer_attr", "must be string"),
    ("custom_attributes.company_float_attr", "must be string"),
    ("custom_attributes.company_boolean_attr", "must be string"),
    ("custom_attributes.company_date_attr", "must be string"),
    (
        "request.query.filter",
        "Request query parameter filter must",
    ),
];

/// Whether a Prism line is the complaint `words` at `pattern` (list
/// indexes as N).
fn noise(line: &str, pattern: &str, words: &str) -> bool {
    if !line.contains(words) {
        return false;
    }
    let Some(path) = line
        .split("Violation: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
    else {
        return false;
    };
    indexes_as_n(path).ends_with(pattern)
}

/// A Prism property path with its list indexes as `N`.
fn indexes_as_n(path: &str) -> String {
    path.split('.')
        .map(|seg| {
            if seg.chars().all(|c| c.is_ascii_digit()) {
                "N"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn sdk(url: &str, since: i64) -> Value {
    let script = manifest_dir().join("tests/outside/intercom_sdk_check.py");
    let out = Command::new(python())
        .arg(&script)
        .args([url, INTERCOM_TOKEN, &since.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-intercom failed: {}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(v: &Value, skip: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["id"].as_str().map(str::to_string))
        .filter(|i| !skip.contains(&i.as_str()))
        .collect();
    out.sort();
    out
}

#[test]
fn python_intercom_reads_the_simulator_through_prism_without_a_violation() {
    let sim = Sim::intercom(&["--contacts", "30", "--seed", "3"]);
    let mut proxy = Prism::start(&reference("intercom-openapi-2.14.yaml"), &sim.url);
    let d = sim.get("/__sim/dump");
    let merged = merged_ids(&d);
    assert!(!merged.is_empty(), "the workspace has merged leads");
    let median = {
        let mut u: Vec<i64> = d["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["updated_at"].as_i64().unwrap())
            .collect();
        u.sort();
        u[u.len() / 2]
    };
    let via = proxy.url.clone();
    let v = sdk(&via, median);
    // ferry's own extractor through the same proxy.
    let ws = tempfile::tempdir().unwrap();
    let conn = extract(ws.path(), &via, false);
    let checks = probe(&via);
    proxy.stop();
    let log = proxy.log();
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Violation"))
        .filter(|l| {
            !SPEC_NOISE
                .iter()
                .any(|(pattern, words)| noise(l, pattern, words))
        })
        .collect();
    assert!(
        violations.is_empty(),
        "Prism found {} violations, distinct:\n{}",
        violations.len(),
        {
            let mut d: Vec<String> = violations
                .iter()
                .map(|l| indexes_as_n(l.split("Violation: ").nth(1).unwrap_or(l)))
                .collect();
            d.sort();
            d.dedup();
            d.join("\n")
        }
    );
    assert!(
        log.matches("Request received").count() >= 15,
        "every read went through prism"
    );

    // What the SDK saw is the workspace: merged leads are gone from lists.
    assert_eq!(
        v["contacts"],
        serde_json::json!(ids(&d["contacts"], &merged))
    );
    let want_users: Vec<String> = {
        let mut u: Vec<String> = d["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["role"] == "user"
                    && c["updated_at"].as_i64().unwrap() >= median - median.rem_euclid(86_400) + 86_400 // by calendar day: `>` starts at the next midnight
                    && !merged.contains(&c["id"].as_str().unwrap())
            })
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };
    assert!(!want_users.is_empty());
    assert_eq!(v["users_updated_since"], serde_json::json!(want_users));
    assert_eq!(
        v["conversations"],
        serde_json::json!(ids(&d["conversations"], &[]))
    );
    assert_eq!(v["companies"], serde_json::json!(ids(&d["companies"], &[])));
    assert_eq!(v["tickets"], serde_json::json!(ids(&d["tickets"], &[])));
    assert_eq!(v["admins"], serde_json::json!(ids(&d["admins"], &[])));
    assert_eq!(v["articles"], serde_json::json!(ids(&d["articles"], &[])));
    assert_eq!(
        v["collections"],
        serde_json::json!(ids(&d["collections"], &[]))
    );
    // The 600-part conversation: the newest 500 returned, total_count 600.
    assert_eq!(
        v["long_parts"],
        serde_json::json!({"returned": 500, "total_count": 600})
    );
    assert_eq!(v["long_source_author"], "user");
    // Archived data attributes only with include_archived.
    assert!(v["data_attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "contact_legacy_code"));

    // `ferry probe`'s reads: auth, the 10-second windows, search paging.
    assert_eq!(checks.len(), 3, "{checks:?}");
    assert!(
        checks
            .iter()
            .all(|c| c.outcome == ferry::connector::ProbeOutcome::Ok),
        "{checks:?}"
    );
    assert!(
        checks[1]
            .detail
            .contains("1666 requests per 10-second window"),
        "{checks:?}"
    );

    check_landed(&conn, &d);
    // A second pass reads only what changed since the high-water marks
    // (less a minute): nothing new, so the searches land next to nothing,
    // and the raw views still hold each record once.
    drop(conn);
    let before = sim.stats()["requests"].as_u64().unwrap();
    let conn = extract(ws.path(), &sim.url, true);
    let delta = sim.stats()["requests"].as_u64().unwrap() - before;
    assert!(
        delta < 40,
        "a delta pass with nothing new made {delta} requests"
    );
    check_landed(&conn, &d);
}

/// The Intercom source over `url`, as `[source]` would configure it.
fn source(url: &str) -> std::sync::Arc<dyn ferry::connector::Source> {
    // A name of this test's own: tests of one binary share the environment.
    std::env::set_var("FERRY_TEST_INTERCOM_TOKEN", INTERCOM_TOKEN);
    let table: toml::Table = toml::from_str(&format!(
        "base_url = \"{url}\"\naccess_token_env = \"FERRY_TEST_INTERCOM_TOKEN\"\nper_page = 7\n"
    ))
    .unwrap();
    (ferry::connectors::intercom::SOURCE.open)(&table).unwrap_or_else(|e| panic!("{e:?}"))
}

fn probe(url: &str) -> Vec<ferry::connector::ProbeCheck> {
    let s = source(url);
    let client = s.client().unwrap();
    let cfg = Default::default();
    rt().block_on(s.probe(&client, &cfg))
}

/// Runs ferry's Intercom extractor into the workspace at `dir` (created
/// on the first call) against `url`.
fn extract(dir: &std::path::Path, url: &str, again: bool) -> duckdb::Connection {
    use std::sync::{Arc, Mutex};
    let source = source(url);
    for sub in ["raw", "attachments"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb")).unwrap();
    ferry::meta::ensure(&conn).unwrap();
    let db = Arc::new(Mutex::new(conn));
    let run = ferry::connector::ExtractRun {
        ws: dir.to_path_buf(),
        run_id: if again { "r2".into() } else { "r1".into() },
        client: Arc::new(source.client().unwrap()),
        db: db.clone(),
        cfg: Default::default(),
        opts: ferry::extract::ExtractOptions::default(),
    };
    let sums = rt().block_on(source.extract(run)).unwrap();
    assert!(sums.iter().all(|s| s.error.is_none()), "{sums:?}");
    let conn = Arc::try_unwrap(db).ok().unwrap().into_inner().unwrap();
    ferry::views::ensure_raw_views(&conn, dir, source.as_ref()).unwrap();
    conn
}

/// What ferry landed is the workspace, record for record: every object,
/// the conversations with all the parts the API gives (and the 600-part
/// one flagged with the 100 it lost), every attachment's bytes.
/// The leads the simulated workspace merged away (gone from lists).
fn merged_ids(d: &Value) -> Vec<&str> {
    d["merged"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn check_landed(conn: &duckdb::Connection, d: &Value) {
    let merged = merged_ids(d);
    let landed = |object: &str| -> Vec<String> {
        strings(
            conn,
            &format!("SELECT id FROM raw_intercom_{object} ORDER BY id"),
        )
    };
    for (object, skip) in [
        ("admins", &[][..]),
        ("teams", &[]),
        ("tags", &[]),
        ("segments", &[]),
        ("companies", &[]),
        ("contacts", &merged[..]),
        ("conversations", &[]),
        ("tickets", &[]),
        ("collections", &[]),
        ("articles", &[]),
    ] {
        assert_eq!(landed(object), ids(&d[object], skip), "{object}");
    }
    let attrs = count(conn, "SELECT count(*) FROM raw_intercom_data_attributes");
    assert_eq!(
        attrs,
        d["data_attributes"].as_array().unwrap().len() as i64,
        "data attributes, archived ones too"
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM raw_intercom_contact_notes"),
        d["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| !merged.contains(&n["contact"]["id"].as_str().unwrap()))
            .count() as i64
    );
    // Segment membership as the workspace has it: every live contact is
    // in exactly one simulated segment.
    let live = d["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !merged.contains(&c["id"].as_str().unwrap()))
        .count() as i64;
    assert_eq!(
        count(conn, "SELECT count(*) FROM raw_intercom_segment_members"),
        live
    );
    // A summary per live contact, leads too (the spec: `intercom_user_id`
    // "can be used to list leads").
    assert_eq!(
        count(conn, "SELECT count(*) FROM raw_intercom_event_summaries"),
        live
    );
    // Parts: all of them but for the long one, which keeps the newest 500.
    let parts = count(conn, "SELECT sum(json_array_length(json, '$.conversation_parts.conversation_parts')) FROM raw_intercom_conversations");
    let all: i64 = d["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_parts"]["total_count"].as_i64().unwrap())
        .sum();
    assert_eq!(parts, all - 100);
    let truncated = strings(conn, ferry::connectors::intercom::TRUNCATED_SQL);
    assert_eq!(truncated.len(), 1, "{truncated:?}");
    let why = strings(
        conn,
        &format!(
            "SELECT reason FROM ({}) WHERE source_id = '2000001'",
            ferry::connectors::intercom::TRUNCATED_SQL
        ),
    );
    assert!(
        why[0].contains("500 of its 600 parts") && why[0].contains("100 older parts lost"),
        "{why:?}"
    );
    // Attachments: every file, its bytes as the workspace holds them.
    // (Those on the long conversation's 100 oldest parts are beyond reach.)
    let long = d["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "2000001")
        .unwrap();
    let lost: Vec<String> = long["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()[..100]
        .iter()
        .flat_map(|p| p["attachments"].as_array().unwrap().iter())
        .map(|a| {
            a["url"]
                .as_str()
                .unwrap()
                .trim_start_matches("/__cdn/")
                .to_string()
        })
        .collect();
    assert!(!lost.is_empty());
    let want: std::collections::BTreeSet<String> = d["attachments"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, _)| !lost.contains(id))
        .map(|(_, s)| s.as_str().unwrap().to_string())
        .collect();
    let got: std::collections::BTreeSet<String> = strings(
        conn,
        "SELECT DISTINCT sha256 FROM raw_intercom_attachments WHERE json->>'$.type' <> 'inline_image'",
    )
    .into_iter()
    .collect();
    assert_eq!(got, want);
    // Inline images of HTML bodies were downloaded too, one per <img>.
    let imgs = count(
        conn,
        "SELECT count(*) FROM raw_intercom_attachments WHERE json->>'$.type' = 'inline_image'",
    );
    let in_bodies = count(
        conn,
        "SELECT sum(len(string_split(json, '<img')) - 1) FROM raw_intercom_conversations",
    );
    assert!(imgs > 0);
    assert_eq!(imgs, in_bodies);
}

#[test]
fn scroll_rate_windows_and_attachment_links_follow_intercoms_rules() {
    let sim = Sim::intercom(&[
        "--contacts",
        "200",
        "--per-minute",
        "600",
        "--scroll-fail-at",
        "2",
        "--attachment-ttl-secs",
        "2",
    ]);
    let client = reqwest::Client::new();
    let get = |path: String| {
        let c = client.clone();
        let url = format!("{}{}", sim.url, path);
        rt().block_on(async move {
            let r = c
                .get(url)
                .bearer_auth(INTERCOM_TOKEN)
                .header("Intercom-Version", "2.14")
                .send()
                .await
                .unwrap();
            let h = r.headers().clone();
            (
                r.status().as_u16(),
                h,
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        })
    };
    // Without a token: 401 error.list, no rate headers.
    let r = rt()
        .block_on(reqwest::get(format!("{}/contacts", sim.url)))
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("x-ratelimit-limit").is_none());
    // The scroll: a second open scroll is refused; page 2 fails with the
    // documented 500 and the scroll must start over.
    let (s, _, first) = get("/companies/scroll".into());
    assert_eq!(s, 200);
    let param = first["scroll_param"].as_str().unwrap().to_string();
    let (s, _, e) = get("/companies/scroll".into());
    assert_eq!(s, 400, "{e}");
    let (s, _, e) = get(format!("/companies/scroll?scroll_param={param}"));
    assert_eq!(s, 500);
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("restart the scroll"),
        "{e}"
    );
    let (s, _, e) = get(format!("/companies/scroll?scroll_param={param}"));
    assert_eq!(s, 404, "the failed scroll is gone: {e}");
    let mut seen = Vec::new();
    let (mut s, _, mut page) = get("/companies/scroll".into());
    while s == 200 && !page["data"].as_array().unwrap().is_empty() {
        seen.extend(ids(&page["data"], &[]));
        let p = page["scroll_param"].as_str().unwrap().to_string();
        (s, _, page) = get(format!("/companies/scroll?scroll_param={p}"));
    }
    assert_eq!(s, 200);
    let d = sim.get("/__sim/dump");
    seen.sort();
    assert_eq!(
        seen,
        ids(&d["companies"], &[]),
        "a restarted scroll reads every company"
    );
    // Attachment links are signed and expire.
    let (_, _, conv) = get("/conversations/2000000".into());
    let url = conv["source"]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.contains("expires="), "{url}");
    let ok = rt().block_on(reqwest::get(&url)).unwrap();
    assert_eq!(ok.status(), 200);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let gone = rt().block_on(reqwest::get(&url)).unwrap();
    assert_eq!(gone.status(), 403, "an expired link is refused");
    // 10-second windows: 100 requests a window at 600/min, then 429
    // rate_limit_exceeded with the reset time.
    let mut last = (0, reqwest::header::HeaderMap::new(), Value::Null);
    for _ in 0..150 {
        last = get("/admins".into());
        if last.0 == 429 {
            break;
        }
    }
    assert_eq!(last.0, 429);
    assert_eq!(last.2["errors"][0]["code"], "rate_limit_exceeded");
    assert_eq!(last.1["x-ratelimit-limit"], "100");
    assert_eq!(last.1["x-ratelimit-remaining"], "0");
    let reset: i64 = last.1["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(reset > now - 1 && reset <= now + 10, "{reset} vs {now}");
    let stats = sim.stats();
    assert!(stats["versions"]["2.14"].as_u64().unwrap() > 0);
}
