//! The Salesforce simulator against an outside reference: simple-salesforce
//! (PyPI, pinned and installed by `.ci/run`), a client written by others
//! for the real API, runs unmodified against `ferry sim salesforce` —
//! OAuth client-credentials login, describe, REST create/upsert/get, SOQL
//! with `nextRecordsUrl`, Bulk API 2.0 upsert with CSV results, /limits —
//! and what it saw must equal the simulator's own dump.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// The Python with simple-salesforce: `FERRY_SF_PYTHON`, else the venv
/// `.ci/run` makes.
fn python() -> PathBuf {
    let p = std::env::var_os("FERRY_SF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| home_cache("ferry-sf-py/bin/python"));
    assert!(
        p.exists(),
        "{} is missing: this test needs simple-salesforce. Run `bash .ci/run` once, or \
         `python3 -m venv ~/.cache/ferry-sf-py && ~/.cache/ferry-sf-py/bin/pip install simple-salesforce==1.12.10`, \
         or set FERRY_SF_PYTHON",
        p.display()
    );
    p
}

fn simple_salesforce(url: &str, mode: &str) -> Value {
    let out = std::process::Command::new(python())
        .arg(manifest_dir().join("tests/outside/simple_salesforce_check.py"))
        .args([url, SF_CLIENT_ID, SF_CLIENT_SECRET, mode])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "simple-salesforce failed against the simulator:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// ferry's Salesforce client for the simulator, as a `[destination]`
/// section naming the secrets' variables builds it: (data path, client).
fn transport(sf: &Sim) -> (String, ferry::http::ApiClient) {
    use ferry::connectors::salesforce::{session, Settings};
    std::env::set_var("FERRY_TEST_SF_ID", SF_CLIENT_ID);
    std::env::set_var("FERRY_TEST_SF_SECRET", SF_CLIENT_SECRET);
    let toml = format!(
        "base_url = \"{}\"\nclient_id_env = \"FERRY_TEST_SF_ID\"\nclient_secret_env = \"FERRY_TEST_SF_SECRET\"\n",
        sf.url
    );
    let s: Settings = toml::from_str(&toml).unwrap();
    assert!(s.problems().is_empty(), "{:?}", s.problems());
    (s.data_path(), session::client(&s).unwrap())
}

#[test]
fn simple_salesforce_runs_unmodified_against_the_simulator() {
    // Small SOQL pages, so query_all must follow nextRecordsUrl.
    let sf = Sim::salesforce(&["--query-page", "10", "--bulk-delay-ms", "200"]);
    let v = simple_salesforce(&sf.url, "exercise");
    assert_eq!(
        v["case_statuses"],
        serde_json::json!(["New", "Working", "Escalated", "Closed"]),
        "{v}"
    );
    assert_eq!(v["case_status_restricted"], true);
    assert_eq!(v["external_ids"], serde_json::json!(["Kustomer_Id__c"]));
    assert_eq!(v["account"], "Acme");
    // Upsert by external id: 201 created, then 200 updated.
    assert_eq!(v["contact_upsert_status"], 201, "{v}");
    assert_eq!(v["contact_upsert_again"], 200, "{v}");
    assert_eq!(v["contact"]["Name"], "Ada Lovelace");
    assert_eq!(v["contact"]["AccountId"], true, "Account by external id");
    assert_eq!(
        v["bad_picklist"],
        "SalesforceMalformedRequest: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    // Bulk: 26 rows, one refused for its picklist value, results keyed by
    // the uploaded external id column.
    assert_eq!(
        v["bulk"],
        serde_json::json!([{"processed": 26, "failed": 1}]),
        "{v}"
    );
    assert_eq!(v["bulk_ok"].as_array().unwrap().len(), 25);
    assert_eq!(v["bulk_created"], serde_json::json!(["true"]));
    assert_eq!(
        v["bulk_failed"],
        serde_json::json!([["cv-bad", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]])
    );
    assert_eq!(v["bulk_state"], "JobComplete");
    assert_eq!(v["query_total"], 25);
    assert_eq!(v["query_rows"], 25, "query_all followed nextRecordsUrl");
    assert_eq!(v["first_page_done"], false);
    assert_eq!(v["query_contact"], serde_json::json!(["cu-1"]));
    assert_eq!(v["limits_max"], 100_000);
    assert!(
        v["api_usage"].as_u64().unwrap() > 10,
        "Sforce-Limit-Info read: {v}"
    );

    // What the client saw is what the org holds (the simulator's dump).
    let d = sf.get("/__sim/dump");
    let cases = d["Case"].as_array().unwrap();
    assert_eq!(cases.len(), 25);
    let contact = &d["Contact"][0];
    assert!(cases.iter().all(|c| c["ContactId"] == contact["Id"]));
    assert!(cases
        .iter()
        .all(|c| c["Id"].as_str().unwrap().starts_with("500")
            && c["Id"].as_str().unwrap().len() == 18));
    let mut users: Vec<String> = d["User"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Email"].as_str().unwrap().to_string())
        .collect();
    users.sort();
    assert_eq!(v["users"], serde_json::json!(users));
    let stats = sf.stats();
    // The header the client read is the org's count at that moment.
    assert!(stats["api_usage"].as_u64().unwrap() >= v["api_usage"].as_u64().unwrap());
    assert!(
        stats["by_kind"]["bulk"].as_u64().unwrap() >= 4,
        "create, upload, close, poll: {stats}"
    );
}

/// ferry's own Salesforce transport (OAuth session with refresh,
/// Collections upserts, a Bulk 2.0 job, SOQL paging) against the
/// simulator; what it reports is checked against the simulator's dump.
#[test]
fn ferrys_transport_upserts_through_collections_and_bulk_with_a_refreshed_session() {
    use ferry::connectors::salesforce::{bulk, collections, soql};
    // Every token serves 7 requests: the run must refresh several times.
    let sf = Sim::salesforce(&[
        "--token-requests",
        "7",
        "--query-page",
        "100",
        "--bulk-delay-ms",
        "100",
    ]);
    let (data, client) = transport(&sf);
    let job = rt().block_on(async {
        // Collections: 200 accounts, one of them refused (Name too long).
        let accounts: Vec<Value> = (0..200)
            .map(|i| {
                let name = if i == 7 {
                    "x".repeat(300)
                } else {
                    format!("Company {i}")
                };
                serde_json::json!({"Kustomer_Id__c": format!("co-{i}"), "Name": name})
            })
            .collect();
        let out = collections::upsert(&client, &data, "Account", "Kustomer_Id__c", &accounts, None)
            .await
            .unwrap();
        assert_eq!(out.len(), 200);
        assert!(
            out[7].as_ref().unwrap_err().starts_with("STRING_TOO_LONG"),
            "{:?}",
            out[7]
        );
        assert!(out
            .iter()
            .enumerate()
            .all(|(i, o)| i == 7 || o.as_ref().is_ok_and(|(_, c)| *c)));
        // The same upsert again updates: nothing created twice.
        let again = collections::upsert(
            &client,
            &data,
            "Account",
            "Kustomer_Id__c",
            &accounts[..10],
            None,
        )
        .await
        .unwrap();
        assert!(again
            .iter()
            .enumerate()
            .all(|(i, o)| i == 7 || o.as_ref().is_ok_and(|(_, c)| !*c)));

        // Bulk: 450 contacts linked to their account by external id; one
        // without LastName fails; results keyed by the external id.
        let header: Vec<String> = [
            "Kustomer_Id__c",
            "LastName",
            "Email",
            "Account.Kustomer_Id__c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<Vec<String>> = (0..450)
            .map(|i| {
                vec![
                    format!("cu-{i}"),
                    if i == 13 {
                        String::new()
                    } else {
                        format!("Smith, \"{i}\"")
                    },
                    format!("c{i}@x.test"),
                    format!("co-{}", if i % 200 == 7 { 8 } else { i % 200 }),
                ]
            })
            .collect();
        let ingest = bulk::Ingest {
            object: "Contact",
            operation: "upsert",
            ext_field: Some("Kustomer_Id__c"),
            key: "Kustomer_Id__c",
        };
        let job = bulk::run(&client, &data, ingest, &header, &rows, None)
            .await
            .unwrap();
        assert_eq!(job.state, "JobComplete");
        assert_eq!(job.ok.len(), 449, "{:?}", job.failed);
        assert!(
            job.failed["cu-13"].starts_with("REQUIRED_FIELD_MISSING"),
            "{:?}",
            job.failed
        );
        assert!(job.requests >= 6);

        // SOQL through four pages.
        let got = soql::query_all(&client, &data, "SELECT Id, Kustomer_Id__c FROM Contact")
            .await
            .unwrap();
        assert_eq!(got.len(), 449);
        let quoted = soql::quote("it's");
        assert_eq!(quoted, "'it\\'s'");

        job
    });
    // What ferry recorded is what the org holds, read by its own path.
    {
        let d = sf.get("/__sim/dump");
        let by_ext: std::collections::HashMap<&str, &Value> = d["Contact"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["Kustomer_Id__c"].as_str().unwrap(), c))
            .collect();
        for (ext, (id, created)) in &job.ok {
            assert!(created);
            assert_eq!(by_ext[ext.as_str()]["Id"], id.as_str(), "{ext}");
        }
        assert_eq!(
            by_ext["cu-5"]["LastName"], "Smith, \"5\"",
            "quoting survives the CSV"
        );
        let acct = d["Account"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["Kustomer_Id__c"] == "co-5")
            .unwrap();
        assert_eq!(by_ext["cu-5"]["AccountId"], acct["Id"]);
    }
    let stats = sf.stats();
    assert!(
        stats["by_kind"]["token"].as_u64().unwrap() >= 2,
        "the session was refreshed: {stats}"
    );
}

/// The simulator dump's records of `object`, by Id.
fn by_id<'a>(d: &'a Value, object: &str) -> std::collections::HashMap<&'a str, &'a Value> {
    d[object]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["Id"].as_str().unwrap(), v))
        .collect()
}

fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let out = ferry(dir, args);
    assert!(out.status.success(), "ferry {args:?}: {}", text(&out));
    text(&out)
}

