//! `ferry load` into `ferry sim zendesk`: everything arrives once, ids are
//! recorded, a killed load resumes without duplicates, failures are kept
//! and retried.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;

fn migrated(
    customers: &str,
    zd_args: &[&str],
) -> (Sim, Sim, tempfile::TempDir, std::path::PathBuf) {
    migrated_with(customers, zd_args, &[])
}

fn migrated_with(
    customers: &str,
    zd_args: &[&str],
    edits: &[(&str, &str)],
) -> (Sim, Sim, tempfile::TempDir, std::path::PathBuf) {
    let k = Sim::start(&["--seed", "31", "--customers", customers]);
    let z = Sim::zendesk(zd_args);
    let (t, dir) = workspace_to(&k.url, &z.url, edits);
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "{}", text(&out));
    (k, z, t, dir)
}

/// Destination counts equal the output tables, exactly.
fn assert_loaded(z: &Sim, dir: &std::path::Path) {
    let conn = db(dir);
    let stats = z.stats()["objects"].clone();
    let want = |sql: &str| count(&conn, sql) as u64;
    assert_eq!(
        stats["organizations"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_organizations")
    );
    // The account's owner (the token's admin) was there before.
    assert_eq!(
        stats["users"].as_u64().unwrap(),
        1 + want("SELECT (SELECT count(*) FROM out_zendesk_users) + (SELECT count(*) FROM out_zendesk_agents)")
    );
    assert_eq!(
        stats["identities"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_user_identities")
    );
    assert_eq!(
        stats["groups"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_groups")
    );
    assert_eq!(
        stats["tickets"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_tickets")
    );
    assert_eq!(
        stats["comments"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_comments")
    );
    assert_eq!(
        stats["custom_object_records"].as_u64().unwrap(),
        want("SELECT count(*) FROM out_zendesk_custom_object_records")
    );
    assert_eq!(
        stats["uploads"].as_u64().unwrap(),
        want("SELECT count(DISTINCT source_id) FROM ferry_id_map WHERE dest_object = 'uploads'")
    );
    assert_eq!(
        want("SELECT count(*) FROM ferry_id_map WHERE dest_object = 'tickets'"),
        want("SELECT count(*) FROM out_zendesk_tickets")
    );
    // No ticket was created twice.
    let dump = z.get("/__sim/dump");
    let ext: Vec<&str> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ext.len(),
        ext.iter().collect::<HashSet<_>>().len(),
        "duplicate tickets"
    );
}

#[test]
fn load_sends_everything_once_and_records_every_id() {
    let (_k, z, _t, dir) = migrated("30", &[]);
    let out = ferry(&dir, &["load", "--dry-run"]);
    assert!(
        out.status.success() && text(&out).contains("Nothing was sent"),
        "{}",
        text(&out)
    );
    // Only read-only GETs: the token's user, triggers, automations, the
    // account's settings (its attachment size limit), and the account's
    // users once for each people phase; nothing written.
    assert_eq!(z.stats()["requests"], 6, "--dry-run sends nothing");
    assert!(z.stats()["objects"]
        .as_object()
        .unwrap()
        .iter()
        .all(|(k, v)| v == if k == "users" { 1 } else { 0 }));
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded(&z, &dir);
    // Comments arrive in order, authors resolved, the split thread as two tickets.
    let dump = z.get("/__sim/dump");
    let split = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["external_id"].as_str().unwrap().contains("-part"))
        .count();
    assert_eq!(split, 2);
    // The note linking the parts is written by the migrating admin (the
    // token's user), never left for Zendesk to choose.
    let admin = dump["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ZD_EMAIL)
        .map(|u| u["id"].clone())
        .expect("the token's admin is a user of the account");
    let links: Vec<&serde_json::Value> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["external_id"].as_str().unwrap().contains("-part"))
        .flat_map(|t| t["comments"].as_array().unwrap())
        .filter(|c| {
            c["body"]
                .as_str()
                .is_some_and(|b| b.contains("linked tickets"))
        })
        .collect();
    assert_eq!(links.len(), 2, "one link note per part");
    for c in links {
        assert_eq!(c["author_id"], admin, "link note author");
        assert!(
            c.get("html_body").is_none(),
            "only the body that is set is sent"
        );
    }
    // Running again sends nothing new.
    let before = z.stats()["objects"].clone();
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(z.stats()["objects"], before);
    let logs = text(&out);
    assert!(!logs.contains(ZD_TOKEN) && !logs.contains(KEY));
}

#[test]
fn a_killed_load_resumes_without_creating_anything_twice() {
    let (_k, z, _t, dir) = migrated("30", &["--latency-ms", "15"]);
    let mut killed = 0;
    for delay in [700u64, 1500, 2500] {
        let mut child = spawn_ferry(&dir, &["load"]);
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(killed >= 2, "the load finished before it could be killed");
    // A run whose process is gone is never shown as running.
    let status = text(&ferry(&dir, &["status"]));
    assert!(
        status.contains("interrupted") && !status.contains(" running "),
        "{status}"
    );
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded(&z, &dir);
}

/// Ctrl-C (SIGINT) mid-load: ferry stops taking new batches, waits for
/// the ones in flight and records them, marks the run interrupted, says
/// how to resume and exits 130; the rerun finishes with every ticket once.
#[test]
fn ctrl_c_stops_the_load_cleanly_and_a_rerun_resumes() {
    let (_k, z, _t, dir) = migrated("30", &["--latency-ms", "60"]);
    let child = ferry_command(&dir, &["load"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first users are in, the load is mid-way.
    let started = std::time::Instant::now();
    while z.stats()["objects"]["users"].as_i64().unwrap_or(0) < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the load never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: a signal to the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(130), "{t}");
    assert!(
        t.contains("stopping: no new batches") && t.contains("rerun the command to resume"),
        "{t}"
    );
    let conn = db(&dir);
    assert_eq!(
        strings(&conn, "SELECT outcome FROM ferry_runs WHERE command = 'load' ORDER BY started_at DESC LIMIT 1"),
        vec!["interrupted"]
    );
    // Every batch sent was answered and recorded: none left in doubt.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_batches WHERE status IN ('pending', 'sent', 'in_doubt')"
        ),
        0
    );
    let tickets = count(&conn, "SELECT count(*) FROM out_zendesk_tickets");
    drop(conn);
    assert!(
        z.stats()["objects"]["tickets"].as_i64().unwrap_or(0) < tickets,
        "the load stopped before the end"
    );
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded(&z, &dir);
    assert_each_ticket_once(&z);
}

/// While a load holds the workspace, `ferry status` shows what it
/// publishes (state/live.json): each phase's progress, rate and ETA and
/// the run overall; without a terminal the load prints a progress line
/// every FERRY_PROGRESS_SECS, and logs/<run>.log keeps them. `ferry
/// serve`'s page, rendered by headless Chromium, shows the load running
/// and, after it, the final counts.
#[test]
fn a_running_load_can_be_watched_from_another_terminal() {
    let (_k, z, t, dir) = migrated("30", &["--latency-ms", "60"]);
    let serve = Serve::start(&dir);
    let profile = t.path().join("chromium-profile");
    // Before the load the page shows the last run, the extract, finished.
    let before = chromium_dom(&serve.url, &profile);
    assert_eq!(
        text_by_id(&before, "run-outcome").as_deref(),
        Some("ok"),
        "{before}"
    );
    assert!(before.contains("<h2>extract "), "{before}");
    let child = ferry_command(&dir, &["load"])
        .env("FERRY_PROGRESS_SECS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    // (status takes the workspace when it is free: ask once the load holds it)
    while !dir.join("state/live.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the load published nothing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut live = String::new();
    while started.elapsed() < Duration::from_secs(90) {
        let out = ferry(&dir, &["status"]);
        let t = text(&out);
        if out.status.success() && t.contains("overall:") && t.contains("rows/min") {
            live = t;
            break;
        }
        live = t;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        live.contains("load ") && live.contains("running") && live.contains("% of the run"),
        "status while the load runs: {live}"
    );
    // The dashboard, while the load holds the workspace lock.
    let during = chromium_dom(&serve.url, &profile);
    assert!(
        text_by_id(&during, "run-outcome").as_deref() == Some("running")
            && during.contains("id=\"phase-")
            && during.contains("id=\"records-chart\""),
        "the page while the load runs: {during}"
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("phases done (") && err.contains("ended: ok"),
        "progress lines without a terminal: {err}"
    );
    // A log per run: the extract's and the load's.
    let logs: Vec<String> = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(logs.len(), 2, "the extract's and the load's: {logs:?}");
    let log = logs
        .iter()
        .find(|l| {
            l.lines()
                .next()
                .is_some_and(|first| first.contains(" load "))
        })
        .unwrap_or_else(|| panic!("the load's log: {logs:?}"));
    assert!(
        log.contains("phase tickets done:") && log.contains("ended: ok"),
        "{log}"
    );
    assert_loaded(&z, &dir);
    // After the load the page shows how it ended and each phase's final
    // count, which is what the destination received.
    let after = chromium_dom(&serve.url, &profile);
    assert_eq!(
        text_by_id(&after, "run-outcome").as_deref(),
        Some("ok"),
        "{after}"
    );
    let tickets = z.stats()["objects"]["tickets"].as_u64().unwrap();
    assert_eq!(
        text_by_id(&after, "created-tickets"),
        Some(tickets.to_string()),
        "{after}"
    );
    assert_eq!(
        text_by_id(&after, "overall-percent").as_deref(),
        Some("100")
    );
    assert!(
        !after.contains("http-equiv=\"refresh\""),
        "a finished run's page stays still"
    );
    drop(serve);
    // Finished: status has the workspace again, and shows the whole screen.
    let t = text(&ferry(&dir, &["status"]));
    assert!(t.contains("last runs"), "{t}");
}

#[test]
fn rejected_records_are_kept_with_the_reason_and_retried_after_a_fix() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    let bad = {
        let conn = db(&dir);
        let id = strings(
            &conn,
            "SELECT source_id FROM out_zendesk_tickets ORDER BY source_id LIMIT 1",
        )
        .remove(0);
        conn.execute_batch(&format!(
            "UPDATE out_zendesk_tickets SET status = 'bogus' WHERE source_id = '{id}'"
        ))
        .unwrap();
        id
    };
    let out = ferry(&dir, &["load"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ferry load --retry"));
    {
        let conn = db(&dir);
        let errs = strings(&conn, "SELECT source_id || ' ' || http_status || ' ' || error_body FROM ferry_load_errors WHERE object = 'tickets'");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(&format!("{bad} 422"))
                && errs[0].contains("Status: bogus is not valid"),
            "{errs:?}"
        );
        conn.execute_batch(&format!(
            "UPDATE out_zendesk_tickets SET status = 'open' WHERE source_id = '{bad}'"
        ))
        .unwrap();
    }
    // Without --retry the failed row waits; with it, it loads.
    assert_eq!(ferry(&dir, &["load"]).status.code(), Some(0));
    assert_eq!(
        count(
            &db(&dir),
            "SELECT count(*) FROM ferry_load_errors WHERE object = 'tickets'"
        ),
        1
    );
    let out = ferry(&dir, &["load", "--retry"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        count(
            &db(&dir),
            "SELECT count(*) FROM ferry_load_errors WHERE http_status IS NOT NULL"
        ),
        0
    );
    assert_loaded(&z, &dir);
}

#[test]
fn rollback_of_a_run_deletes_what_it_created_and_forgets_the_ids() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    assert!(ferry(&dir, &["load"]).status.success());
    let run = strings(
        &db(&dir),
        "SELECT run_id FROM ferry_runs WHERE command = 'load' ORDER BY started_at DESC LIMIT 1",
    )
    .remove(0);
    let agents = count(&db(&dir), "SELECT count(*) FROM out_zendesk_agents") as u64;
    // Destructive: without a terminal to ask on, it shows what it would
    // delete and refuses unless told --yes.
    let tickets_before = z.stats()["objects"]["tickets"].clone();
    let out = ferry(&dir, &["rollback", "--run", &run]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("tickets") && said.contains("--yes") && said.contains("nothing was deleted"),
        "{said}"
    );
    assert_eq!(z.stats()["objects"]["tickets"], tickets_before);
    // --dry-run shows the same list, per phase, and deletes nothing.
    let out = ferry(&dir, &["rollback", "--dry-run", "--run", &run]);
    let said = text(&out);
    assert!(
        out.status.success()
            && said.contains("tickets")
            && said.contains("Nothing was deleted (--dry-run)"),
        "{said}"
    );
    assert_eq!(z.stats()["objects"]["tickets"], tickets_before);
    let out = ferry(&dir, &["rollback", "--yes", "--run", &run]);
    assert!(out.status.success(), "{}", text(&out));
    let stats = z.stats()["objects"].clone();
    for object in [
        "organizations",
        "identities",
        "groups",
        "group_memberships",
        "tickets",
        "custom_objects",
        "custom_object_records",
    ] {
        assert_eq!(stats[object], 0, "{object} left after rollback: {stats}");
    }
    assert_eq!(
        stats["users"].as_u64().unwrap(),
        agents + 1,
        "only the agents (and the account's owner) stay"
    );
    assert_eq!(
        count(
            &db(&dir),
            "SELECT count(*) FROM ferry_id_map WHERE dest_object NOT IN ('agents')"
        ),
        0
    );
    // The trail keeps what was created and removed.
    assert!(
        count(
            &db(&dir),
            "SELECT count(*) FROM ferry_rolled_back WHERE dest_object = 'tickets'"
        ) > 0
    );
    // Loading again recreates everything.
    assert!(ferry(&dir, &["load"]).status.success());
    assert_loaded(&z, &dir);
    // `--all` removes the whole migration, across runs.
    let out = ferry(&dir, &["rollback", "--yes", "--all"]);
    assert!(out.status.success(), "{}", text(&out));
    let stats = z.stats()["objects"].clone();
    for object in [
        "organizations",
        "tickets",
        "groups",
        "custom_object_records",
    ] {
        assert_eq!(
            stats[object], 0,
            "{object} left after rollback --all: {stats}"
        );
    }
    assert_eq!(
        count(
            &db(&dir),
            "SELECT count(*) FROM ferry_id_map WHERE dest_object <> 'agents'"
        ),
        0
    );
}

#[test]
fn load_completes_through_faults_and_a_rate_limit() {
    let (_k, z, _t, dir) = migrated("6", &["--fault-rate", "0.05", "--rate-limit", "200"]);
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded(&z, &dir);
}

#[test]
fn open_first_sends_live_tickets_before_the_history() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    let out = ferry(&dir, &["load", "--order", "open-first"]);
    assert!(out.status.success(), "{}", text(&out));
    // The simulator gives ids in arrival order.
    let dump = z.get("/__sim/dump");
    let statuses: Vec<&str> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    let live = |s: &&str| ["new", "open", "pending", "hold"].contains(s);
    let first_closed = statuses
        .iter()
        .position(|s| !live(s))
        .expect("some history");
    assert!(first_closed > 0, "no live ticket first: {statuses:?}");
    assert!(
        statuses[first_closed..].iter().all(|s| !live(s)),
        "live ticket after history: {statuses:?}"
    );
    assert_loaded(&z, &dir);
}

#[test]
fn a_sample_pilot_loads_representative_tickets_with_their_dependencies() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    let out = ferry(&dir, &["load", "--sample", "6"]);
    assert!(out.status.success(), "{}", text(&out));
    let dump = z.get("/__sim/dump");
    let tickets = dump["tickets"].as_array().unwrap();
    let total = count(&db(&dir), "SELECT count(*) FROM out_zendesk_tickets") as usize;
    assert!(
        tickets.len() >= 6 && tickets.len() < total,
        "{} of {total}",
        tickets.len()
    );
    // Every status and the split conversation are represented.
    let statuses: std::collections::HashSet<&str> = tickets
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    let all: Vec<String> = strings(&db(&dir), "SELECT DISTINCT status FROM out_zendesk_tickets");
    assert_eq!(statuses.len(), all.len(), "{statuses:?} vs {all:?}");
    assert!(tickets
        .iter()
        .any(|t| t["external_id"].as_str().unwrap().contains("-part")));
    // Then the full load completes without duplicates.
    assert!(ferry(&dir, &["load"]).status.success());
    assert_loaded(&z, &dir);
}

#[test]
fn pre_flight_warns_about_triggers_and_automations_and_estimates_time() {
    let (_k, z, _t, dir) = migrated("8", &[]);
    let out = ferry(&dir, &["load", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("minutes. Nothing was sent"), "{t}");
    assert!(
        t.contains("active trigger \"Notify requester")
            && t.contains("active automation \"Close ticket"),
        "{t}"
    );
    assert_eq!(z.stats()["objects"]["tickets"], 0);
}

#[test]
fn dry_run_names_invalid_rows_before_any_request_and_the_api_rejects_them_too() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    let (bad_user, no_requester, long_ticket) = {
        let conn = db(&dir);
        let u = strings(&conn, "SELECT source_id FROM out_zendesk_users WHERE email IS NOT NULL ORDER BY source_id LIMIT 1").remove(0);
        let t: Vec<String> = strings(&conn, "SELECT source_id FROM out_zendesk_tickets WHERE part_count = 1 ORDER BY source_id LIMIT 2");
        conn.execute_batch(&format!(
            "UPDATE out_zendesk_users SET email = 'not an email' WHERE source_id = '{u}';
             UPDATE out_zendesk_tickets SET requester_source_id = NULL WHERE source_id = '{}';
             UPDATE out_zendesk_comments SET body = repeat('x', 70000), html_body = NULL
               WHERE source_id = (SELECT min(source_id) FROM out_zendesk_comments WHERE ticket_source_id = '{}');",
            t[0], t[1]
        ))
        .unwrap();
        (u, t[0].clone(), t[1].clone())
    };
    let out = ferry(&dir, &["load", "--dry-run"]);
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "{bad_user}: email \"not an email\" is not a valid address"
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!("{no_requester}: ticket has no requester")),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "{long_ticket}: a comment is 70000 bytes, over Zendesk's 65,535"
        )),
        "{t}"
    );
    assert_eq!(
        z.stats()["objects"]["users"],
        1,
        "a dry run sends nothing (the account's owner was there)"
    );
    // Sent anyway, the simulator refuses them like Zendesk would.
    let out = ferry(&dir, &["load"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let conn = db(&dir);
    let errs = strings(&conn, "SELECT source_id || ' ' || coalesce(http_status::VARCHAR, '-') || ' ' || error_body FROM ferry_load_errors ORDER BY 1");
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&format!("{bad_user} 422"))
                && e.contains("not properly formatted")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(
            |e| e.starts_with(&format!("{long_ticket} 422")) && e.contains("longer than 65535")
        ),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&format!("{no_requester} -")) && e.contains("no requester")),
        "{errs:?}"
    );
}

