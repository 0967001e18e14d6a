//! Route kustomer-enchant end to end: the real binary against the Kustomer
//! and Enchant simulators. One test kills ferry mid-load twice and checks
//! nothing is sent twice; the other puts Prism (with Enchant's community
//! spec) between ferry and the simulator and reads the result back with
//! enchant-python-client, both written by others.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

const SEED: u64 = 5;
const CUSTOMERS: u32 = 16;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ferry(dir, args);
    assert!(out.status.success(), "ferry {args:?}: {}", text(&out));
    text(&out)
}

/// A workspace for the route, with the label map an admin would copy from
/// Enchant's UI (the API cannot list labels), extracted and transformed.
/// `burst`: the simulator's requests per second, as the user would set it.
fn prepared(
    kustomer: &Sim,
    enchant_url: &str,
    enchant: &Sim,
    burst: u32,
) -> (tempfile::TempDir, PathBuf) {
    let burst_line = format!("burst_per_second = {burst}\n");
    let (tmp, dir) = workspace_route(
        "kustomer-enchant",
        &kustomer.url,
        enchant_url,
        &[
            (
                "credits_per_minute = 100\n",
                "credits_per_minute = 100000\n",
            ),
            ("burst_per_second = 6\n", &burst_line),
            (
                "fallback_agent_email = \"admin@example.com\"",
                "fallback_agent_email = \"admin@enchant.test\"",
            ),
        ],
    );
    let dump = dump(enchant);
    let seeds = dir.join("sql/kustomer_enchant/seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    let mut csv = String::from("kustomer_tag,enchant_label_id\n");
    for l in dump["labels"].as_array().unwrap() {
        csv.push_str(&format!(
            "\"{}\",{}\n",
            l["name"].as_str().unwrap().replace('"', "\"\""),
            l["id"].as_str().unwrap()
        ));
    }
    std::fs::write(seeds.join("label_map.csv"), csv).unwrap();
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    (tmp, dir)
}

fn dump(sim: &Sim) -> Value {
    let url = format!("{}/__sim/dump", sim.root());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() })
}

/// `[ferry <id>]` markers in a body.
fn markers(body: &str) -> Vec<String> {
    body.match_indices("[ferry ")
        .filter_map(|(i, _)| body[i + 7..].split(']').next().map(str::to_string))
        .collect()
}

