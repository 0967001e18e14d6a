//! `ferry probe`, Enchant side: what the loader assumes and no document
//! settles ([unverified] in `enchant-api.md`), checked with GETs only.

use crate::connector::{ProbeCheck, ProbeOutcome as O};
use crate::http::ApiClient;

pub async fn checks(client: &ApiClient, configured: u32) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    match client.probe("/users?per_page=1&count=true").await {
        Ok(r) => {
            let h = |n: &str| {
                r.headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            out.push(ProbeCheck::new(
                "auth",
                O::Ok,
                format!(
                    "the token lists users ({} in all)",
                    h("total-count").unwrap_or("?".into())
                ),
            ));
            // The credit budget: 100/min is reported, not documented.
            out.push(match h("rate-limit-limit").and_then(|v| v.parse::<u32>().ok()) {
                None => ProbeCheck::new("credit budget", O::Unknown, "no Rate-Limit-Limit header: keep credits_per_minute at what Enchant support tells you"),
                Some(n) if n < configured => ProbeCheck::new("credit budget", O::Warn, format!("the account allows {n} credits per period, ferry.toml says {configured}: ferry adapts; set credits_per_minute = {n} so --dry-run's ETA is right")),
                Some(n) => ProbeCheck::new("credit budget", O::Ok, format!("{n} credits per period (Rate-Limit-Limit), reset in {}s", h("rate-limit-reset").unwrap_or("?".into()))),
            });
            out.push(match h("rate-limit-used") {
                Some(u) => ProbeCheck::new("credit cost", O::Ok, format!("a one-item list cost {u} credit(s) (Rate-Limit-Used); ferry charges every request what this header says")),
                None => ProbeCheck::new("credit cost", O::Unknown, "no Rate-Limit-Used header: ferry counts one credit a request"),
            });
        }
        Err(e) => {
            out.push(ProbeCheck::new("auth", O::Fail, e.to_string()));
            return out;
        }
    }
    out.push(ProbeCheck::new(
        "outbound replies",
        O::Unknown,
        "the spec has no way to add an agent reply without emailing the customer: ferry imports agent messages as notes unless agent_messages = \"reply\" with a sandbox inbox",
    ));
    out.push(ProbeCheck::new(
        "attachment size limit",
        O::Unknown,
        "Enchant documents no limit: files over max_attachment_mb are held; try one large file on a test ticket to learn the real one",
    ));
    out.push(ProbeCheck::new(
        "labels and inboxes",
        O::Unknown,
        "the API cannot list or create labels or inboxes: create them in Enchant's UI and put their ids in seeds/label_map.csv and seeds/inbox_map.csv (`ferry transform` lists unmapped tags)",
    ));
    out
}