#[test]
fn rollback_of_one_batch_removes_exactly_its_records() {
    let (_k, z, _t, dir) = migrated("12", &[]);
    assert!(ferry(&dir, &["load"]).status.success());
    let (batch, ids) = {
        let conn = db(&dir);
        let batch = strings(
            &conn,
            "SELECT batch_id FROM ferry_batches WHERE object = 'tickets' ORDER BY batch_id LIMIT 1",
        )
        .remove(0);
        let ids = strings(
            &conn,
            &format!("SELECT dest_id FROM ferry_id_map WHERE batch_id = '{batch}'"),
        );
        (batch, ids)
    };
    let before = z.stats()["objects"]["tickets"].as_u64().unwrap();
    let out = ferry(&dir, &["rollback", "--yes", "--batch", &batch]);
    assert!(out.status.success(), "{}", text(&out));
    let dump = z.get("/__sim/dump");
    let left: Vec<String> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].to_string())
        .collect();
    assert_eq!(left.len() as u64, before - ids.len() as u64);
    assert!(
        ids.iter().all(|i| !left.contains(i)),
        "a rolled-back ticket is still there"
    );
    assert!(
        z.stats()["objects"]["users"].as_u64().unwrap() > 1,
        "users of other batches stay"
    );
    assert_eq!(
        count(
            &db(&dir),
            &format!("SELECT count(*) FROM ferry_id_map WHERE batch_id = '{batch}'")
        ),
        0
    );
}