#[test]
fn kill_mid_ticket_resumes_without_duplicates_and_verify_passes() {
    let kustomer = Sim::start(&[
        "--customers",
        &CUSTOMERS.to_string(),
        "--seed",
        &SEED.to_string(),
    ]);
    let enchant = Sim::enchant(SEED, CUSTOMERS, &["--credits", "0", "--burst", "0"]);
    let (_t, dir) = prepared(&kustomer, &enchant.url, &enchant, 1000);
    // Before anything exists, the dry run counts what every phase will
    // send, the messages of tickets not created yet included.
    let dry = ok(&dir, &["load", "--dry-run"]);

    // kill -9 (abort at the hook) after a ticket was created but before
    // ferry recorded it, then after a ticket's third batch of messages.
    for point in ["load.sent.tickets:2", "load.sent.messages:3"] {
        let out = ferry_command(&dir, &["load"])
            .env("FERRY_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("aborting now"),
            "the crash hook {point} fired: {}",
            text(&out)
        );
    }
    let out = ok(&dir, &["load"]);
    assert!(out.contains("reconciled"), "{out}");
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("0 mismatches"), "{out}");

    let conn = db(&dir);
    // Both in-doubt batches were found again by their markers.
    let reconciled = strings(
        &conn,
        "SELECT DISTINCT object FROM ferry_batches WHERE dest = 'enchant' AND status = 'reconciled' ORDER BY 1",
    );
    assert_eq!(reconciled, ["messages", "tickets"], "in-doubt batches");

    let d = dump(&enchant);
    assert_eq!(
        d["emails_sent"], 0,
        "no outbound reply: nothing mailed a customer"
    );
    let tickets = d["tickets"].as_array().unwrap();
    let out_tickets = count(&conn, "SELECT count(*) FROM out_enchant_tickets");
    assert_eq!(
        tickets.len() as i64,
        out_tickets,
        "one Enchant ticket per conversation"
    );
    assert_messages_once_in_order(&conn, &d);
    assert_states_as_in_source(&conn, &d);
    // Files: the bytes Enchant holds are the bytes Kustomer served.
    let files = strings(
        &conn,
        "SELECT m.dest_id || '=' || a.sha256 FROM ferry_id_map m JOIN stg_attachments a ON a.attachment_id = m.source_id WHERE m.dest = 'enchant' AND m.dest_object = 'attachments'",
    );
    assert!(!files.is_empty(), "the org has attachments");
    for f in files {
        let (id, sha) = f.split_once('=').unwrap();
        assert_eq!(d["attachments"][id]["sha256"], sha, "attachment {id}");
    }
    // Inline images: each a file of its message with the CDN's bytes, and
    // no message body links the Kustomer CDN any more.
    let images = strings(
        &conn,
        "SELECT m.dest_id || '=' || i.sha256 FROM ferry_id_map m JOIN stg_inline_images i ON i.image_id = m.source_id WHERE m.dest = 'enchant' AND m.dest_object = 'attachments'",
    );
    assert!(!images.is_empty(), "the org has inline images");
    for f in images {
        let (id, sha) = f.split_once('=').unwrap();
        assert_eq!(d["attachments"][id]["sha256"], sha, "inline image {id}");
    }
    assert!(
        !d["tickets"].to_string().contains("/cdn/inline/"),
        "a ticket message still links the Kustomer CDN"
    );
    // The agent with no Enchant user is held, named, not failed.
    let held = count(
        &conn,
        "SELECT count(*) FROM ferry_load_errors WHERE object = 'agents' AND http_status IS NULL AND error_body LIKE 'held back: no Enchant user has the email%'",
    );
    assert!(held >= 1, "unmatched agents are held with the reason");
    // The dry run predicted each phase's requests: one per record loaded.
    for phase in [
        "customers",
        "tickets",
        "messages",
        "ticket_state",
        "attachments",
    ] {
        let loaded = count(
            &conn,
            &format!("SELECT count(*) FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = '{phase}'"),
        );
        let [new, held, ..] = dry_row(&dry, phase);
        assert_eq!(new - held, loaded, "{phase}: the dry run's count\n{dry}");
    }
    drop(conn);
    // `ferry status` does not send the user back to `ferry load` for the
    // held agents: their fix is in Enchant.
    let out = ferry(&dir, &["status"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("rows are held back"), "{said}");
    assert!(!said.contains("next         ferry load"), "{said}");

    // Cutover: agents kept working in Kustomer; the delta load carries it.
    // A conversation deleted there is trashed (reversibly) by this setting.
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("deleted_in_source = \"leave\""), "{text}");
    std::fs::write(
        &cfg,
        text.replace(
            "deleted_in_source = \"leave\"",
            "deleted_in_source = \"trash\"",
        ),
    )
    .unwrap();
    let mut mutated = BTreeMap::new();
    for (kind, n) in [
        ("message", 6),
        ("conversation", 5),
        ("customer", 3),
        ("delete", 1),
    ] {
        let ids = kustomer.mutate(kind, n);
        assert_eq!(ids.len(), n, "mutate {kind}: {ids:?}");
        mutated.insert(kind, ids);
    }
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    let dry = ok(&dir, &["load", "--dry-run"]);
    // The new messages count, nothing resent; a message the mutations added
    // to the conversation they then deleted has no ticket left to carry it.
    let conn = db(&dir);
    let ids = mutated["message"]
        .iter()
        .map(|m| format!("'{m}'"))
        .collect::<Vec<_>>()
        .join(",");
    let expected = count(
        &conn,
        &format!("SELECT count(*) FROM stg_messages m JOIN ferry_id_map t ON t.dest = 'enchant' AND t.dest_object = 'tickets' AND t.source_id = m.conversation_id WHERE m.message_id IN ({ids}) AND m.conversation_id <> '{}'", mutated["delete"][0]),
    );
    drop(conn);
    assert!(expected >= 4, "most new messages land on loaded tickets");
    let [new_messages, ..] = dry_row(&dry, "messages");
    assert_eq!(
        new_messages, expected,
        "the new messages, nothing resent: {dry}"
    );
    let [_, _, changed, deleted, _] = dry_row(&dry, "ticket_state");
    assert!(changed >= 1, "edited conversations: {dry}");
    assert_eq!(deleted, 1, "the deleted conversation: {dry}");
    let [_, _, customers_changed, ..] = dry_row(&dry, "customers");
    assert!(customers_changed >= 1, "renamed customers: {dry}");
    assert!(
        dry.contains("PATCH /tickets/{id} (state, labels, assignee)"),
        "{dry}"
    );
    let out = ok(&dir, &["load"]);
    assert!(out.contains("0 rows failed"), "{out}");
    assert!(out.contains("0 not applied, 0 failed"), "{out}");

    let conn = db(&dir);
    let d = dump(&enchant);
    assert_eq!(d["emails_sent"], 0, "{out}");
    // New messages at the end of their tickets, once each, in order;
    // edited conversations' state and labels as Kustomer has them now.
    assert_messages_once_in_order(&conn, &d);
    assert_states_as_in_source(&conn, &d);
    let gone = &mutated["delete"][0];
    let trashed = strings(
        &conn,
        &format!("SELECT dest_id FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = 'tickets' AND source_id = '{gone}'"),
    );
    let ticket = d["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == trashed[0].as_str())
        .unwrap();
    assert_eq!(
        ticket["trash"], true,
        "the deleted conversation's ticket: {ticket}"
    );
    // A renamed customer's new name reached Enchant.
    let renamed = d["customers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["last_name"].as_str().unwrap_or("").contains("(rev 2)"))
        .count();
    assert!(renamed >= 1, "renamed customers in Enchant");
    drop(conn);
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("0 mismatches"), "{out}");

    // Everything the route must carry is carried and read back: custom
    // attributes (a KObject reference by the record's name and id), tags,
    // external ids, a company's phones, KObjects' descriptions and
    // companies (a company's own KObject in its customers' summaries),
    // the message envelope; nothing is left "not carried yet".
    let conn = db(&dir);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM verify_fields WHERE not_carried_yet"
        ),
        0
    );
    for (object, field) in [
        ("customers", "custom attribute (loyaltyTierStr)"),
        ("customers", "summary (tags)"),
        ("customers", "summary (external id)"),
        ("companies", "summary (company phones)"),
        ("companies", "custom attribute (industryStr)"),
        ("conversations", "custom attribute (orderId)"),
        ("conversations", "header note (external id)"),
        ("kobjects", "custom attribute (orderId)"),
        ("kobjects", "KObject (description)"),
        ("kobjects", "KObject (company)"),
        ("messages", "message header (from)"),
    ] {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM verify_field_values WHERE source_object = '{object}' AND field = '{field}' AND matches"),
        );
        assert!(n >= 1, "{object} {field} compared and equal");
    }
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM int_kobject_lines WHERE via = 'company'"
        ) >= 1,
        "a company's own KObject travels in its customers' summaries"
    );
    // An agent edits one customer's summary by hand: verify names that
    // customer's attribute.
    let (dest_id, summary) = {
        let r = strings(
            &conn,
            "SELECT v.dest_id || chr(31) || c.summary FROM verify_field_values v
             JOIN ferry_id_map m ON m.dest = 'enchant' AND m.dest_object = 'customers' AND m.dest_id = v.dest_id
             JOIN out_enchant_customers c ON c.source_id = m.source_id
             WHERE v.field = 'custom attribute (loyaltyTierStr)' ORDER BY 1 LIMIT 1",
        );
        let (a, b) = r[0].split_once('\u{1f}').unwrap();
        (a.to_string(), b.to_string())
    };
    drop(conn);
    let edited: String = summary
        .lines()
        .filter(|l| !l.starts_with("loyaltyTierStr: "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        enchant.enchant_patch(&format!("/customers/{dest_id}"), json!({"summary": edited})),
        200
    );
    let out = ferry(&dir, &["verify"]);
    assert!(
        !out.status.success(),
        "verify fails on the edited summary: {}",
        common::text(&out)
    );
    let conn = db(&dir);
    assert_eq!(
        strings(
            &conn,
            "SELECT dest_id || ' ' || field FROM verify_field_values WHERE NOT matches"
        ),
        vec![format!("{dest_id} custom attribute (loyaltyTierStr)")]
    );
}