/// Route kustomer-salesforce end to end: a status the org's restricted
/// picklist lacks is a dry-run error; then kill -9 right after Salesforce
/// answered a Bulk job of Cases, a Bulk job of EmailMessages and a
/// Collections call of CaseComments; the rerun reconciles by external id
/// (and by the comment's body marker), creates nothing twice, verify
/// passes, and simple-salesforce reads the Cases and EmailMessages back.
#[test]
fn route_loads_resumes_after_kills_without_duplicates_and_verifies() {
    let kustomer = Sim::start(&["--customers", "16", "--seed", "5"]);
    let sf = Sim::salesforce(&[
        "--mirror-kustomer-seed",
        "5",
        "--mirror-kustomer-customers",
        "16",
        "--bulk-delay-ms",
        "50",
        "--query-page",
        "200",
    ]);
    let (_t, dir) = workspace_route(
        "kustomer-salesforce",
        &kustomer.url,
        &sf.url,
        // Files above 3,000 bytes go up as multipart (about half of them).
        &[(
            "json_upload_max_bytes = 28000000\n",
            "json_upload_max_bytes = 3000\n",
        )],
    );
    // A seed mapping a status to a value the org does not have.
    let seeds = dir.join("sql/kustomer_salesforce/seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        seeds.join("status_map.csv"),
        "kustomer_status,case_status\nopen,New\nsnoozed,Pending\ndone,Closed\n",
    )
    .unwrap();
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    let dry = ok(&dir, &["load", "--dry-run"]);
    assert!(
        dry.contains("Case Status \"Pending\" is not in the org's restricted picklist"),
        "{dry}"
    );
    std::fs::write(
        seeds.join("status_map.csv"),
        "kustomer_status,case_status\nopen,New\nsnoozed,Working\ndone,Closed\n",
    )
    .unwrap();
    ok(&dir, &["transform"]);
    let dry = ok(&dir, &["load", "--dry-run"]);
    assert!(!dry.contains("restricted picklist"), "{dry}");
    // The org has no custom objects for the klasses yet: the dry run names
    // them; the admin creates what out_salesforce_custom_fields lists.
    assert!(
        dry.contains("custom object ecomm_order__c does not exist in the org"),
        "{dry}"
    );
    // ...nor the custom fields the customers' attributes need: a Contact
    // would wait for them.
    assert!(dry.contains("Contact lacks the custom field(s)"), "{dry}");
    let fields = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ferry::sim::salesforce::admin::create_custom_objects(
            &sf.url, &dir,
        ))
        .unwrap();
    assert!(fields > 10, "{fields}");
    let dry = ok(&dir, &["load", "--dry-run"]);
    assert!(!dry.contains("does not exist in the org"), "{dry}");
    assert!(!dry.contains("lacks the field"), "{dry}");
    assert!(!dry.contains("lacks the custom field"), "{dry}");

    for point in [
        "load.sent.cases:1",
        "load.sent.email_messages:1",
        "load.sent.case_comments:1",
    ] {
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
    assert!(out.contains("0 rows failed"), "{out}");

    let conn = db(&dir);
    let d = sf.get("/__sim/dump");
    let ext = |object: &str| -> Vec<String> {
        d[object]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["Kustomer_Id__c"].as_str().map(str::to_string))
            .collect()
    };
    for (object, phase) in [
        ("Account", "accounts"),
        ("Contact", "contacts"),
        ("Lead", "leads"),
        ("Case", "cases"),
        ("EmailMessage", "email_messages"),
        ("ContentVersion", "files"),
    ] {
        let ids = ext(object);
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{object}: a record created twice");
        let loaded = count(&conn, &format!("SELECT count(*) FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = '{phase}'"));
        assert_eq!(
            ids.len() as i64,
            loaded,
            "{object}: the org holds what ferry recorded"
        );
        assert!(loaded > 0, "{object}");
    }
    // Companies sharing a domain are one Account (the route's mapping):
    // no website on two Accounts, and every other company merged.
    let sites: Vec<&str> = d["Account"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Website"].as_str())
        .collect();
    let distinct: std::collections::HashSet<&&str> = sites.iter().collect();
    assert_eq!(distinct.len(), sites.len(), "a website on two Accounts");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM stg_companies"),
        count(&conn, "SELECT count(*) FROM out_salesforce_accounts")
            + count(&conn, "SELECT count(*) FROM ferry_accounting WHERE object = 'companies' AND bucket = 'merged'")
    );
    // CaseComments carry no external id: their markers must be unique.
    let markers: Vec<String> = d["CaseComment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["CommentBody"]
                .as_str()
                .unwrap()
                .rsplit("[ferry ")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let unique: std::collections::HashSet<&String> = markers.iter().collect();
    assert_eq!(unique.len(), markers.len(), "a CaseComment created twice");
    check_queues_topics_records_and_links(&conn, &d, &sf);
    let reconciled = count(
        &conn,
        "SELECT count(*) FROM ferry_batches WHERE dest = 'salesforce' AND status = 'reconciled'",
    );
    assert!(
        reconciled >= 3,
        "the three in-doubt batches were reconciled"
    );
    // Files: the bytes Salesforce holds are the bytes Kustomer had.
    let files = strings(
        &conn,
        "SELECT m.dest_id || '=' || a.sha256 FROM ferry_id_map m JOIN stg_attachments a ON a.attachment_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'files'",
    );
    let versions = by_id(&d, "ContentVersion");
    for f in &files {
        let (id, sha) = f.split_once('=').unwrap();
        assert_eq!(versions[id]["sha256"], sha, "file {id}");
    }
    // Inline images: ContentVersions with the CDN's bytes, and no
    // EmailMessage body links the Kustomer CDN any more.
    let images = strings(
        &conn,
        "SELECT m.dest_id || '=' || i.sha256 FROM ferry_id_map m JOIN stg_inline_images i ON i.image_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'files'",
    );
    assert!(!images.is_empty(), "the org has inline images");
    for f in &images {
        let (id, sha) = f.split_once('=').unwrap();
        assert_eq!(versions[id]["sha256"], sha, "inline image {id}");
    }
    assert!(
        !serde_json::to_string(&by_id(&d, "EmailMessage"))
            .unwrap()
            .contains("/cdn/inline/"),
        "an EmailMessage still links the Kustomer CDN"
    );
    // Tags on people too: TopicAssignments on Contacts and Leads, one per
    // tag of each person (the customers merged into it included).
    let people: std::collections::BTreeSet<String> = strings(
        &conn,
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object IN ('contacts', 'leads')",
    )
    .into_iter()
    .collect();
    let on_people = d["TopicAssignment"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["EntityId"].as_str().is_some_and(|e| people.contains(e)))
        .count() as i64;
    assert!(on_people > 0, "no person's tags became topics");
    assert_eq!(
        on_people,
        count(&conn, "SELECT count(*) FROM out_salesforce_topic_assignments WHERE entity_kind IN ('contact', 'lead')")
    );
    // Original times kept (audit fields granted by the simulated org).
    let created = strings(
        &conn,
        "SELECT m.dest_id || '=' || strftime(CAST(c.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S') FROM ferry_id_map m JOIN stg_conversations c ON c.conversation_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'cases' LIMIT 5",
    );
    let cases = by_id(&d, "Case");
    for c in &created {
        let (id, at) = c.split_once('=').unwrap();
        assert!(
            cases[id]["CreatedDate"].as_str().unwrap().starts_with(at),
            "{c}: {}",
            cases[id]
        );
    }
    // EmailMessages keep theirs in CreatedDate too (inserted, not
    // upserted: audit fields are insert-only); CaseComments get today's,
    // their org never had audit fields enabled by Salesforce Support.
    let sent = strings(
        &conn,
        "SELECT m.dest_id || '=' || strftime(CAST(o.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S') FROM ferry_id_map m JOIN out_salesforce_messages o ON o.source_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'email_messages' ORDER BY m.source_id LIMIT 3",
    );
    let emails = by_id(&d, "EmailMessage");
    assert!(!sent.is_empty());
    for c in sent
        .iter()
        .filter(|c| emails.contains_key(c.split_once('=').unwrap().0))
    {
        let (id, at) = c.split_once('=').unwrap();
        assert!(
            emails[id]["CreatedDate"].as_str().unwrap().starts_with(at),
            "EmailMessage {c}: {}",
            emails[id]
        );
    }
    let comment = strings(
        &conn,
        "SELECT m.dest_id || '=' || strftime(CAST(o.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S') FROM ferry_id_map m JOIN out_salesforce_messages o ON o.source_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'case_comments' ORDER BY m.source_id LIMIT 3",
    );
    let comments = by_id(&d, "CaseComment");
    assert!(!comment.is_empty());
    for c in comment
        .iter()
        .filter(|c| comments.contains_key(c.split_once('=').unwrap().0))
    {
        let (id, at) = c.split_once('=').unwrap();
        assert!(
            !comments[id]["CreatedDate"]
                .as_str()
                .unwrap()
                .starts_with(at),
            "CaseComment {c} without Support's audit fields: {}",
            comments[id]
        );
    }
    let case_ids: std::collections::BTreeSet<String> = strings(
        &conn,
        "SELECT dest_id FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = 'cases'",
    )
    .into_iter()
    .collect();
    let n_emails = count(&conn, "SELECT count(*) FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = 'email_messages'");
    drop(conn);
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("0 mismatches"), "{out}");

    // An outside client sees the same Cases and EmailMessages.
    let v = simple_salesforce(&sf.url, "readback");
    let seen: std::collections::BTreeSet<String> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, case_ids);
    assert_eq!(v["emails"].as_array().unwrap().len() as i64, n_emails);
    assert!(
        v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "JobComplete"),
        "{}",
        v["jobs"]
    );

    // Cutover: agents kept working in Kustomer; the delta load carries it,
    // and a conversation deleted there goes to the Recycle Bin here.
    let cfg = dir.join("ferry.toml");
    let toml = std::fs::read_to_string(&cfg).unwrap();
    assert!(toml.contains("deleted_in_source = \"leave\""));
    std::fs::write(
        &cfg,
        toml.replace(
            "deleted_in_source = \"leave\"",
            "deleted_in_source = \"delete\"",
        ),
    )
    .unwrap();
    let mut mutated = std::collections::BTreeMap::new();
    for (kind, n) in [("message", 4), ("conversation", 3), ("delete", 1)] {
        mutated.insert(kind, kustomer.mutate(kind, n));
    }
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    let dry = ok(&dir, &["load", "--dry-run"]);
    assert!(
        dry.contains("delete (DELETE Case: Recycle Bin, 15 days)"),
        "{dry}"
    );
    let out = ok(&dir, &["load"]);
    assert!(out.contains("0 rows failed"), "{out}");
    let d = sf.get("/__sim/dump");
    let gone = &mutated["delete"][0];
    assert!(
        d["Case"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["Kustomer_Id__c"] != gone.as_str()),
        "the deleted conversation's Case is in the Recycle Bin"
    );
    let emails: std::collections::HashSet<&str> = d["EmailMessage"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["Kustomer_Id__c"].as_str())
        .collect();
    let conn = db(&dir);
    let mut checked = 0;
    for m in &mutated["message"] {
        let on_live_case = count(&conn, &format!("SELECT count(*) FROM stg_messages s JOIN ferry_id_map c ON c.dest = 'salesforce' AND c.dest_object = 'cases' AND c.source_id = s.conversation_id WHERE s.message_id = '{m}'"));
        if on_live_case == 1 {
            checked += 1;
            assert!(
                emails.contains(m.as_str())
                    || emails.iter().any(|e| e.starts_with(&format!("{m}:"))),
                "new message {m}"
            );
        }
    }
    assert!(checked >= 2, "new messages on loaded Cases were checked");
    // Every Case's Status is what the source says now.
    let want = strings(&conn, &format!("SELECT m.dest_id || '=' || s.case_status FROM ferry_id_map m JOIN stg_conversations c ON c.conversation_id = m.source_id JOIN status_map s ON s.kustomer_status = c.status WHERE m.dest = 'salesforce' AND m.dest_object = 'cases' AND m.source_id <> '{gone}'"));
    let cases = by_id(&d, "Case");
    assert!(!want.is_empty());
    for w in &want {
        let (id, status) = w.split_once('=').unwrap();
        assert_eq!(cases[id]["Status"], status, "case {id}");
    }
    drop(conn);
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("0 mismatches"), "{out}");
    // What the route must carry, read back from the org: custom
    // attributes as custom fields, Kustomer's externalId, tags, channel,
    // phones, an email's envelope, a KObject's and a Case's reference to
    // another record as a Lookup holding that record's Id.
    let conn = db(&dir);
    for (object, field) in [
        ("customers", "Kustomer_External_Id__c"),
        ("customers", "Kustomer_Tags__c"),
        ("customers", "loyaltyTierStr__c"),
        ("companies", "Phone"),
        ("conversations", "Kustomer_Channel__c"),
        ("kobjects", "orderId__c"),
        ("kobjects", "Kustomer_Description__c"),
        ("messages", "FromAddress"),
        ("messages", "Headers"),
    ] {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM verify_field_values WHERE source_object = '{object}' AND field = '{field}' AND matches AND expected::VARCHAR <> 'null'"),
        );
        assert!(n >= 1, "{object} {field} read back");
    }
    // Left for the route issue: inline images and a Case's Lookup to the
    // record a conversation references.
    assert_eq!(
        count(&conn, "SELECT count(*) FROM verify_fields WHERE not_carried_yet AND NOT (path = 'attributes.custom.orderId' OR path LIKE '%#inline_images')"),
        0
    );
    // A subscription whose order is gone from Kustomer: its link waits,
    // with the reason.
    assert!(
        count(&conn, "SELECT count(*) FROM ferry_load_errors WHERE object = 'custom_record_links' AND error_body LIKE '%not in the export%'") >= 1
    );
    drop(conn);

    // Rollback: everything ferry created goes to the Recycle Bin and is
    // forgotten; the Users it only matched stay.
    let out = ok(&dir, &["rollback", "--yes", "--all"]);
    assert!(out.contains("cases deleted"), "{out}");
    let d = sf.get("/__sim/dump");
    for object in [
        "Account",
        "Contact",
        "Lead",
        "Case",
        "EmailMessage",
        "CaseComment",
        "ContentVersion",
        "ContentDocument",
        "ContentDocumentLink",
        "Group",
        "QueueSobject",
        "GroupMember",
        "Topic",
        "TopicAssignment",
        "ecomm_order__c",
    ] {
        assert_eq!(
            d[object].as_array().unwrap().len(),
            0,
            "{object} left after rollback: {out}"
        );
    }
    assert!(
        d["User"].as_array().unwrap().len() > 2,
        "users are never deleted"
    );
    let conn = db(&dir);
    assert_eq!(count(&conn, "SELECT count(*) FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object <> 'agents'"), 0);
}