#[test]
fn upload_tokens_are_used_before_they_expire_and_stale_ones_are_uploaded_again() {
    // Tokens live 3 s in the simulator; ferry trusts them 1.8 s, so at the
    // 700 tier a window holds 700 × 1.8 / 60 / 3 = 7 uploads.
    let (_k, z, _t, dir) = migrated_with(
        "12",
        &["--upload-ttl-secs", "3"],
        &[("upload_token_minutes = 2880", "upload_token_minutes = 0.03")],
    );
    let conn = db(&dir);
    let attachments = count(
        &conn,
        // Attachments and the inline images of the comments' HTML.
        "SELECT count(*) FROM (SELECT DISTINCT unnest(attachment_ids || inline_image_ids) AS aid FROM out_zendesk_comments) \
         WHERE aid IN (SELECT attachment_id FROM stg_attachments WHERE sha256 IS NOT NULL
                       UNION ALL SELECT image_id FROM stg_inline_images WHERE sha256 IS NOT NULL)",
    );
    drop(conn);
    assert!(
        attachments > 14,
        "need at least three windows, have {attachments} attachments"
    );
    // Everything but the tickets; then wait until every token has expired.
    let out = ferry(
        &dir,
        &["load", "--only", "organization_fields,user_fields,organizations,users,identities,agents,groups,group_memberships,uploads,ticket_fields"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        z.stats()["objects"]["uploads"].as_i64().unwrap(),
        attachments
    );
    std::thread::sleep(Duration::from_millis(3500));
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    let conn = db(&dir);
    // (The links a subscription whose order is gone from Kustomer holds
    // back are the data's, not the tokens'.)
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_load_errors WHERE object <> 'custom_object_links'"
        ),
        0,
        "{:?}",
        strings(
            &conn,
            "SELECT source_id || ': ' || error_body FROM ferry_load_errors LIMIT 3"
        )
    );
    // Every stale token was replaced: one id-map row per attachment, with
    // the new token, and the simulator saw each file twice.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'uploads'"
        ),
        attachments
    );
    assert_eq!(
        z.stats()["objects"]["uploads"].as_i64().unwrap(),
        2 * attachments
    );
    assert!(count(&conn, "SELECT count(DISTINCT win) FROM load_window") >= 3);
    drop(conn);
    // Each comment carries the files its source message had.
    let carried = attachments_carried(&z);
    assert_eq!(carried as i64, attachments);
    assert_loaded_tickets(&z, &dir);
}

