//! The chaos suite: crashes at exact moments (test hooks inside the real
//! binary) and kill -9 at seeded random moments across extract, transform
//! and load, a rerun after each; the destination must end up exactly as an
//! uninterrupted run leaves it. Plus a full disk while landing and while
//! exporting, and faults on both APIs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::*;

/// What the destination holds, without Zendesk's ids (which differ
/// between runs): sorted, so a duplicate shows as an extra entry.
fn signature(z: &Sim) -> Vec<String> {
    let d = z.get("/__sim/dump");
    let mut out = Vec::new();
    let list = |k: &str| d[k].as_array().cloned().unwrap_or_default();
    for o in list("organizations") {
        out.push(format!("org {} {}", o["external_id"], o["name"]));
    }
    let users = list("users");
    let ext_of = |id: &serde_json::Value| {
        users
            .iter()
            .find(|u| u["id"] == *id)
            .map(|u| format!("{}{}", u["external_id"], u["email"]))
            .unwrap_or_default()
    };
    for u in &users {
        out.push(format!(
            "user {} {} {}",
            u["external_id"], u["email"], u["role"]
        ));
    }
    for i in list("identities") {
        out.push(format!("identity {} {}", ext_of(&i["user_id"]), i["value"]));
    }
    for g in list("groups") {
        out.push(format!("group {}", g["name"]));
    }
    out.push(format!("memberships {}", list("group_memberships").len()));
    for t in list("tickets") {
        let comments = t["comments"].as_array().unwrap();
        let atts: Vec<String> = comments
            .iter()
            .flat_map(|c| c["attachments"].as_array().cloned().unwrap_or_default())
            .map(|a| format!("{}:{}", a["sha256"], a["size"]))
            .collect();
        out.push(format!(
            "ticket {} {} {} requester={} comments={} atts={:?}",
            t["external_id"],
            t["status"],
            t["subject"],
            ext_of(&t["requester_id"]),
            comments.len(),
            atts
        ));
    }
    for c in list("custom_objects") {
        out.push(format!("custom_object {}", c["key"]));
    }
    for r in list("custom_object_records") {
        out.push(format!(
            "record {} {}",
            r["custom_object_key"], r["external_id"]
        ));
    }
    out.sort();
    out
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = ferry_command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A seeded pseudo-random sequence (xorshift), so a failing run replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Kills ferry with SIGKILL after `ms`; true when it was still running
/// then (the kill landed mid-work, not after a clean exit).
fn kill_after(dir: &Path, args: &[&str], ms: u64) -> bool {
    let mut child = spawn_ferry(dir, args);
    std::thread::sleep(Duration::from_millis(ms));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    running
}

/// Whether the process died at the crash hook: aborted (SIGABRT) after
/// announcing the point, not a clean or an ordinary failing exit.
fn died_at_hook(out: &std::process::Output, point: &str) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(6)
        && String::from_utf8_lossy(&out.stderr).contains(&format!(
            "FERRY_CRASH_AT={}: aborting now",
            point.split(':').next().unwrap()
        ))
}

