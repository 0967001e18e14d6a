//! `ferry extract` against `ferry sim kustomer`: completeness, resume after
//! kill -9, faults, deltas, bad input and secrets.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;

#[test]
fn full_extract_lands_every_record_exactly_once() {
    let sim = Sim::start(&["--seed", "3", "--customers", "40"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    let out = ferry(&dir, &["-vv", "extract"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&sim, &dir);

    let conn = db(&dir);
    // Records older than two years came from the archive search only.
    let archived = sim.stats()["archived"].clone();
    for object in [
        "customers",
        "conversations",
        "messages",
        "companies",
        "kobjects",
    ] {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM raw_kustomer_{object} WHERE origin = 'archive'"),
        );
        assert_eq!(
            n,
            archived[object].as_i64().unwrap(),
            "{object} archive-only records"
        );
        assert!(
            n > 0,
            "{object}: the simulator should have archived records"
        );
    }
    // Old notes came per archived conversation.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM raw_kustomer_notes WHERE origin = 'parent'"
        ),
        archived["notes"].as_i64().unwrap()
    );
    // The conversation with more than 5,000 messages is whole.
    let biggest = count(
        &conn,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM raw_kustomer_messages
         GROUP BY json_extract_string(json, '$.relationships.conversation.data.id'))",
    );
    assert!(biggest > 5000, "biggest thread has {biggest} messages");
    // Attachments are content-addressed and verified.
    let files = strings(
        &conn,
        "SELECT DISTINCT sha256 FROM raw_kustomer_attachments",
    );
    assert!(!files.is_empty());
    for sha in &files {
        let bytes = std::fs::read(dir.join("attachments").join(sha)).unwrap();
        let got = format!("{:x}", sha2_digest(&bytes));
        assert_eq!(&got, sha);
    }
    assert!(
        files.len() < count(&conn, "SELECT count(*) FROM raw_kustomer_attachments") as usize,
        "identical files dedup"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_runs WHERE command = 'extract' AND outcome = 'ok'"
        ),
        1
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_extract_state WHERE status = 'complete' AND high_water IS NOT NULL"),
        OBJECTS.len() as i64,
        "every stream is complete with a high-water mark"
    );
    drop(conn);
    assert_no_secret(&dir, &text(&out));
}

fn sha2_digest(bytes: &[u8]) -> impl std::fmt::LowerHex {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
}

/// The key's value appears in no file of the workspace, no table row and
/// no log line (verbose logging included).
fn assert_no_secret(dir: &std::path::Path, logs: &str) {
    assert!(!logs.contains(KEY), "secret in logs");
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "secret in {}",
            entry.display()
        );
    }
    // Parquet and DuckDB compress strings, so also look through SQL.
    let conn = db(dir);
    let tables = strings(&conn, "SELECT table_name FROM information_schema.tables");
    for t in tables {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM \"{t}\" AS t WHERE t::VARCHAR LIKE '%{KEY}%'"),
        );
        assert_eq!(n, 0, "secret in {t}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn kill_9_at_several_points_then_resume_is_complete_without_duplicates() {
    let sim = Sim::start(&["--seed", "5", "--customers", "30", "--latency-ms", "4"]);
    let (_t, dir) = workspace(&sim.url, &[("pages_per_part = 20", "pages_per_part = 2")]);
    let mut killed_mid_run = 0;
    for delay_ms in [250u64, 700, 1200, 1800] {
        let mut child = spawn_ferry(&dir, &["extract", "--no-progress"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        // SIGKILL: no destructor, no flush, no goodbye.
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        killed_mid_run >= 2,
        "the extractor finished before it could be killed"
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&sim, &dir);
    let conn = db(&dir);
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_runs WHERE outcome = 'interrupted'"
        ) >= 2
    );
    // No temp files survive a rerun.
    assert!(walk(&dir)
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".tmp")));
}