/// Files on the comments of every ticket the simulator holds.
fn attachments_carried(z: &Sim) -> usize {
    z.get("/__sim/dump")["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["comments"].as_array().unwrap())
        .map(|c| c["attachments"].as_array().map_or(0, |a| a.len()))
        .sum()
}

fn assert_loaded_tickets(z: &Sim, dir: &std::path::Path) {
    let conn = db(dir);
    assert_eq!(
        z.stats()["objects"]["tickets"].as_i64().unwrap(),
        count(&conn, "SELECT count(*) FROM out_zendesk_tickets")
    );
}

/// A file that can never be uploaded (here: bytes not downloaded) holds its
/// ticket back by default, with the reason; `missing_files = "skip"` sends
/// the ticket without it and says how many files were left out.
#[test]
fn files_that_cannot_be_uploaded_hold_their_ticket_unless_missing_files_is_skip() {
    let (_k, z, _t, dir) = migrated_with(
        "12",
        &[],
        &[(
            "download_attachments = true",
            "download_attachments = false",
        )],
    );
    let conn = db(&dir);
    let with_files = count(
        &conn,
        "SELECT count(DISTINCT ticket_source_id) FROM out_zendesk_comments WHERE len(attachment_ids) > 0",
    );
    let tickets = count(&conn, "SELECT count(*) FROM out_zendesk_tickets");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM stg_attachments WHERE sha256 IS NOT NULL"
        ),
        0
    );
    drop(conn);
    assert!(
        with_files > 0 && with_files < tickets,
        "{with_files} of {tickets}"
    );

    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        z.stats()["objects"]["tickets"].as_i64().unwrap(),
        tickets - with_files
    );
    assert_eq!(z.stats()["objects"]["uploads"].as_i64().unwrap(), 0);
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_load_errors WHERE object = 'tickets' AND error_body LIKE '%an attachment upload is missing%'"
        ),
        with_files
    );
    drop(conn);

    let cfg = dir.join("ferry.toml");
    let toml = std::fs::read_to_string(&cfg).unwrap();
    assert!(toml.contains("missing_files = \"hold\""));
    std::fs::write(
        &cfg,
        toml.replace("missing_files = \"hold\"", "missing_files = \"skip\""),
    )
    .unwrap();
    let out = ferry(&dir, &["load"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains(&format!(
            "files of {with_files} imported tickets were not attached"
        )),
        "{t}"
    );
    assert_loaded_tickets(&z, &dir);
    let carried = attachments_carried(&z);
    assert_eq!(carried, 0);
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_load_errors WHERE object = 'tickets'"
        ),
        0
    );
    // The auditor's list: every referenced file of those tickets, with why.
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT ticket_source_id) FROM zendesk_files_left_out"
        ),
        with_files
    );
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT attachment_id) FROM zendesk_files_left_out"),
        count(&conn, "SELECT count(DISTINCT aid) FROM out_zendesk_comments, unnest(attachment_ids) AS x(aid)")
    );
    assert_eq!(
        strings(&conn, "SELECT DISTINCT why FROM zendesk_files_left_out"),
        vec!["bytes not downloaded"]
    );
}