/// What the route made of teams, tags, KObjects and email attachments,
/// read from the org's records and compared with the raw Kustomer JSON.
fn check_queues_topics_records_and_links(conn: &duckdb::Connection, d: &Value, sf: &Sim) {
    let all = |o: &str| d[o].as_array().cloned().unwrap_or_default();
    // Every live team is one Queue that takes Cases; its members with a
    // Salesforce User are GroupMembers.
    let teams = count(
        conn,
        "SELECT count(*) FROM raw_kustomer_teams WHERE NOT coalesce(TRY_CAST(json_extract(json, '$.attributes.deleted') AS BOOLEAN), false)",
    );
    let queues: Vec<Value> = all("Group")
        .into_iter()
        .filter(|g| g["Type"] == "Queue")
        .collect();
    assert_eq!(queues.len() as i64, teams, "one Queue per team");
    for q in &queues {
        assert!(
            all("QueueSobject")
                .iter()
                .any(|x| x["QueueId"] == q["Id"] && x["SobjectType"] == "Case"),
            "queue {} takes Cases",
            q["Name"]
        );
    }
    // Each GroupMember is a member of its team in Kustomer (by the
    // user's email), and none is created twice.
    let users = by_id(d, "User");
    let raw_pairs: std::collections::HashSet<String> = strings(
        conn,
        "SELECT q.dest_id || '|' || lower(u.json->>'$.attributes.email') FROM raw_kustomer_teams t, unnest(CAST(json_extract(t.json, '$.attributes.members') AS VARCHAR[])) m(uid) JOIN raw_kustomer_users u ON u.id = m.uid JOIN ferry_id_map q ON q.dest = 'salesforce' AND q.dest_object = 'queues' AND q.source_id = t.id",
    )
    .into_iter()
    .collect();
    let members: Vec<String> = all("GroupMember")
        .iter()
        .map(|m| {
            let email = users[m["UserOrGroupId"].as_str().unwrap()]["Email"]
                .as_str()
                .unwrap();
            format!(
                "{}|{}",
                m["GroupId"].as_str().unwrap(),
                email.to_lowercase()
            )
        })
        .collect();
    assert!(!members.is_empty());
    let unique: std::collections::HashSet<&String> = members.iter().collect();
    assert_eq!(unique.len(), members.len(), "a GroupMember created twice");
    for m in &members {
        assert!(
            raw_pairs.contains(m),
            "GroupMember {m} is a Kustomer team membership"
        );
    }
    assert_eq!(
        members.len() as i64,
        count(conn, "SELECT count(*) FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = 'queue_members'")
    );
    // A Case whose assignee has no User is owned by its team's Queue.
    let queue_owned = all("Case")
        .iter()
        .filter(|c| c["OwnerId"].as_str().is_some_and(|o| o.starts_with("00G")))
        .count();
    let want = count(
        conn,
        "SELECT count(*) FROM out_salesforce_cases c LEFT JOIN ferry_id_map u ON u.dest = 'salesforce' AND u.dest_object = 'agents' AND u.source_id = c.owner_source_id WHERE u.dest_id IS NULL AND c.owner_queue_source_id IS NOT NULL",
    );
    assert!(want > 0, "the dataset has Cases for a Queue");
    assert_eq!(queue_owned as i64, want);
    // Tags: one Topic per distinct name (case aside), assigned to the
    // Cases whose conversation carries the tag.
    let names = count(
        conn,
        "SELECT count(DISTINCT lower(trim(json->>'$.attributes.name'))) FROM raw_kustomer_tags WHERE NOT coalesce(TRY_CAST(json_extract(json, '$.attributes.deleted') AS BOOLEAN), false)",
    );
    assert_eq!(all("Topic").len() as i64, names);
    let topics = by_id(d, "Topic");
    let cases = by_id(d, "Case");
    let got: std::collections::BTreeSet<String> = all("TopicAssignment")
        .iter()
        // (the rest are on Contacts and Leads: people's tags)
        .filter(|a| {
            a["EntityId"]
                .as_str()
                .is_some_and(|e| cases.contains_key(e))
        })
        .map(|a| {
            let case = cases[a["EntityId"].as_str().unwrap()]["Kustomer_Id__c"]
                .as_str()
                .unwrap()
                .to_string();
            let topic = topics[a["TopicId"].as_str().unwrap()]["Name"]
                .as_str()
                .unwrap()
                .to_lowercase();
            format!("{case}|{topic}")
        })
        .collect();
    let want: std::collections::BTreeSet<String> = strings(
        conn,
        "SELECT DISTINCT c.id || '|' || lower(trim(t.json->>'$.attributes.name')) FROM raw_kustomer_conversations c, unnest(CAST(json_extract(c.json, '$.attributes.tags') AS VARCHAR[])) g(tid) JOIN raw_kustomer_tags t ON t.id = g.tid JOIN ferry_id_map m ON m.dest = 'salesforce' AND m.dest_object = 'cases' AND m.source_id = c.id WHERE NOT coalesce(TRY_CAST(json_extract(t.json, '$.attributes.deleted') AS BOOLEAN), false)",
    )
    .into_iter()
    .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "each Case's Topics are its conversation's tags");
    // KObjects: one record each in its klass's object, the customer's
    // Contact or Lead looked up, the values under their fields.
    let orders = all("ecomm_order__c");
    let want = count(
        conn,
        "SELECT count(*) FROM raw_kustomer_kobjects k JOIN raw_kustomer_klasses c ON c.id = k.json->>'$.relationships.klass.data.id' WHERE c.json->>'$.attributes.name' = 'ecomm-order'",
    );
    assert!(want > 0);
    assert_eq!(orders.len() as i64, want);
    for o in &orders {
        let src = o["Kustomer_Id__c"].as_str().unwrap();
        let raw = strings(
            conn,
            &format!("SELECT json FROM raw_kustomer_kobjects WHERE id = '{src}'"),
        );
        let raw: Value = serde_json::from_str(&raw[0]).unwrap();
        assert_eq!(
            o["totalNum__c"].as_f64(),
            raw["attributes"]["custom"]["totalNum"].as_f64(),
            "{src}"
        );
        assert_eq!(
            o["orderNumberStr__c"], raw["attributes"]["custom"]["orderNumberStr"],
            "{src}"
        );
        let linked = o["Contact__c"].is_string() || o["Lead__c"].is_string();
        assert_eq!(
            linked,
            raw["relationships"]["customer"]["data"]["id"].is_string(),
            "{src}: {o}"
        );
    }
    // Files of email messages are linked to their EmailMessage as well as
    // published to the Case; some went up as multipart.
    let emails = by_id(d, "EmailMessage");
    let email_links = all("ContentDocumentLink")
        .iter()
        .filter(|l| emails.contains_key(l["LinkedEntityId"].as_str().unwrap_or("")))
        .count();
    assert_eq!(
        email_links as i64,
        count(conn, "SELECT count(*) FROM out_salesforce_file_links")
    );
    let stats = sf.get("/__sim/stats");
    let multipart = stats["by_kind"]["multipart"].as_u64().unwrap_or(0) as i64;
    let large = count(conn, "SELECT count(*) FROM ferry_id_map m JOIN stg_attachments a ON a.attachment_id = m.source_id WHERE m.dest = 'salesforce' AND m.dest_object = 'files' AND a.size_bytes > 3000");
    assert!(large > 0);
    assert!(
        multipart >= large,
        "files above json_upload_max_bytes went up as multipart: {multipart} < {large}"
    );
}