#[test]
fn faults_and_a_300_per_minute_tier_still_give_complete_data() {
    let sim = Sim::start(&[
        "--seed",
        "9",
        "--customers",
        "16",
        "--fault-rate",
        "0.05",
        "--rate-limit",
        "300",
    ]);
    let (_t, dir) = workspace(
        &sim.url,
        &[(
            "rate_limit_per_minute = 1000",
            "rate_limit_per_minute = 300",
        )],
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&sim, &dir);
}

#[test]
fn delta_pass_lands_exactly_the_changed_records() {
    let sim = Sim::start(&["--seed", "11", "--customers", "20"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    assert!(ferry(&dir, &["extract", "--no-progress"]).status.success());
    std::thread::sleep(Duration::from_millis(20));
    let mutated = sim.post("/__sim/mutate", serde_json::json!({"count": 25}));
    let want: BTreeSet<String> = mutated["mutated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["object"] != "teams" && m["object"] != "klasses")
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    let run2 = strings(
        &conn,
        "SELECT run_id FROM ferry_runs WHERE command = 'extract' ORDER BY started_at DESC LIMIT 1",
    )
    .remove(0);
    let glob = dir.join("raw/kustomer/*/*.parquet");
    let got: BTreeSet<String> = strings(
        &conn,
        &format!(
            "SELECT id FROM read_parquet('{}') WHERE run_id = '{run2}'",
            glob.display()
        ),
    )
    .into_iter()
    .collect();
    assert_eq!(
        got, want,
        "the delta pass must land the changed records and nothing else"
    );
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM read_parquet('{}') WHERE run_id = '{run2}'",
                glob.display()
            )
        ) as usize,
        want.len(),
        "each changed record lands once"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_extract_state WHERE pass_started IS NULL"
        ),
        0
    );
    drop(conn);
    assert_complete(&sim, &dir);
    // The views show the newest version of a changed record.
    let conn = db(&dir);
    let rev = count(&conn, &format!(
        "SELECT max(CAST(json_extract(json, '$.attributes.rev') AS BIGINT)) FROM raw_kustomer_{} WHERE id = '{}'",
        mutated["mutated"][0]["object"].as_str().unwrap(),
        mutated["mutated"][0]["id"].as_str().unwrap()
    ));
    assert!(rev >= 2);
    drop(conn);

    // --since far in the future lands nothing; --since long ago re-lands a list-only object.
    let out = ferry(
        &dir,
        &[
            "extract",
            "--no-progress",
            "--since",
            "2999-01-01",
            "--only",
            "customers,tags",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(
        &dir,
        &[
            "extract",
            "--no-progress",
            "--since",
            "2000-01-01",
            "--only",
            "tags",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    let run4 = strings(
        &conn,
        "SELECT run_id FROM ferry_runs ORDER BY started_at DESC LIMIT 1",
    )
    .remove(0);
    let n = count(
        &conn,
        &format!(
            "SELECT count(*) FROM read_parquet('{}') WHERE run_id = '{run4}'",
            glob.display()
        ),
    );
    assert_eq!(n as usize, sim.ids("tags").len());
}

#[test]
fn invalid_json_page_fails_that_stream_clearly_and_keeps_the_rest() {
    let sim = Sim::start(&["--seed", "13", "--customers", "10"]);
    let (_t, dir) = workspace(&sim.url, &[("max_attempts = 10", "max_attempts = 3")]);
    sim.post(
        "/__sim/inject",
        serde_json::json!({"path": "/v1/tags", "kind": "invalid_json"}),
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("tags failed") && t.contains("invalid JSON") && t.contains("/v1/tags"),
        "{t}"
    );
    let conn = db(&dir);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM raw_kustomer_customers") as usize,
        sim.ids("customers").len()
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_runs WHERE outcome = 'failed'"
        ),
        1
    );
    drop(conn);
    // Fixed upstream: a rerun finishes the failed stream.
    sim.delete("/__sim/inject");
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&sim, &dir);
}