/// A file over the account's attachment size limit (Account Settings
/// `limits.attachment_size`, here 3,000 bytes) is never uploaded: its
/// ticket loads anyway, the comment names the file, ferry_load_errors
/// says why, and verify reads the limit itself and agrees.
#[test]
fn files_over_the_attachment_size_limit_are_named_in_their_comment_and_the_ticket_loads() {
    let (_k, z, _t, dir) = migrated("12", &["--attachment-size", "3000"]);
    let conn = db(&dir);
    let over = count(
        &conn,
        "SELECT count(*) FROM stg_attachments a WHERE a.sha256 IS NOT NULL AND a.size_bytes > 3000
           AND a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)",
    );
    let under = count(
        &conn,
        "SELECT count(*) FROM stg_attachments a WHERE a.sha256 IS NOT NULL AND a.size_bytes <= 3000
           AND a.attachment_id IN (SELECT unnest(attachment_ids) FROM out_zendesk_comments)",
    );
    assert!(
        over > 0 && under > 0,
        "{over} over, {under} under the limit"
    );
    drop(conn);

    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    // Every ticket loaded, missing_files = "hold" notwithstanding.
    assert_loaded_tickets(&z, &dir);
    let dump = z.get("/__sim/dump");
    let comments: Vec<&serde_json::Value> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["comments"].as_array().unwrap())
        .collect();
    let notes: usize = comments
        .iter()
        .map(|c| {
            let body = format!(
                "{}{}",
                c["html_body"].as_str().unwrap_or(""),
                c["body"].as_str().unwrap_or("")
            );
            body.matches("not attached: over Zendesk's attachment size limit")
                .count()
        })
        .sum();
    assert_eq!(notes as i64, over, "one note for each file over the limit");
    let big = comments
        .iter()
        .flat_map(|c| c["attachments"].as_array().into_iter().flatten())
        .filter(|a| a["size"].as_i64().unwrap_or(0) > 3000)
        .count();
    assert_eq!(big, 0, "no file over the limit reached Zendesk");
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT source_id) FROM ferry_load_errors WHERE object = 'uploads' AND error_body LIKE '%over the account''s attachment size limit%'"
        ),
        over
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_load_errors WHERE object = 'tickets'"
        ),
        0
    );
    drop(conn);
    let out = ferry(&dir, &["verify"]);
    let t = text(&out);
    assert!(out.status.success() && t.contains("0 mismatches"), "{t}");
}

