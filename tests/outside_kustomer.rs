//! Outside references for the Kustomer side, from day one: Kustomer's own
//! published OpenAPI (through a validating Prism proxy between ferry and
//! the simulator) and Singer's tap-kustomer, written by others against the
//! real API, run unmodified against the simulator. Plus the `ferry probe`
//! checks of what no document settles, and the behaviours the spec and
//! third-party clients revealed (caps, unavailable streams, trailing
//! slashes, bodies only at links.related).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

/// Endpoints ferry calls that Kustomer's Core Resources spec does not
/// cover, with why (see ../shared/reference/README.md).
const OUTSIDE_SPEC: &[(&str, &str)] = &[
    ("/v1/users", "users are in Kustomer's Access Management API, not Core Resources"),
    ("/v1/users/current", "the key's own user (Access Management API): ferry's one-request health check"),
    ("/v1/teams", "teams are in Kustomer's Access Management API"),
    ("/v1/tags", "tags are in another Kustomer API category"),
    ("/v1/shortcuts", "shortcuts are in another Kustomer API category"),
    ("/v1/slas", "only GET /slas/{id} is in Core Resources; the list is elsewhere"),
    ("/v1/postmark/messages/", "a message's links.related: the channel app's full content, linked by the spec's own example but not specified"),
    ("/v1/chat/messages/", "a chat message's links.related, as above"),
];

/// Response fields ferry reads, by the object an endpoint returns (from
/// `sql/sources/kustomer/staging/*.sql` and the extractor); a violation
/// on any other field is the spec's example-generated `required` noise
/// (reference README). A search's object is in its request body, not its
/// path: only the key fields are held against its responses.
const KEY_FIELDS: &[&str] = &[
    "id",
    "type",
    "data",
    "attributes",
    "createdAt",
    "updatedAt",
    "links",
    "related",
    "next",
    "relationships",
];

fn reads(path: &str, field: &str) -> bool {
    if KEY_FIELDS.contains(&field) {
        return true;
    }
    let object = if path.contains("/attachments") {
        "attachments"
    } else {
        path.trim_start_matches("/v1/")
            .rsplit('/')
            .find(|s| !s.chars().any(|c| c.is_ascii_digit()))
            .unwrap_or("")
    };
    let extra: &[&str] = match object {
        "messages" => &[
            "preview",
            "channel",
            "direction",
            "sentAt",
            "conversation",
            "customer",
            "createdBy",
            "attachments",
        ],
        "notes" => &["body", "conversation", "createdBy"],
        "customers" => &[
            "name",
            "displayName",
            "emails",
            "email",
            "phones",
            "company",
            "externalId",
        ],
        "conversations" => &[
            "name",
            "status",
            "priority",
            "channels",
            "customer",
            "assignedUsers",
            "assignedTeams",
            "tags",
        ],
        "companies" => &["name", "externalId", "domains"],
        "klasses" => &["name", "displayName", "status", "metadata"],
        "attachments" => &["name", "contentType", "contentLength", "message"],
        _ => &[],
    };
    extra.contains(&field)
}