#[test]
fn crashes_at_twenty_points_leave_the_destination_as_an_uninterrupted_run() {
    let k = Sim::start(&["--seed", "51", "--customers", "8"]);

    // The reference: one uninterrupted migration.
    let z0 = Sim::zendesk(&[]);
    let (_t0, d0) = workspace_to(&k.url, &z0.url, &[]);
    for step in [&["extract", "--no-progress"][..], &["transform"], &["load"]] {
        let out = ferry(&d0, step);
        assert!(out.status.success(), "{step:?}: {}", text(&out));
    }
    let want = signature(&z0);
    assert!(want.len() > 20, "{}", want.len());

    let z = Sim::zendesk(&[]);
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    let mut rng = Rng(0x5eed_0051);
    // Crash points that really fired: the process died there.
    let mut fired = 0;
    // Exact moments: mid Parquet write, between a part's rename and its
    // DuckDB commit, inside DuckDB commits, between an API answer and its
    // record.
    let plan: &[(&[&str], &str)] = &[
        (&["extract", "--no-progress"], "land.tmp_written:1"),
        (&["extract", "--no-progress"], "land.renamed:1"),
        (&["extract", "--no-progress"], "extract.commit:2"),
        (&["extract", "--no-progress"], "land.tmp_written:3"),
        (&["extract", "--no-progress"], "land.renamed:4"),
        // Streams land concurrently, so how much the crashed passes left
        // depends on timing: one clean pass gives the load points below
        // the whole org to crash in, on any machine.
        (&["extract", "--no-progress"], "none"),
        (&["transform"], "transform.script:1"),
        (&["transform"], "transform.script:3"),
        (&["transform"], "transform.script:2"),
        (&["transform"], "none"),
        (&["load"], "load.sent:1"),
        (&["load"], "load.commit:1"),
        (&["load"], "load.sent:2"),
        (&["load"], "load.commit:1"),
        (&["load"], "load.sent:1"),
        (&["load"], "load.commit:2"),
        (&["load"], "load.sent:1"),
        (&["load"], "load.sent:3"),
        (&["load"], "load.commit:3"),
        (&["load"], "load.sent:2"),
    ];
    let mut crashed = Vec::new();
    // A load after one that died with batches in flight says, in ferry's
    // words, what it found of them and why nothing is created twice.
    let mut in_doubt_said = Vec::new();
    for (args, point) in plan {
        let mut out = run_env(&dir, args, &[("FERRY_CRASH_AT", point)]);
        let said = text(&out);
        if let Some(line) = said.lines().find(|l| {
            l.contains("had been sent when the last run stopped, without a recorded answer")
        }) {
            in_doubt_said.push(line.to_string());
        }
        if args[0] == "load" && !died_at_hook(&out, point) && out.status.success() {
            // Earlier crashes left so little to send that this load
            // finished before reaching the point: undo everything it
            // created (rollback by the id map) so the point has work to
            // crash in, and run it again.
            let rb = ferry(&dir, &["rollback", "--yes", "--all"]);
            assert!(rb.status.success(), "rollback: {}", text(&rb));
            out = run_env(&dir, args, &[("FERRY_CRASH_AT", point)]);
        }
        if died_at_hook(&out, point) {
            assert_ne!(*point, "none", "a run without a hook died at one");
            crashed.push(*point);
        } else {
            eprintln!("{point} did not fire: {}", text(&out));
        }
        // A second ferry must always be able to open the workspace.
        let out = ferry(&dir, &["status"]);
        assert!(out.status.success(), "after {point}: {}", text(&out));
    }
    eprintln!("hooks that fired: {crashed:?}");
    assert!(
        !in_doubt_said.is_empty()
            && in_doubt_said.iter().all(|l| l
                .contains("found in the destination by their external id")
                || l.contains("nothing is created twice")),
        "in-doubt batches explained on resume: {in_doubt_said:?}"
    );
    fired += crashed.len();
    assert!(crashed.len() >= 15, "most hooks fired: {crashed:?}");
    // Random moments: kill -9 after a seeded delay.
    for args in [
        &["extract", "--no-progress", "--full"][..],
        &["extract", "--no-progress", "--full"],
        &["transform", "--rebuild"],
        &["load"],
        &["load"],
        &["load"],
    ] {
        let ms = 50 + rng.next(900);
        if kill_after(&dir, args, ms) {
            fired += 1;
        }
        if args[0] == "load" {
            // Loads can only go on once extract and transform are whole.
            let _ = ferry(&dir, &["extract", "--no-progress"]);
            let _ = ferry(&dir, &["transform"]);
        }
    }
    assert!(fired >= 20, "only {fired} crashes landed mid-work");
    for step in [&["extract", "--no-progress"][..], &["transform"], &["load"]] {
        let out = ferry(&dir, step);
        assert!(out.status.success(), "final {step:?}: {}", text(&out));
    }
    let got = signature(&z);
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
    assert_eq!(got, want, "same records, no duplicates");
    let out = ferry(&dir, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_full_disk_while_landing_keeps_what_landed_and_a_rerun_completes() {
    let k = Sim::start(&["--seed", "52", "--customers", "5"]);
    let (_t, dir) = workspace(&k.url, &[("pages_per_part = 20", "pages_per_part = 1")]);
    let out = run_env(
        &dir,
        &["extract", "--no-progress"],
        &[("FERRY_FAIL_WRITE", "land.write:6")],
    );
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("No space left on device") && msg.contains("free disk space"),
        "{msg}"
    );
    let conn = db(&dir);
    let landed = count(&conn, "SELECT count(*) FROM ferry_raw_parts");
    assert!(landed >= 5, "parts before the failure stay: {landed}");
    drop(conn);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_complete(&k, &dir);
}

#[test]
fn a_full_disk_while_exporting_leaves_no_half_export_and_earlier_ones_intact() {
    let k = Sim::start(&["--seed", "53", "--customers", "3"]);
    let (_t, dir) = workspace(&k.url, &[]);
    assert!(ferry(&dir, &["extract", "--no-progress"]).status.success());
    assert!(ferry(&dir, &["transform"]).status.success());
    assert!(ferry(&dir, &["archive", "--set", "excluded"])
        .status
        .success());
    let before = std::fs::read(dir.join("exports/excluded/SHA256SUMS")).unwrap();
    let out = run_env(
        &dir,
        &["archive", "--set", "excluded", "--replace"],
        &[("FERRY_FAIL_WRITE", "archive.write:3")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("No space left on device"),
        "{}",
        text(&out)
    );
    // The earlier export is untouched and still verifies; no temp dir is left.
    assert_eq!(
        std::fs::read(dir.join("exports/excluded/SHA256SUMS")).unwrap(),
        before
    );
    let left: BTreeSet<String> = std::fs::read_dir(dir.join("exports"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, BTreeSet::from(["excluded".to_string()]));
    let ex = dir.join("exports/excluded");
    assert!(ferry(&dir, &["archive", "--verify", ex.to_str().unwrap()])
        .status
        .success());
    let out = ferry(&dir, &["archive", "--set", "excluded", "--replace"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn network_faults_on_both_apis_at_fifteen_percent_complete_the_migration() {
    let k = Sim::start(&["--seed", "54", "--customers", "4", "--fault-rate", "0.15"]);
    let z = Sim::zendesk(&["--fault-rate", "0.15"]);
    // The Kustomer simulator also hangs past this timeout and trickles bodies.
    let (_t, dir) = workspace_to(&k.url, &z.url, &[("timeout_secs = 60", "timeout_secs = 1")]);
    for step in [&["extract", "--no-progress"][..], &["transform"], &["load"]] {
        let out = ferry(&dir, step);
        assert!(out.status.success(), "{step:?}: {}", text(&out));
    }
    let conn = db(&dir);
    // Faults leave no error; the only rows are the links the data itself
    // holds back (a subscription whose order is gone from Kustomer).
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_load_errors WHERE NOT (object = 'custom_object_links' AND error_body LIKE 'held back: the KObject it references is not in the export%')"),
        0
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_load_errors"),
        count(&conn, "SELECT count(*) FROM out_zendesk_custom_object_links WHERE missing_parents IS NOT NULL")
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_quarantine"),
        0,
        "faults never become bad records"
    );
    assert_eq!(
        z.stats()["objects"]["tickets"].as_i64().unwrap(),
        count(&conn, "SELECT count(*) FROM out_zendesk_tickets")
    );
}