/// The simulator imports a batch of tickets and then drops the connection
/// mid-response. Sending that POST again would import every ticket of it
/// twice, so ferry stops with the batch in doubt, and the next run matches
/// it by external id: every ticket exists exactly once.
#[test]
fn a_write_whose_response_is_cut_off_is_not_sent_twice() {
    let (_k, z, _t, dir) = migrated_with("12", &["--cut-post-to", "/imports/tickets"], &[]);
    let out = ferry(&dir, &["load"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("the response was cut off") && t.contains("in doubt"),
        "{t}"
    );
    let first = z.stats()["objects"]["tickets"].as_i64().unwrap();
    assert!(first > 0, "the cut batch was imported: {first}");
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_batches WHERE object = 'tickets' AND status = 'sent'"
        ),
        1
    );
    drop(conn);
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded_tickets(&z, &dir);
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_batches WHERE object = 'tickets' AND status = 'reconciled'"
        ),
        1
    );
    assert_each_ticket_once(&z);
}

/// Each external id once at the destination: no ticket imported twice.
fn assert_each_ticket_once(z: &Sim) {
    let dump = z.get("/__sim/dump");
    let ext: Vec<&str> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["external_id"].as_str())
        .collect();
    let unique: std::collections::BTreeSet<&str> = ext.iter().copied().collect();
    assert_eq!(ext.len(), unique.len(), "a ticket was imported twice");
}

#[test]
fn an_in_doubt_batch_of_archived_tickets_is_found_by_search_not_resent() {
    // With archive_immediately, closed tickets leave every list at import;
    // an in-doubt batch must still be found (the Search API reaches the
    // archive), or resending it would import those tickets twice.
    let (_k, z, _t, dir) = migrated_with(
        "12",
        &["--cut-post-to", "/imports/tickets"],
        &[("archive_immediately = false", "archive_immediately = true")],
    );
    let out = ferry(&dir, &["load"]);
    assert!(!out.status.success(), "{}", text(&out));
    let dump = z.get("/__sim/dump");
    let archived = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["archived"] == true)
        .count();
    assert!(archived > 0, "the cut batch holds archived tickets");
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded_tickets(&z, &dir);
    assert_each_ticket_once(&z);
}

