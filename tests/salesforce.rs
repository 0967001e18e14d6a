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