#[test]
fn prism_finds_no_request_violation_and_no_response_violation_on_fields_ferry_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let spec_v1 = kustomer_spec_v1(tmp.path());

    let sim = Sim::start(&["--customers", "8", "--seed", "11"]);
    let mut proxy = Prism::start(&spec_v1, &sim.url);
    // One request at a time, so each violation follows the request it is about.
    let (_t, dir) = workspace(
        &proxy.url,
        &[
            ("concurrency = 6", "concurrency = 1"),
            ("fetch_concurrency = 8", "fetch_concurrency = 1"),
        ],
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    proxy.stop();
    assert!(
        out.status.success(),
        "extract through prism: {}",
        text(&out)
    );

    let log = proxy.log();
    let mut current = String::new();
    let mut requests = 0;
    let mut outside: BTreeMap<String, usize> = BTreeMap::new();
    let mut request_violations = Vec::new();
    let mut read_field_violations = Vec::new();
    let mut noise = 0usize;
    for line in log.lines() {
        if let Some(i) = line.find("Request received") {
            // "[HTTP SERVER] get /v1/messages?… ℹ  info      Request received"
            let head = &line[..i];
            if let Some(p) = head.split_whitespace().find(|w| w.starts_with("/v1/")) {
                current = p.split('?').next().unwrap().to_string();
                requests += 1;
            }
            continue;
        }
        let Some(i) = line.find("Violation: ") else {
            continue;
        };
        let what = &line[i + "Violation: ".len()..];
        let out_of_spec = OUTSIDE_SPEC
            .iter()
            .find(|(p, _)| current == *p || (p.ends_with('/') && current.starts_with(p)));
        if what.starts_with("request") {
            match out_of_spec {
                Some((p, _)) if what.contains("Selected route not found") => {
                    *outside.entry(p.to_string()).or_default() += 1
                }
                _ => request_violations.push(format!("{current}: {what}")),
            }
            continue;
        }
        // Response: "must have required property 'x'" on a field ferry does
        // not read is noise; a wrong type, or a missing field ferry reads, is not.
        let field = what.split('\'').nth(1).unwrap_or("");
        let missing = what.contains("must have required property");
        // A search answers `links.next: null` at the end: Singer's
        // tap-kustomer, written against the real API, stops its search
        // loop only on a null next; the spec's `string` comes from an example.
        let search_end = current.ends_with("/search") && what.contains("links.next must be string");
        // GetAuditLogs declares `data` an object, while the same
        // operation's example answers an array of `audit_log` entries with
        // paging links (a list, paged by `before`): the spec contradicts
        // itself, and the simulator follows the example.
        let audit_list =
            current == "/v1/audit-logs" && what.contains("property data must be object");
        if (missing && !reads(&current, field)) || search_end || audit_list {
            noise += 1;
        } else if out_of_spec.is_none() {
            read_field_violations.push(format!("{current}: {what}"));
        }
    }
    eprintln!(
        "prism: {requests} requests, outside the spec: {outside:?}, noise violations: {noise}"
    );
    assert!(requests > 50, "prism saw ferry's requests ({requests})");
    assert!(
        request_violations.is_empty(),
        "request violations: {:#?}",
        &request_violations[..request_violations.len().min(20)]
    );
    assert!(
        read_field_violations.is_empty(),
        "response violations on fields ferry reads: {:#?}",
        &read_field_violations[..read_field_violations.len().min(20)]
    );
    // Every out-of-spec endpoint ferry used is one listed above, with a reason.
    for p in outside.keys() {
        assert!(OUTSIDE_SPEC.iter().any(|(q, _)| q == p));
    }
}

fn tap_python() -> PathBuf {
    let p = std::env::var_os("FERRY_TAP_KUSTOMER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| home_cache("ferry-tapk/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: run `bash .ci/run` once, or `python3 -m venv ~/.cache/ferry-tapk && ~/.cache/ferry-tapk/bin/pip install tap-kustomer==1.1.0`, or set FERRY_TAP_KUSTOMER_PYTHON",
        p.display()
    );
    p
}

#[test]
fn singer_tap_kustomer_syncs_every_live_record_from_the_simulator() {
    let python = tap_python();
    // The tap's messages stream pages by `updatedAt >= last seen` without a
    // tie-break: the bulk-imported thread (5,001 messages) gets distinct
    // updatedAt values so that the tap can page past it; every stream syncs.
    let sim = Sim::start(&["--customers", "20", "--seed", "3", "--distinct-times"]);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config.json");
    std::fs::write(&config, serde_json::json!({"api_token": KEY, "start_date": "2000-01-01T00:00:00Z", "user_agent": "ferry-tests", "page_size_limit": "100"}).to_string()).unwrap();
    let launcher = manifest_dir().join("tests/outside/tap_kustomer_launcher.py");
    let run = |args: &[&str]| {
        let out = Command::new(&python)
            .arg(&launcher)
            .arg(&sim.url)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tap-kustomer {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let mut catalog: serde_json::Value =
        serde_json::from_slice(&run(&["--config", config.to_str().unwrap(), "--discover"]))
            .unwrap();
    let mut selected = Vec::new();
    for s in catalog["streams"].as_array_mut().unwrap() {
        let name = s["stream"].as_str().unwrap().to_string();
        let pick = true;
        for m in s["metadata"].as_array_mut().unwrap() {
            if m["breadcrumb"].as_array().unwrap().is_empty() {
                m["metadata"]["selected"] = serde_json::json!(pick);
            }
        }
        if pick {
            selected.push(name);
        }
    }
    let cat = tmp.path().join("catalog.json");
    std::fs::write(&cat, catalog.to_string()).unwrap();
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
    ]);
    let mut ids: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for line in BufReader::new(&out[..]).lines() {
        let m: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if m["type"] == "RECORD" {
            ids.entry(m["stream"].as_str().unwrap().into())
                .or_default()
                .insert(m["record"]["id"].as_str().unwrap().into());
        }
    }
    let stats = sim.stats();
    assert!(
        selected.len() >= 9 && selected.iter().any(|s| s == "messages"),
        "streams: {selected:?}"
    );
    for s in &selected {
        let live = stats["objects"][s].as_u64().unwrap() - stats["archived"][s].as_u64().unwrap();
        assert_eq!(
            ids.get(s).map_or(0, |v| v.len()) as u64,
            live,
            "{s}: tap-kustomer records vs the simulator's records updated in the last two years"
        );
    }
}