/// A locked row (400 `UNABLE_TO_LOCK_ROW`) and a 503 are retried until the
/// write goes through; a spent daily allocation (403
/// `REQUEST_LIMIT_EXCEEDED`) stops with what to do, not a credentials error.
#[test]
fn locked_rows_are_retried_and_a_spent_allocation_stops_with_advice() {
    use ferry::connectors::salesforce::collections;
    let sf = Sim::salesforce(&[
        "--fault-rate",
        "0.4",
        "--seed",
        "3",
        "--daily-requests",
        "60",
    ]);
    let (data, client) = transport(&sf);
    let err = rt().block_on(async {
        for i in 0..100 {
            let rec = vec![serde_json::json!({"Kustomer_Id__c": format!("co-{i}"), "Name": format!("Company {i}")})];
            match collections::upsert(&client, &data, "Account", "Kustomer_Id__c", &rec, None).await {
                Ok(o) => assert!(o[0].is_ok(), "{o:?}"),
                Err(e) => return (i, e.to_string()),
            }
        }
        (100, String::new())
    });
    let (done, msg) = err;
    assert!(
        msg.contains("REQUEST_LIMIT_EXCEEDED") && msg.contains("daily API allocation"),
        "{msg}"
    );
    assert!(!msg.contains("credentials"), "{msg}");
    let d = sf.get("/__sim/dump");
    assert_eq!(
        d["Account"].as_array().unwrap().len(),
        done,
        "every write before the stop landed once"
    );
    let stats = sf.stats();
    assert!(stats["refused"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        done >= 10,
        "the faults were retried: {done} writes went through"
    );
}

/// `ferry probe` on the route reads the org's allocation and Bulk batches
/// and checks the objects ferry relies on; an org without the external-id
/// fields fails it (exit 3), naming EmailMessage.
#[test]
fn probe_reads_the_allocation_and_fails_an_org_without_the_external_id() {
    let kustomer = Sim::start(&["--customers", "4"]);
    for (flags, want_ok) in [(&[][..], true), (&["--no-custom-fields"][..], false)] {
        let sf = Sim::salesforce(flags);
        let (_t, dir) = workspace_route("kustomer-salesforce", &kustomer.url, &sf.url, &[]);
        let out = ferry(&dir, &["probe"]);
        let t = text(&out);
        assert!(t.contains("daily allocation"), "{t}");
        assert!(t.contains("of 15000 Bulk API batches left"), "{t}");
        assert!(t.contains("CaseComment takes no custom field"), "{t}");
        if want_ok {
            assert!(t.contains("EmailMessage is available"), "{t}");
        } else {
            assert_eq!(out.status.code(), Some(3), "{t}");
            assert!(
                t.contains("EmailMessage has no Kustomer_Id__c field"),
                "{t}"
            );
        }
    }
}

/// Records refused `UNABLE_TO_LOCK_ROW` inside a 200 Collections answer
/// are resent on their own until they land, each exactly once.
#[test]
fn records_locked_inside_a_collections_answer_are_resent_once_each() {
    use ferry::connectors::salesforce::collections;
    let sf = Sim::salesforce(&["--record-lock-rate", "0.3", "--seed", "4"]);
    let (data, client) = transport(&sf);
    let recs: Vec<Value> = (0..150)
        .map(|i| serde_json::json!({"Kustomer_Id__c": format!("lk-{i}"), "Name": format!("Locked {i}")}))
        .collect();
    let out = rt()
        .block_on(collections::upsert(
            &client,
            &data,
            "Account",
            "Kustomer_Id__c",
            &recs,
            None,
        ))
        .unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    let stats = sf.stats();
    assert!(stats["record_locks"].as_u64().unwrap() >= 20, "{stats}");
    let d = sf.get("/__sim/dump");
    let names: std::collections::BTreeSet<&str> = d["Account"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Kustomer_Id__c"].as_str())
        .collect();
    assert_eq!(d["Account"].as_array().unwrap().len(), 150);
    assert_eq!(names.len(), 150, "each record landed once");
}

/// Bad input and order: an org with one Bulk batch left stops before the
/// first Bulk job with what to do; a Contact Salesforce refuses (a data
/// engineer's edit left it without LastName) fails with the org's error
/// and holds its Cases with the reason; `--order open-first` sends open
/// conversations first; after the fix, `--retry` loads the rest and
/// verify passes.
#[test]
fn a_refused_contact_holds_its_cases_and_open_first_sends_open_cases_first() {
    let kustomer = Sim::start(&["--customers", "10", "--seed", "11"]);
    let mirror = [
        "--mirror-kustomer-seed",
        "11",
        "--mirror-kustomer-customers",
        "10",
    ];

    let tight = Sim::salesforce(&[&mirror[..], &["--daily-batches", "1"]].concat());
    let (_t1, d1) = workspace_route("kustomer-salesforce", &kustomer.url, &tight.url, &[]);
    ok(&d1, &["extract", "--no-progress"]);
    ok(&d1, &["transform"]);
    // The admin's step: the custom fields the field list names.
    rt().block_on(ferry::sim::salesforce::admin::create_custom_objects(
        &tight.url, &d1,
    ))
    .unwrap();
    let out = ferry(&d1, &["load"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("daily Bulk API batches left"),
        "{}",
        text(&out)
    );
    assert_eq!(tight.stats()["bulk_jobs"], 0, "no Bulk job was started");

    let sf = Sim::salesforce(&[&mirror[..], &["--bulk-delay-ms", "50"]].concat());
    let (_t, dir) = workspace_route("kustomer-salesforce", &kustomer.url, &sf.url, &[]);
    ok(&dir, &["extract", "--no-progress"]);
    ok(&dir, &["transform"]);
    // The admin created the standard objects' custom fields, not yet the
    // klasses' objects.
    rt().block_on(ferry::sim::salesforce::admin::create_standard_object_fields(&sf.url, &dir))
        .unwrap();
    let conn = db(&dir);
    let bad = strings(
        &conn,
        "SELECT c.source_id FROM out_salesforce_contacts c WHERE EXISTS (SELECT 1 FROM out_salesforce_cases k WHERE k.contact_source_id = c.source_id) ORDER BY 1 LIMIT 1",
    )
    .remove(0);
    conn.execute(
        "UPDATE out_salesforce_contacts SET last_name = NULL WHERE source_id = ?",
        [&bad],
    )
    .unwrap();
    let held_cases = count(
        &conn,
        &format!("SELECT count(*) FROM out_salesforce_cases WHERE contact_source_id = '{bad}'"),
    );
    assert!(held_cases > 0);
    drop(conn);

    let out = ferry(&dir, &["load", "--order", "open-first"]);
    assert!(!out.status.success(), "one Contact failed: {}", text(&out));
    assert!(text(&out).contains("1 rows failed"), "{}", text(&out));
    let conn = db(&dir);
    let err = strings(
        &conn,
        &format!("SELECT http_status || ' ' || error_body FROM ferry_load_errors WHERE object = 'contacts' AND source_id = '{bad}'"),
    );
    assert!(
        err.first().is_some_and(|e| e.starts_with("400 ")
            && e.contains("REQUIRED_FIELD_MISSING")
            && e.contains("LastName")),
        "{err:?}"
    );
    let holds = strings(
        &conn,
        &format!("SELECT e.error_body FROM ferry_load_errors e JOIN out_salesforce_cases c ON c.source_id = e.source_id WHERE e.object = 'cases' AND c.contact_source_id = '{bad}'"),
    );
    assert_eq!(holds.len() as i64, held_cases, "{holds:?}");
    assert!(
        holds
            .iter()
            .all(|h| h.ends_with(&format!("contact {bad} is not loaded"))),
        "{holds:?}"
    );
    // Open conversations were sent first: the org numbered their Cases first.
    let d = sf.get("/__sim/dump");
    let status: std::collections::HashMap<String, String> = strings(
        &conn,
        "SELECT id || '=' || (json->>'$.attributes.status') FROM raw_kustomer_conversations",
    )
    .into_iter()
    .filter_map(|s| {
        s.split_once('=')
            .map(|(a, b)| (a.to_string(), b.to_string()))
    })
    .collect();
    let mut cases: Vec<&Value> = d["Case"].as_array().unwrap().iter().collect();
    cases.sort_by_key(|c| c["CaseNumber"].as_str().unwrap().parse::<u64>().unwrap());
    let done: Vec<bool> = cases
        .iter()
        .map(|c| status[c["Kustomer_Id__c"].as_str().unwrap()] == "done")
        .collect();
    assert!(done.contains(&true) && done.contains(&false), "{done:?}");
    let first_done = done.iter().position(|d| *d).unwrap();
    assert!(
        done[first_done..].iter().all(|d| *d),
        "every open Case precedes every done one: {done:?}"
    );
    drop(conn);
    let out = ferry(&dir, &["verify"]);
    assert!(!out.status.success(), "verify fails while records are held");
    let conn = db(&dir);
    let state = strings(
        &conn,
        &format!("SELECT state || ': ' || reason FROM verify_records WHERE object = 'customers' AND source_id = '{bad}'"),
    );
    assert!(
        state.first().is_some_and(
            |s| s.starts_with("failed: HTTP 400") && s.contains("REQUIRED_FIELD_MISSING")
        ),
        "verify names the refused Contact and why: {state:?}"
    );
    let held = count(
        &conn,
        &format!("SELECT count(*) FROM verify_records v JOIN out_salesforce_cases c ON c.source_id = v.source_id WHERE v.object = 'conversations' AND v.state = 'held' AND c.contact_source_id = '{bad}'"),
    );
    assert_eq!(held, held_cases, "verify lists its Cases as held");
    // The admin has not created the klasses' custom objects yet: their
    // records are held with the reason, none refused.
    let waiting = strings(
        &conn,
        "SELECT DISTINCT CAST(http_status IS NULL AND error_body LIKE '%custom object%does not exist in the org%' AS VARCHAR) FROM ferry_load_errors WHERE object = 'custom_records'",
    );
    assert_eq!(
        waiting,
        ["true"],
        "custom records held for the missing objects"
    );
    let records = count(&conn, "SELECT count(*) FROM out_salesforce_custom_records");
    assert!(records > 0);
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT source_id) FROM ferry_load_errors WHERE object = 'custom_records'"),
        records
    );
    drop(conn);

    // The fix: the admin creates the objects, the transform is rebuilt
    // (the edit is gone), retry.
    rt().block_on(ferry::sim::salesforce::admin::create_custom_objects(
        &sf.url, &dir,
    ))
    .unwrap();
    ok(&dir, &["transform", "--rebuild"]);
    let out = ok(&dir, &["load", "--retry"]);
    assert!(out.contains("0 rows failed"), "{out}");
    let out = ok(&dir, &["verify"]);
    assert!(out.contains("0 mismatches"), "{out}");
    let conn = db(&dir);
    assert_eq!(
        count(&conn, &format!("SELECT count(*) FROM ferry_id_map m JOIN out_salesforce_cases c ON c.source_id = m.source_id WHERE m.dest_object = 'cases' AND c.contact_source_id = '{bad}'")),
        held_cases
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM ferry_id_map WHERE dest = 'salesforce' AND dest_object = 'custom_records'"),
        records,
        "the held custom records loaded once the objects existed"
    );
}