/// The account as a real one is: admins, agents (one in a custom role, one
/// sharing a customer's email), end users of an earlier tool sharing
/// customers' emails or ids, and bulk user imports off. Nobody existing is
/// changed, their tickets point at them, no email goes out, a rollback
/// leaves them, and `existing_users = "update"` touches end users only.
#[test]
fn a_load_into_an_account_with_people_changes_none_of_them_and_links_their_tickets() {
    let k = Sim::start(&["--seed", "31", "--customers", "40"]);
    let z = Sim::zendesk(&[
        "--mirror-kustomer-seed",
        "31",
        "--mirror-kustomer-customers",
        "40",
    ]);
    let before = users_by_id(&z);
    assert!(before.len() > 8, "the account has people: {}", before.len());
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    for step in [&["extract", "--no-progress"][..], &["transform"]] {
        let out = ferry(&dir, step);
        assert!(out.status.success(), "{step:?}: {}", text(&out));
    }
    // An earlier tool imported one customer with its Kustomer id as
    // external id (and another email).
    let customer = strings(
        &db(&dir),
        "SELECT source_id FROM out_zendesk_users WHERE email IS NOT NULL ORDER BY source_id DESC LIMIT 1",
    )
    .remove(0);
    z.post(
        "/__sim/users",
        serde_json::json!({"users": [{"name": "OldDesk contact", "email": "contact@olddesk.test",
            "external_id": customer, "role": "end-user"}]}),
    );
    let before = users_by_id(&z);

    // The dry run reads the account and says what would match.
    let out = ferry(&dir, &["load", "--dry-run"]);
    let dry = text(&out);
    assert!(out.status.success(), "dry run: {dry}");
    assert!(dry.contains("match an existing user"), "{dry}");
    assert!(
        dry.contains("admins/agents linked and never changed"),
        "{dry}"
    );
    assert!(dry.contains("bulk user imports are unknown"), "{dry}");
    assert_eq!(
        z.stats()["objects"]["tickets"],
        0,
        "a dry run sends nothing"
    );

    let out = ferry(&dir, &["load"]);
    let said = text(&out);
    assert!(out.status.success(), "load: {said}");
    assert!(
        said.contains("bulk user imports are not enabled"),
        "the 403 is explained, not blamed on the token: {said}"
    );
    assert!(!said.contains("rejected the credentials"), "{said}");

    // Nobody who was there is changed: role, name, organization, all.
    let after = users_by_id(&z);
    for (id, u) in &before {
        assert_eq!(after.get(id), Some(u), "existing user {id} changed");
    }
    let conn = db(&dir);
    let matched = |action: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM ferry_matched WHERE action = '{action}'"),
        )
    };
    assert!(
        matched("kept") >= 3,
        "agents and the agent sharing a customer's email are kept"
    );
    assert!(
        matched("linked") >= 2,
        "end users of the earlier tool are linked"
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_matched WHERE dest_object = 'users' AND dest_role = 'agent' AND action = 'kept'"),
        1,
        "the customer whose email an agent has: linked to the agent, never demoted"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_matched WHERE matched_by = 'external_id'"
        ),
        1,
        "the earlier tool's user carrying a customer's id"
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_matched WHERE dest_role LIKE '%custom role%'"
        ) >= 1,
        "the agent in a custom role is named so"
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_matched WHERE differs IS NOT NULL"
        ) >= 2,
        "what differs is recorded"
    );
    // Their tickets point at them.
    let dump = z.get("/__sim/dump");
    let requester: std::collections::HashMap<String, u64> = dump["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].to_string(), t["requester_id"].as_u64().unwrap_or(0)))
        .collect();
    let mut stmt = conn
        .prepare(
            "SELECT tm.dest_id, mm.dest_id FROM out_zendesk_tickets t
             JOIN ferry_id_map tm ON tm.dest_object = 'tickets' AND tm.source_id = t.source_id
             JOIN ferry_matched mm ON mm.dest_object = 'users' AND mm.source_id = t.requester_source_id",
        )
        .unwrap();
    let pairs: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(!pairs.is_empty(), "tickets of matched people were loaded");
    for (ticket, user) in &pairs {
        assert_eq!(
            requester[ticket].to_string(),
            *user,
            "ticket {ticket} points at the existing user"
        );
    }
    // No verification or welcome email went out, locales are BCP-47.
    assert_eq!(z.stats()["emails_sent"], 0, "{}", z.stats());
    for u in after.values() {
        if let Some(l) = u["locale"].as_str() {
            assert!(!l.contains('_'), "locale {l} is not BCP-47");
        }
    }

    // A rollback deletes what ferry created and only forgets the rest.
    drop(stmt);
    drop(conn);
    let out = ferry(&dir, &["rollback", "--yes", "--all"]);
    assert!(out.status.success(), "rollback: {}", text(&out));
    assert!(
        text(&out).contains("forgotten, not deleted"),
        "{}",
        text(&out)
    );
    let left = users_by_id(&z);
    for (id, u) in &before {
        assert_eq!(left.get(id), Some(u), "existing user {id} after rollback");
    }

    // existing_users = "update": end users get the source's fields, never
    // a role; admins and agents still nothing.
    let cfg = dir.join("ferry.toml");
    let toml = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        toml.replace("existing_users = \"link\"", "existing_users = \"update\""),
    )
    .unwrap();
    let out = ferry(&dir, &["load", "--only", "organizations,users"]);
    assert!(out.status.success(), "load users (update): {}", text(&out));
    let updated = z.get("/__sim/dump")["users"].as_array().unwrap().clone();
    let mut changed_end_users = 0;
    for u in &updated {
        let id = u["id"].as_u64().unwrap();
        let Some(old) = before.get(&id) else { continue };
        assert_eq!(u["role"], old["role"], "role of {id}");
        if old["role"] != "end-user" {
            assert_eq!(u, old, "staff {id} untouched under update");
        } else if u["name"] != old["name"] {
            changed_end_users += 1;
        }
    }
    assert!(
        changed_end_users >= 2,
        "matched end users updated: {changed_end_users}"
    );
}

