//! `ferry probe`, Salesforce side: what the loader relies on and the
//! reference notes mark [likely] or [unverified], checked with GETs only.

use serde_json::Value;

use super::{limits, Settings};
use crate::connector::{ProbeCheck, ProbeOutcome as O};
use crate::http::ApiClient;

pub async fn checks(client: &ApiClient, s: &Settings) -> Vec<ProbeCheck> {
    let data = s.data_path();
    let mut out = Vec::new();
    let r = match client.probe(&format!("{data}/limits")).await {
        Ok(r) => r,
        Err(e) => {
            out.push(ProbeCheck::new("auth", O::Fail, e.to_string()));
            return out;
        }
    };
    out.push(ProbeCheck::new(
        "auth",
        O::Ok,
        "the connected app's token reads /limits",
    ));
    let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    let (max, left) = (
        v["DailyApiRequests"]["Max"].as_u64().unwrap_or(0),
        v["DailyApiRequests"]["Remaining"].as_u64().unwrap_or(0),
    );
    out.push(match limits::api_usage(&r.headers) {
        Some((used, m)) => ProbeCheck::new("daily allocation", O::Ok, format!("{used} of {m} requests used (Sforce-Limit-Info); /limits says {left} of {max} left; ferry stops when {}% remain", s.reserve_percent)),
        None => ProbeCheck::new("daily allocation", O::Warn, format!("no Sforce-Limit-Info header: ferry cannot watch the allocation as it goes ({left} of {max} left per /limits)")),
    });
    let batches = &v["DailyBulkApiBatches"];
    out.push(ProbeCheck::new(
        "bulk batches",
        if batches["Remaining"].as_u64().unwrap_or(0) < 100 {
            O::Warn
        } else {
            O::Ok
        },
        format!(
            "{} of {} Bulk API batches left today (10,000 records a batch)",
            batches["Remaining"], batches["Max"]
        ),
    ));
    for object in ["CaseComment", "EmailMessage"] {
        match client
            .get_json(&format!("{data}/sobjects/{object}/describe"))
            .await
        {
            Ok(d) => {
                let has_ext = d["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|f| f["name"] == s.external_id_field.as_str());
                out.push(match (object, has_ext) {
                    ("CaseComment", false) => ProbeCheck::new("CaseComment custom fields", O::Ok, "CaseComment takes no custom field (as assumed): ferry finds an in-doubt comment by the [ferry <id>] line in its body"),
                    ("CaseComment", true) => ProbeCheck::new("CaseComment custom fields", O::Ok, "this org has the external id on CaseComment too; ferry still uses the body marker"),
                    (_, true) => ProbeCheck::new("EmailMessage", O::Ok, "EmailMessage is available (Email-to-Case or Enhanced Email) and has the external id"),
                    (_, false) => ProbeCheck::new("EmailMessage", O::Fail, format!("EmailMessage has no {} field: create it, or messages cannot be upserted", s.external_id_field)).losing_data(),
                });
            }
            Err(e) => out.push(
                ProbeCheck::new(
                    object,
                    O::Fail,
                    format!("describe failed: {e} (is Email-to-Case enabled?)"),
                )
                .losing_data(),
            ),
        }
    }
    out.push(ProbeCheck::new(
        "EmailMessage after insert",
        O::Unknown,
        "the object reference says a non-draft EmailMessage cannot be changed after insert: ferry decides every field before sending and never updates one",
    ));
    out
}