#[test]
fn probe_passes_on_the_simulator_and_a_refuted_body_assumption_stops_the_full_pass() {
    let good = Sim::start(&["--customers", "10"]);
    let (_t, dir) = workspace(&good.url, &[]);
    let out = ferry(&dir, &["probe"]);
    let t = text(&out);
    for check in [
        "email bodies at links.related",
        "chat previews complete",
        "list record cap",
        "lists omit archived",
        "archive search sort",
    ] {
        assert!(t.contains(check), "probe names `{check}`: {t}");
    }
    assert!(
        !t.lines()
            .any(|l| l.contains("FAIL") && l.contains("links.related")),
        "{t}"
    );

    let bad = Sim::start(&["--customers", "10", "--no-message-content"]);
    let (_t2, dir) = workspace(&bad.url, &[]);
    let out = ferry(&dir, &["probe"]);
    let t = text(&out);
    assert!(
        t.lines()
            .any(|l| l.contains("FAIL") && l.contains("email bodies at links.related")),
        "{t}"
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(
        !out.status.success(),
        "a refuted data-losing assumption stops the full pass"
    );
    assert!(text(&out).contains("--accept-refuted"), "{}", text(&out));
    let out = ferry(&dir, &["extract", "--no-progress", "--accept-refuted"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(ferry(&dir, &["transform"]).status.success());
    // Never passed off as complete: every email is flagged preview-only.
    let conn = db(&dir);
    let flagged = count(&conn, "SELECT count(*) FROM stg_preview_only_messages");
    let emails = count(
        &conn,
        "SELECT count(*) FROM stg_messages WHERE channel = 'email'",
    );
    assert!(
        emails > 0 && flagged >= emails,
        "{flagged} flagged of {emails} emails"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM stg_messages WHERE body_source = 'content'"
        ),
        0
    );
}

#[test]
fn capped_lists_unavailable_streams_and_disabled_klasses_lose_nothing() {
    // Lists end silently at 300 records; shortcuts are absent (404) and the
    // key may read neither SLAs nor the audit log (403); one klass is
    // disabled. Customers' sessions are read one customer at a time.
    let sim = Sim::start(&[
        "--customers",
        "60",
        "--list-cap",
        "300",
        "--missing",
        "shortcuts",
        "--forbidden",
        "slas,audit_logs",
    ]);
    let (_t, dir) = workspace(
        &sim.url,
        &[("list_record_cap = 10000", "list_record_cap = 300")],
    );
    let out = ferry(&dir, &["extract", "--no-progress"]);
    assert!(
        out.status.success(),
        "the extract completes: {}",
        text(&out)
    );
    let t = text(&out);
    assert!(
        t.contains("shortcuts is unavailable")
            && t.contains("slas is unavailable")
            && t.contains("audit_logs is unavailable"),
        "{t}"
    );
    let conn = db(&dir);
    for object in OBJECTS
        .iter()
        .filter(|o| !matches!(**o, "shortcuts" | "slas" | "audit_logs"))
    {
        let got = count(
            &conn,
            &format!("SELECT count(*) FROM raw_kustomer_{object}"),
        );
        let want = sim.stats()["objects"][object].as_u64().unwrap() as i64;
        assert_eq!(got, want, "{object}: landed {got} of {want}");
    }
    let reasons = strings(
        &conn,
        "SELECT object || ' ' || status || ' ' || reason FROM ferry_unavailable ORDER BY object",
    );
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with("audit_logs 403")
            && reasons[1].starts_with("shortcuts 404")
            && reasons[2].starts_with("slas 403"),
        "{reasons:?}"
    );
    // The sessions came per customer: every customer was asked once.
    assert!(count(&conn, "SELECT count(*) FROM raw_kustomer_customer_events") > 0);
    // Disabled klasses are fetched too (GET /v1/klasses defaults to enabled).
    assert!(count(&conn, "SELECT count(*) FROM raw_kustomer_klasses WHERE json_extract_string(json, '$.attributes.status') = 'disabled'") >= 1);
    // Inbound attachments came side-loaded or per message; none through the
    // outbound-only /v1/attachments/{ids}.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM ferry_quarantine WHERE object = 'attachments'"
        ) == 0
    );
    drop(conn);
    let out = ferry(&dir, &["transform"]);
    assert!(out.status.success(), "transform: {}", text(&out));
}

#[test]
fn the_simulator_answers_paths_with_a_trailing_slash_and_search_429s_carry_rate_headers() {
    let sim = Sim::start(&["--customers", "5", "--search-rate-limit", "1"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c
            .get(format!("{}/v1/users/current/", sim.url))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = serde_json::json!({"queryContext": "customer", "and": []});
        let r = c
            .post(format!("{}/v1/customers/search/", sim.url))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = c
            .post(format!("{}/v1/customers/search", sim.url))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        for h in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ] {
            assert!(r.headers().contains_key(h), "429 carries {h}");
        }
    });
}