#[test]
fn records_with_missing_ids_or_wrong_types_are_quarantined_with_reasons() {
    let sim = Sim::start(&["--seed", "17", "--customers", "10"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    sim.post(
        "/__sim/inject",
        serde_json::json!({"path": "/v1/teams", "kind": "missing_id", "times": 1}),
    );
    sim.post(
        "/__sim/inject",
        serde_json::json!({"path": "/v1/tags", "kind": "wrong_types", "times": 1}),
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    let reasons = strings(
        &conn,
        // (an inline image the simulated CDN lost is quarantined too)
        "SELECT object || ': ' || reason FROM ferry_quarantine WHERE object <> 'inline_images' ORDER BY object DESC",
    );
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("teams: record has no `id`"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("tags: `id` must be a string"),
        "{reasons:?}"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM raw_kustomer_teams") as usize,
        sim.ids("teams").len() - 1
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM raw_kustomer_customers") as usize,
        sim.ids("customers").len()
    );
}

#[test]
fn http_404_on_one_stream_names_the_url_and_keeps_the_others() {
    let sim = Sim::start(&["--seed", "19", "--customers", "10"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    sim.post(
        "/__sim/inject",
        serde_json::json!({"path": "/v1/klasses", "kind": "status", "status": 404}),
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("klasses failed") && t.contains("HTTP 404") && t.contains("/v1/klasses"),
        "{t}"
    );
    let conn = db(&dir);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM raw_kustomer_conversations") as usize,
        sim.ids("conversations").len()
    );
}

#[test]
fn wrong_key_gives_one_clear_line_without_the_key() {
    let sim = Sim::start(&["--customers", "5"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    let out = std::process::Command::new(bin())
        .arg("-C")
        .arg(&dir)
        .args(["extract", "--no-progress"])
        .env("KUSTOMER_API_KEY", "wrong-key-123")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("rejected the credentials (HTTP 401)") && t.contains("$KUSTOMER_API_KEY"),
        "{t}"
    );
    assert!(!t.contains("wrong-key-123"));
    assert_eq!(t.trim().lines().count(), 1, "one line: {t}");
}

#[test]
fn config_and_environment_errors_name_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    // No workspace.
    let out = ferry(tmp.path(), &["extract"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("ferry init"), "{}", text(&out));
    // Usage error.
    let out = ferry(tmp.path(), &["extract", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    // Missing secret.
    let (_t, dir) = workspace("http://127.0.0.1:9", &[]);
    let out = std::process::Command::new(bin())
        .arg("-C")
        .arg(&dir)
        .arg("extract")
        .env_remove("KUSTOMER_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("KUSTOMER_API_KEY is not set"),
        "{}",
        text(&out)
    );
    // Unreachable host (nothing listens on port 9 of loopback).
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("cannot reach Kustomer") && t.contains("source.base_url"),
        "{t}"
    );
    // Invalid config.
    std::fs::write(
        dir.join("ferry.toml"),
        "route = \"kustomer-zendesk\"\n[source]\nkind = 3\n",
    )
    .unwrap();
    let out = ferry(&dir, &["extract"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("invalid") && text(&out).contains("ferry.toml"),
        "{}",
        text(&out)
    );
    // init refuses to overwrite.
    let out = ferry(&dir, &["init", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_second_ferry_on_the_same_workspace_is_refused() {
    // Slow enough that the first run outlasts the 3 seconds a writer
    // waits for a reader's lock.
    let sim = Sim::start(&["--customers", "20", "--latency-ms", "250"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    let mut first = spawn_ferry(&dir, &["extract", "--no-progress"]);
    std::thread::sleep(Duration::from_millis(400));
    let out = ferry(&dir, &["extract", "--no-progress"]);
    let still_running = first.try_wait().unwrap().is_none();
    let _ = first.kill();
    let _ = first.wait();
    assert!(still_running, "first run ended too early for the test");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("another ferry process holds the workspace lock"),
        "{}",
        text(&out)
    );
}

/// Ctrl-C (SIGINT) mid-extract: every page read is landed and its cursor
/// recorded, the run is `interrupted`, ferry says how to resume and exits
/// 130. The rerun resumes each unfinished pass and its counters go on from
/// what the first run landed (not from 0). `-v --log-format json` gives
/// one JSON object a line on stderr, with no colour codes.
#[test]
fn ctrl_c_stops_the_extract_cleanly_and_the_resume_counts_on() {
    let sim = Sim::start(&["--seed", "7", "--customers", "40", "--latency-ms", "30"]);
    let (_t, dir) = workspace(&sim.url, &[("pages_per_part = 20", "pages_per_part = 1")]);
    let child = ferry_command(
        &dir,
        &["-v", "--log-format", "json", "extract", "--no-progress"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let started = std::time::Instant::now();
    // Mid-way: a stream not finished with a hundred records or more landed.
    let mid_way = |dir: &std::path::Path| -> bool {
        std::fs::read(dir.join("state/live.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| {
                v["phases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["finished"] == false && p["done"].as_u64().unwrap_or(0) >= 100)
            })
    };
    while !mid_way(&dir) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no stream got mid-way"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(
        err.contains("stopping: no new pages") && err.contains("rerun the command to resume"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "no colour codes when piped: {err}");
    let json: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        json.iter()
            .any(|v| v["fields"]["message"] == "stream pass starts"
                && v["fields"]["object"].is_string()),
        "-v --log-format json: {err}"
    );
    let conn = db(&dir);
    assert_eq!(
        strings(
            &conn,
            "SELECT outcome FROM ferry_runs WHERE command = 'extract' ORDER BY started_at DESC LIMIT 1"
        ),
        vec!["interrupted"]
    );
    // What each unfinished pass had landed when it stopped.
    let mut stmt = conn
        .prepare(
            "SELECT s.object, sum(p.records)::BIGINT FROM ferry_extract_state s JOIN ferry_raw_parts p
               ON p.source = s.source AND p.object = s.object AND p.created_at >= s.pass_started
             WHERE s.status = 'running' GROUP BY ALL HAVING sum(p.records) > 0",
        )
        .unwrap();
    let resumed: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    drop(stmt);
    drop(conn);
    assert!(!resumed.is_empty(), "a stream was stopped mid-pass");

    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&sim, &dir);
    let live: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("state/live.json")).unwrap()).unwrap();
    assert_eq!(live["outcome"], "ok");
    let conn = db(&dir);
    let mut went_on = 0;
    for (object, before) in &resumed {
        let phase = live["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == object.as_str())
            .unwrap_or_else(|| panic!("{object} in {live}"));
        let done = phase["done"].as_i64().unwrap();
        let whole = count(
            &conn,
            &format!("SELECT count(*) FROM raw_kustomer_{object}"),
        );
        // Counted from 0 again, a stream would show only what the rerun
        // landed: fewer than the whole.
        assert!(
            done >= whole,
            "{object}: the resumed pass counts on from the {before} landed before the stop: {done} of {whole}"
        );
        if *before < whole {
            went_on += 1;
        }
    }
    assert!(
        went_on > 0,
        "a stream stopped with records still to land: {resumed:?}"
    );
}

/// When the API does not answer for a while, ferry says what it waits for
/// (on stderr and in the run's log) instead of staying silent.
#[test]
fn a_slow_api_is_waited_for_in_words() {
    let sim = Sim::start(&["--seed", "8", "--customers", "2", "--latency-ms", "2500"]);
    let (_t, dir) = workspace(&sim.url, &[]);
    let out = ferry_command(&dir, &["extract", "--only", "teams", "--no-progress"])
        .env("FERRY_WAIT_SECS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no answer from Kustomer for") && err.contains("still waiting"),
        "{err}"
    );
    let log = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(log.contains("still waiting"), "{log}");
}