/// Every message once, in the thread's order, after the header note, and
/// every message of the source sent (trashed tickets aside: their
/// conversation left the source).
fn assert_messages_once_in_order(conn: &duckdb::Connection, d: &Value) {
    let trashed: HashSet<&str> = d["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["trash"] == true)
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let mut seen = HashSet::new();
    let mut sent = 0i64;
    for (ticket, msgs) in d["messages"].as_object().unwrap() {
        if trashed.contains(ticket.as_str()) {
            continue;
        }
        let msgs = msgs.as_array().unwrap();
        let first = markers(msgs[0]["body"].as_str().unwrap());
        let conv = strings(
            conn,
            &format!("SELECT source_id FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = 'tickets' AND dest_id = '{ticket}'"),
        );
        assert_eq!(first, conv, "ticket {ticket} opens with its header note");
        let got: Vec<String> = msgs[1..]
            .iter()
            .flat_map(|m| markers(m["body"].as_str().unwrap()))
            .filter(|m| !m.starts_with("kobjects:"))
            .collect();
        for m in &got {
            assert!(seen.insert(m.clone()), "message {m} sent twice");
        }
        sent += got.len() as i64;
        let want = strings(
            conn,
            &format!("SELECT source_id FROM out_enchant_messages WHERE conversation_id = '{}' ORDER BY position", conv[0]),
        );
        assert_eq!(got, want, "ticket {ticket}: messages in source order");
        // Agent messages and notes are notes; no reply goes out.
        assert!(msgs.iter().all(|m| m["direction"] != "out"));
    }
    assert_eq!(
        sent,
        count(conn, "SELECT count(*) FROM out_enchant_messages")
    );
}

/// State and labels of every live ticket as the source has them now.
fn assert_states_as_in_source(conn: &duckdb::Connection, d: &Value) {
    for t in d["tickets"].as_array().unwrap() {
        if t["trash"] == true {
            continue;
        }
        let id = t["id"].as_str().unwrap();
        let want = strings(
            conn,
            &format!("SELECT o.state || '|' || array_to_string(list_sort(o.label_ids), ',') FROM out_enchant_tickets o JOIN ferry_id_map m ON m.source_id = o.source_id AND m.dest = 'enchant' AND m.dest_object = 'tickets' WHERE m.dest_id = '{id}'"),
        );
        let mut labels: Vec<&str> = t["label_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        labels.sort();
        assert_eq!(
            want,
            [format!(
                "{}|{}",
                t["state"].as_str().unwrap(),
                labels.join(",")
            )],
            "ticket {id}"
        );
    }
}

/// The figures `ferry load --dry-run` prints for a phase: (new, held,
/// changed, deleted, requests).
fn dry_row(out: &str, phase: &str) -> [i64; 5] {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(phase))
        .unwrap_or_else(|| panic!("no {phase} row in {out}"));
    let n: Vec<i64> = line
        .split_whitespace()
        .skip(1)
        .take(5)
        .map(|x| x.parse().unwrap())
        .collect();
    [n[0], n[1], n[2], n[3], n[4]]
}

/// Enchant's community spec with `/api/v1` on every path and a relative
/// server: Prism matches paths without the server's base path.
fn spec_for_prism(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(reference("enchant-openapi-community.yaml")).unwrap();
    let mut out = String::new();
    let mut in_servers = false;
    for line in text.lines() {
        if line == "servers:" {
            in_servers = true;
            out.push_str("servers:\n  - url: /\n");
            continue;
        }
        if in_servers {
            if line.starts_with(' ') {
                continue;
            }
            in_servers = false;
        }
        match line.strip_prefix("  /") {
            Some(rest) => out.push_str(&format!("  /api/v1/{rest}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let p = dir.join("enchant-prism.yaml");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn prism_sees_no_violation_and_enchant_python_client_reads_the_load_back() {
    let python = home_cache("ferry-enchant-py/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash .ci/run` once (it installs enchant-python-client)",
        python.display()
    );
    let kustomer = Sim::start(&["--customers", "8", "--seed", "2"]);
    // Credits and burst on, with the heavier embed cost: ferry must pace
    // itself by the headers.
    let enchant = Sim::enchant(2, 8, &["--credits", "6000", "--burst", "60"]);
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_for_prism(tmp.path());
    let mut proxy = Prism::start(&spec, &enchant.root());
    let via = format!("{}/api/v1", proxy.url);
    let (_t, dir) = prepared(&kustomer, &via, &enchant, 60);
    // The proxy itself sometimes answers 500 under a loaded machine: a
    // load that gave up resumes, as a user would rerun it (the violations
    // below still cover every request of both runs).
    let first = ferry(&dir, &["load"]);
    if !first.status.success() {
        eprintln!(
            "first load through prism failed, resuming: {}",
            text(&first)
        );
        let again = ferry(&dir, &["load"]);
        let log = proxy.log();
        let tail: String = log.lines().rev().take(40).collect::<Vec<_>>().join("\n");
        assert!(
            again.status.success(),
            "load through prism: {}\nprism log, last lines (reversed):\n{tail}",
            text(&again)
        );
    }
    let verify = ferry(&dir, &["verify"]);
    proxy.stop();
    assert!(verify.status.success(), "verify: {}", text(&verify));

    let log = proxy.log();
    let requests = log.matches("Request received").count();
    let mut violations: BTreeMap<String, usize> = BTreeMap::new();
    let mut current = String::new();
    for line in log.lines() {
        if let Some(i) = line.find("Request received") {
            if let Some(p) = line[..i]
                .split_whitespace()
                .find(|w| w.starts_with("/api/v1/"))
            {
                current = p.split('?').next().unwrap().to_string();
            }
        }
        if let Some(i) = line.find("Violation: ") {
            let what: String = line[i..].chars().take(200).collect();
            *violations.entry(format!("{current}: {what}")).or_default() += 1;
        }
    }
    assert!(requests > 100, "prism saw ferry's requests ({requests})");
    assert!(
        violations.is_empty(),
        "{requests} requests, violations: {violations:#?}"
    );

    // enchant-python-client, unmodified, reads everything back.
    let out = Command::new(&python)
        .arg(manifest_dir().join("tests/outside/enchant_readback.py"))
        .args([&enchant.url, EN_TOKEN])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "enchant-python-client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back: Value = serde_json::from_slice(&out.stdout).unwrap();
    let conn = db(&dir);
    let tickets = back["tickets"].as_array().unwrap();
    assert_eq!(
        tickets.len() as i64,
        count(&conn, "SELECT count(*) FROM out_enchant_tickets")
    );
    let messages: usize = tickets
        .iter()
        .map(|t| t["messages"].as_array().unwrap().len())
        .sum();
    let want = count(&conn, "SELECT count(*) FROM out_enchant_messages")
        + count(&conn, "SELECT count(*) FROM out_enchant_kobject_notes")
        + tickets.len() as i64;
    assert_eq!(
        messages as i64, want,
        "messages + kobject notes + one header note a ticket"
    );
    assert_eq!(
        back["customers"].as_array().unwrap().len() as i64,
        count(&conn, "SELECT count(*) FROM out_enchant_customers")
    );
    drop(conn);
    // What the guide keeps out of the live inbox, for historical
    // reporting: the audit log and every customer's tracking sessions, in
    // the archive set whole, checked against the simulator's own ids.
    let out = ferry(&dir, &["archive", "--set", "archive", "--format", "jsonl"]);
    assert!(out.status.success(), "archive: {}", text(&out));
    for object in ["audit_logs", "customer_events"] {
        let body = std::fs::read_to_string(dir.join(format!("exports/archive/{object}.jsonl")))
            .unwrap_or_else(|e| panic!("{object}: {e}"));
        let mut got: Vec<String> = body
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                assert!(v["ferry_reason"].is_string(), "{object}: {v}");
                v["id"].as_str().unwrap().to_string()
            })
            .collect();
        got.sort();
        assert!(!got.is_empty(), "{object}");
        assert_eq!(
            got,
            kustomer.ids(object),
            "{object}: the archive holds every one"
        );
    }
}
