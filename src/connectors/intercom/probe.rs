//! `ferry probe`, Intercom side: what the extractor relies on that
//! `intercom-api.md` marks [likely] or the spec leaves open, checked with
//! reads only.

use reqwest::Method;
use serde_json::{json, Value};

use super::Settings;
use crate::connector::{ProbeCheck, ProbeOutcome as O};
use crate::http::{ApiClient, Lane};

pub async fn checks(client: &ApiClient, s: &Settings) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    let me = match client.probe("/me").await {
        Ok(r) => r,
        Err(e) => {
            out.push(ProbeCheck::new("auth", O::Fail, e.to_string()));
            return out;
        }
    };
    let v: Value = serde_json::from_slice(&me.body).unwrap_or_default();
    out.push(ProbeCheck::new(
        "auth",
        O::Ok,
        format!(
            "the token reads /me: workspace {} ({}), region {}",
            v["app"]["name"].as_str().unwrap_or("?"),
            v["app"]["id_code"].as_str().unwrap_or("?"),
            v["app"]["region"].as_str().unwrap_or("?")
        ),
    ));
    // Intercom enforces its per-minute limit in 10-second windows and
    // announces them [confirmed in the notes]; the limiter follows them.
    let h = &me.headers;
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    out.push(match (get("x-ratelimit-limit"), get("x-ratelimit-reset")) {
        (Some(l), Some(_)) => {
            let per_min = l.parse::<u64>().map(|n| n * 6).unwrap_or(0);
            // The window is the minute's budget over six, rounded down.
            let o = if per_min > 0 && per_min + 6 <= u64::from(s.rate_limit_per_minute) { O::Warn } else { O::Ok };
            ProbeCheck::new("rate windows", o, format!("{l} requests per 10-second window (≈{per_min}/min; source.rate_limit_per_minute = {})", s.rate_limit_per_minute))
        }
        _ => ProbeCheck::new("rate windows", O::Warn, "no X-RateLimit-Limit/Reset headers: ferry paces by rate_limit_per_minute alone"),
    });
    // Search paginates with a cursor in the body [likely in the notes]:
    // one page of one record must come back with `pages`.
    let body = json!({
        "query": {"field": "updated_at", "operator": ">", "value": 0},
        "pagination": {"per_page": 1},
    });
    match client
        .fetch_parsed(
            Method::POST,
            "/conversations/search",
            Some(&body),
            Lane::Standard,
            |b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string()),
        )
        .await
    {
        Ok(v) if v["conversations"].is_array() => {
            let total = v["total_count"].as_u64().unwrap_or(0);
            let cursor = v["pages"]["next"]["starting_after"].is_string();
            out.push(if total <= 1 || cursor {
                ProbeCheck::new("search pagination", O::Ok, format!("conversation search pages by a body cursor ({total} conversations)"))
            } else {
                let mut c = ProbeCheck::new("search pagination", O::Fail, "conversation search returned no pages.next.starting_after for a second page: ferry would read only the first page");
                c.loses_data = true;
                c
            });
        }
        Ok(v) => out.push(ProbeCheck::new(
            "search pagination",
            O::Fail,
            format!(
                "conversation search answered without `conversations`: {}",
                v.to_string().chars().take(200).collect::<String>()
            ),
        )),
        Err(e) => out.push(ProbeCheck::new("search pagination", O::Fail, e.to_string())),
    }
    out
}