/// The Zendesk simulator's users by id.
fn users_by_id(z: &Sim) -> std::collections::BTreeMap<u64, serde_json::Value> {
    z.get("/__sim/dump")["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["id"].as_u64().unwrap(), u.clone()))
        .collect()
}

/// The simulator's jobs as Zendesk documents them: queued, then working
/// with progress, then completed with results (Job Statuses); at most 30
/// queued or running per account, other integrations' included, the next
/// refused with 429 TooManyJobs before anything of it is done; Show Many
/// Job Statuses answers for many ids at once.
#[test]
fn the_simulators_jobs_take_time_and_an_account_runs_thirty_at_most() {
    let z = Sim::zendesk(&["--job-ms", "3000", "--other-jobs", "10"]);
    let org = |i: usize| serde_json::json!({"organizations": [{"name": format!("Queue Org {i}")}]});
    let mut ids = Vec::new();
    for i in 0..20 {
        let (status, v) = z.zendesk_call("POST", "/api/v2/organizations/create_many", Some(org(i)));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["job_status"]["status"], "queued");
        ids.push(v["job_status"]["id"].as_str().unwrap().to_string());
    }
    let (status, v) = z.zendesk_call("POST", "/api/v2/organizations/create_many", Some(org(99)));
    assert_eq!(status, 429, "the 31st job (10 of others, 20 here): {v}");
    assert_eq!(v["error"], "TooManyJobs");
    let before = z.stats()["objects"]["organizations"].as_u64().unwrap();
    let (_, list) = z.zendesk_call(
        "GET",
        &format!("/api/v2/job_statuses/show_many?ids={}", ids.join(",")),
        None,
    );
    let list = list["job_statuses"].as_array().unwrap().clone();
    assert_eq!(list.len(), 20);
    assert!(
        list.iter()
            .all(|s| s["status"] == "queued" || s["status"] == "working"),
        "{list:?}"
    );
    std::thread::sleep(Duration::from_millis(3300));
    let (_, list) = z.zendesk_call(
        "GET",
        &format!("/api/v2/job_statuses/show_many?ids={}", ids.join(",")),
        None,
    );
    for s in list["job_statuses"].as_array().unwrap() {
        assert_eq!(s["status"], "completed", "{s}");
        assert_eq!(s["results"].as_array().unwrap().len(), 1, "{s}");
    }
    let dump = z.get("/__sim/dump");
    let refused = dump["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "Queue Org 99")
        .count();
    assert_eq!(refused, 0, "a refused job does nothing");
    assert_eq!(
        before,
        z.stats()["objects"]["organizations"].as_u64().unwrap()
    );
    // Room again: the account takes jobs once these are over.
    let (status, _) = z.zendesk_call("POST", "/api/v2/organizations/create_many", Some(org(100)));
    assert_eq!(status, 200);
}

/// A load on an account whose other integrations hold all but one of its
/// 30 job places: ferry meets TooManyJobs, keeps fewer jobs in flight and
/// still loads every record once; it polls its jobs with Show Many Job
/// Statuses only.
#[test]
fn a_load_shares_the_account_job_queue_and_polls_its_jobs_together() {
    let (_k, z, _t, dir) = migrated_with(
        "60",
        &[
            "--job-ms",
            "700",
            "--other-jobs",
            "29",
            "--bulk-user-imports",
        ],
        &[("bulk_user_imports = \"auto\"", "bulk_user_imports = \"on\"")],
    );
    let out = ferry(&dir, &["load"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_loaded(&z, &dir);
    assert_each_ticket_once(&z);
    let s = z.stats();
    let (jobs, polls, refused) = (
        s["jobs"].as_u64().unwrap(),
        s["job_polls"].as_u64().unwrap(),
        s["too_many_jobs"].as_u64().unwrap(),
    );
    assert!(refused > 0, "one place left: some job was refused ({s})");
    assert!(jobs >= 5, "{s}");
    assert!(polls <= jobs * 6, "{polls} status requests for {jobs} jobs");
    assert_eq!(s["job_polls_one"], 0, "every poll is a show_many: {s}");
}
