//! Cutover: a migration loaded days before, agents working on in the
//! source, then one delta pass (extract, transform, load) must leave the
//! destination as a fresh migration of the final source state would,
//! apart from the documented differences (delta comments carry their
//! original time in a header; a closed ticket keeps its fields and gets a
//! follow-up ticket for new messages; a conversation deleted in the source
//! is tagged, not re-created). A kill -9 during the delta load, then a
//! rerun, leaves no duplicate comment.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::{json, Value};

/// A ticket as the comparison sees it, Zendesk ids replaced by the
/// records' external ids / emails.
#[derive(Debug, PartialEq)]
struct Ticket {
    status: String,
    priority: String,
    tags: Vec<String>,
    assignee: String,
    group: String,
    /// (author, public, body) in order, over the ticket and its follow-ups,
    /// a delta comment's header taken off.
    comments: Vec<(String, bool, String)>,
}

const HEADER: &str = "Originally written ";

/// HTML with every `src` emptied: an inline image links its copy on each
/// Zendesk account, whose URL differs from one account to the other.
fn without_links(html: String) -> String {
    let mut out = String::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find("src=\"") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        rest = &rest[rest.find('"').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// The body of a comment without the delta header; whether it had one.
fn body_of(c: &Value) -> (String, bool) {
    let (b, header) = body_and_header(c);
    (without_links(b), header)
}

fn body_and_header(c: &Value) -> (String, bool) {
    if let Some(h) = c["html_body"].as_str() {
        if let Some(rest) = h.strip_prefix("<p><em>").filter(|r| r.starts_with(HEADER)) {
            let (_, body) = rest.split_once("</em></p>").unwrap();
            return (body.to_string(), true);
        }
        if c["body"].is_null() {
            return (h.to_string(), false);
        }
    }
    let b = c["body"].as_str().unwrap_or("");
    match b.strip_prefix(HEADER).and_then(|r| r.split_once("\n\n")) {
        Some((_, body)) => (body.to_string(), true),
        None => (b.to_string(), false),
    }
}

/// Tickets of a Zendesk simulator by external id (follow-ups folded into
/// the ticket they follow), and how many delta comments carry each
/// `[ferry <id>]` marker.
fn tickets(z: &Sim) -> (BTreeMap<String, Ticket>, BTreeMap<String, usize>) {
    let d = z.get("/__sim/dump");
    let list = |k: &str| d[k].as_array().cloned().unwrap_or_default();
    let users = list("users");
    let groups = list("groups");
    let user = |id: &Value| {
        users
            .iter()
            .find(|u| u["id"] == *id)
            .map(|u| u["email"].as_str().unwrap_or("").to_lowercase())
            .unwrap_or_default()
    };
    let group = |id: &Value| {
        groups
            .iter()
            .find(|g| g["id"] == *id)
            .map(|g| g["name"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let all = list("tickets");
    let by_id = |id: &Value| all.iter().find(|t| t["id"] == *id).cloned();
    let mut out = BTreeMap::new();
    let mut markers: BTreeMap<String, usize> = BTreeMap::new();
    for t in &all {
        if !t["via_followup_source_id"].is_null() {
            continue;
        }
        let mut thread = vec![t.clone()];
        let mut queue: Vec<Value> = t["followup_ids"].as_array().cloned().unwrap_or_default();
        while let Some(f) = queue.pop() {
            let f = by_id(&f).expect("a follow-up exists");
            queue.extend(f["followup_ids"].as_array().cloned().unwrap_or_default());
            thread.push(f);
        }
        let mut comments = Vec::new();
        for part in &thread {
            for c in part["comments"].as_array().unwrap() {
                let (body, delta) = body_of(c);
                if delta {
                    let text = c["html_body"].as_str().or(c["body"].as_str()).unwrap();
                    let id = text
                        .split("[ferry ")
                        .nth(1)
                        .unwrap()
                        .split(']')
                        .next()
                        .unwrap();
                    *markers.entry(id.to_string()).or_default() += 1;
                }
                comments.push((user(&c["author_id"]), c["public"] != false, body));
            }
        }
        let mut tags: Vec<String> = t["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        tags.sort();
        out.insert(
            t["external_id"].as_str().unwrap().to_string(),
            Ticket {
                status: t["status"].as_str().unwrap_or("").into(),
                priority: t["priority"].as_str().unwrap_or("").into(),
                tags,
                assignee: user(&t["assignee_id"]),
                group: group(&t["group_id"]),
                comments,
            },
        );
    }
    (out, markers)
}

/// Users by external id (or email) → name; organizations → name.
fn people(z: &Sim) -> BTreeSet<String> {
    let d = z.get("/__sim/dump");
    let mut out = BTreeSet::new();
    for u in d["users"].as_array().unwrap() {
        out.insert(format!(
            "user {} {} {}",
            u["external_id"], u["email"], u["name"]
        ));
    }
    for o in d["organizations"].as_array().unwrap() {
        out.insert(format!("org {} {}", o["external_id"], o["name"]));
    }
    out
}

fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let out = ferry(dir, args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
}

fn migrate(dir: &std::path::Path) {
    ok(dir, &["extract", "--no-progress"]);
    ok(dir, &["transform"]);
    ok(dir, &["load"]);
}

/// The figures `ferry load --dry-run` prints for a phase: (new, held,
/// changed, deleted).
fn dry_row(out: &str, phase: &str) -> (u64, u64, u64, u64) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(phase))
        .unwrap_or_else(|| panic!("no {phase} row in {out}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(4)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2], n[3])
}

#[test]
fn a_delta_load_carries_every_change_and_a_kill_during_it_duplicates_nothing() {
    let k = Sim::start(&["--customers", "14", "--seed", "17"]);
    let z = Sim::zendesk(&[]);
    let (_t, dir) = workspace_to(&k.url, &z.url, &[]);
    migrate(&dir);
    let conn = db(&dir);
    let loaded_tickets = count(
        &conn,
        "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'tickets'",
    );
    let carried = count(&conn, "SELECT count(*) FROM ferry_members");
    assert!(
        carried > 100,
        "the import recorded the comments it carried: {carried}"
    );
    drop(conn);

    // Agents keep working in Kustomer.
    for (kind, n) in [
        ("message", 8),
        ("note", 3),
        ("conversation", 6),
        ("customer", 3),
        ("company", 2),
        ("delete", 2),
    ] {
        let r = k.post("/__sim/mutate", json!({"count": n, "kind": kind}));
        assert_eq!(r["mutated"].as_array().unwrap().len(), n, "{r}");
    }
    let m = &k.stats()["mutations"];
    assert_eq!(m["new_messages"], 8, "{m}");
    assert_eq!(m["new_notes"], 3, "{m}");
    assert_eq!(m["deleted_conversations"], 2, "{m}");

    // The delta pass: extract and transform pick the changes up, the dry
    // run names them per phase with the call each needs.
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    let dry = ok(&dir, &["load", "--dry-run"]);
    let (_, _, changed, deleted) = dry_row(&dry, "tickets");
    assert!(changed >= 6, "status/tag/assignee changes found: {dry}");
    assert!(
        (1..=2).contains(&deleted),
        "deleted conversations found: {dry}"
    );
    let (new_comments, held, _, _) = dry_row(&dry, "comments");
    assert!(
        new_comments >= 10,
        "new messages and notes as comments: {dry}"
    );
    assert_eq!(held, 0, "{dry}");
    let (_, _, users_changed, _) = dry_row(&dry, "users");
    assert!(users_changed >= 1, "edited customers: {dry}");
    let (_, _, orgs_changed, _) = dry_row(&dry, "organizations");
    assert!(orgs_changed >= 1, "edited companies: {dry}");
    assert!(dry.contains("PUT /api/v2/tickets/{id}"), "{dry}");
    assert!(dry.contains("ferry_deleted_in_source"), "{dry}");

    // `ferry status` says a delta is waiting, and what to run.
    let st = ok(&dir, &["status"]);
    assert!(st.contains("next         ferry load"), "{st}");
    let tickets_line = st
        .lines()
        .find(|l| l.trim_start().starts_with("tickets "))
        .unwrap_or_else(|| panic!("{st}"));
    let changed_col: u64 = tickets_line
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(changed_col, changed + deleted, "{st}");

    // kill -9 (abort at the hook) right after the first batch of delta
    // comments reached Zendesk, before ferry recorded it.
    let out = ferry_command(&dir, &["load"])
        .env("FERRY_CRASH_AT", "load.sent.comments")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("aborting now"),
        "the crash hook fired: {}",
        text(&out)
    );
    ok(&dir, &["load"]);
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("changes"), "verify lists the changes: {out}");

    let conn = db(&dir);
    // Every change is recorded with its hashes and batch.
    let applied = count(
        &conn,
        "SELECT count(*) FROM ferry_changes WHERE kind = 'changed' AND status IN ('applied', 'not_applied')
         AND old_hash IS NOT NULL AND new_hash IS NOT NULL AND batch_id IS NOT NULL",
    );
    assert!(applied >= changed as i64, "{applied} recorded of {changed}");
    let gone = count(
        &conn,
        "SELECT count(*) FROM ferry_changes WHERE kind = 'deleted' AND dest_object = 'tickets'",
    );
    assert_eq!(gone, deleted as i64);
    let reconciled = count(
        &conn,
        "SELECT count(*) FROM ferry_batches WHERE object = 'comments' AND status = 'reconciled'",
    );
    assert!(
        reconciled >= 1,
        "the in-doubt comment batches were reconciled"
    );
    let delta_comments = count(
        &conn,
        "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'comments'",
    );
    assert_eq!(delta_comments, new_comments as i64);
    let follow_ups = count(
        &conn,
        "SELECT count(DISTINCT m.dest_id) FROM ferry_id_map m WHERE m.dest_object = 'comments'
         AND m.dest_id NOT IN (SELECT dest_id FROM ferry_id_map WHERE dest_object = 'tickets')",
    );
    let skipped: BTreeSet<String> = strings(
        &conn,
        "SELECT DISTINCT source_id FROM ferry_changes WHERE dest_object = 'tickets' AND action = 'skip_closed'",
    )
    .into_iter()
    .collect();
    // A ticket's external id is its source id (conversation, or part).
    let deleted_ext: BTreeSet<String> = strings(
        &conn,
        "SELECT source_id FROM ferry_changes WHERE dest_object = 'tickets' AND kind = 'deleted'",
    )
    .into_iter()
    .collect();
    let skipped_ext = skipped.clone();
    drop(conn);

    let (got, markers) = tickets(&z);
    // No comment twice, though a batch of them was sent, lost, and found again.
    assert_eq!(markers.len() as i64, delta_comments, "{markers:?}");
    assert!(
        markers.values().all(|&n| n == 1),
        "duplicate delta comments: {markers:?}"
    );
    assert_eq!(got.len() as i64, loaded_tickets, "no ticket re-created");

    // A fresh migration of the final source state.
    let z2 = Sim::zendesk(&[]);
    let (_t2, dir2) = workspace_to(&k.url, &z2.url, &[]);
    migrate(&dir2);
    let (want, _) = tickets(&z2);

    // Deleted conversations: tagged on the cutover side, absent from the fresh one.
    let only_old: BTreeSet<String> = got
        .keys()
        .filter(|e| !want.contains_key(*e))
        .cloned()
        .collect();
    assert_eq!(
        only_old, deleted_ext,
        "the tickets left over are the deleted conversations"
    );
    for e in &only_old {
        if !skipped_ext.contains(e) {
            assert!(
                got[e].tags.iter().any(|t| t == "ferry_deleted_in_source"),
                "{e} tagged"
            );
        }
    }
    assert!(want.keys().all(|e| got.contains_key(e)), "nothing missing");
    let mut compared = 0;
    for (ext, w) in &want {
        let g = &got[ext];
        assert_eq!(g.comments, w.comments, "{ext}: the thread");
        if skipped_ext.contains(ext) {
            // Closed in Zendesk before the change: read-only, documented.
            assert_eq!(g.status, "closed", "{ext}");
            continue;
        }
        assert_eq!(
            (&g.status, &g.priority, &g.tags, &g.assignee, &g.group),
            (&w.status, &w.priority, &w.tags, &w.assignee, &w.group),
            "{ext}: fields"
        );
        compared += 1;
    }
    assert!(compared > 10, "{compared}");
    assert_eq!(
        people(&z),
        people(&z2),
        "users and organizations as the final source has them"
    );
    eprintln!(
        "delta: {changed} tickets changed, {deleted} deleted, {new_comments} comments ({follow_ups} follow-up tickets), {} closed tickets kept their fields",
        skipped.len()
    );
}

/// `deleted_in_source = "delete"` deletes the ticket of a deleted
/// conversation (and records it), and `ferry rollback --run` of the delta
/// load deletes the follow-up tickets it opened and forgets its comments.
#[test]
fn the_delete_policy_deletes_and_a_delta_run_rolls_back() {
    let k = Sim::start(&["--customers", "10", "--seed", "29"]);
    let z = Sim::zendesk(&[]);
    let (_t, dir) = workspace_to(
        &k.url,
        &z.url,
        &[(
            "deleted_in_source = \"tag\"",
            "deleted_in_source = \"delete\"",
        )],
    );
    migrate(&dir);
    let before = z.stats()["objects"]["tickets"].as_u64().unwrap();
    k.post("/__sim/mutate", json!({"count": 2, "kind": "delete"}));
    k.post("/__sim/mutate", json!({"count": 12, "kind": "message"}));
    migrate(&dir);
    let conn = db(&dir);
    let deleted = strings(
        &conn,
        "SELECT dest_id FROM ferry_changes WHERE kind = 'deleted' AND action = 'delete' AND status = 'applied'",
    );
    assert!(
        !deleted.is_empty(),
        "a loaded conversation was deleted and its ticket with it"
    );
    for id in &deleted {
        let t = z.get("/__sim/dump")["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id.as_str()));
        assert!(!t, "ticket {id} is gone from Zendesk");
    }
    let follow_ups = count(
        &conn,
        "SELECT count(DISTINCT dest_id) FROM ferry_id_map WHERE dest_object = 'comments'
         AND dest_id NOT IN (SELECT dest_id FROM ferry_id_map WHERE dest_object = 'tickets')",
    ) as u64;
    let delta_run = strings(
        &conn,
        "SELECT run_id FROM ferry_runs WHERE command = 'load' ORDER BY started_at DESC LIMIT 1",
    )
    .remove(0);
    drop(conn);
    assert_eq!(
        z.stats()["objects"]["tickets"].as_u64().unwrap(),
        before - deleted.len() as u64 + follow_ups,
        "tickets: the deleted ones gone, one per follow-up added"
    );
    ok(&dir, &["rollback", "--yes", "--run", &delta_run]);
    assert_eq!(
        z.stats()["objects"]["tickets"].as_u64().unwrap(),
        before - deleted.len() as u64,
        "the delta run's follow-up tickets are rolled back"
    );
    let conn = db(&dir);
    assert!(follow_ups > 0, "the seed gives closed tickets new messages");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'comments'
             AND dest_id NOT IN (SELECT dest_id FROM ferry_id_map WHERE dest_object = 'tickets')"
        ),
        0,
        "the follow-ups' comments are forgotten (moved to ferry_rolled_back)"
    );
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_rolled_back WHERE dest_object = 'comments'"
        ) > 0
    );
    let kept = count(
        &conn,
        "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'comments'",
    );
    drop(conn);
    // Comments on imported tickets cannot be deleted: they stay recorded,
    // so the next load sends nothing twice.
    let out = ok(&dir, &["load"]);
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_id_map WHERE dest_object = 'comments'"
        ),
        kept + count(
            &conn,
            "SELECT count(*) FROM ferry_rolled_back WHERE dest_object = 'comments'"
        ),
        "the rolled-back follow-up comments are sent again, the kept ones not: {out}"
    );
}
