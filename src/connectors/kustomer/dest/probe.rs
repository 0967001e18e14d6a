//! `ferry probe` for Kustomer as a destination: read-only checks of what
//! the route relies on and the spec does not settle.

use crate::connector::{ProbeCheck, ProbeOutcome};
use crate::error::FerryError;
use crate::http::ApiClient;

pub async fn checks(client: &ApiClient) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    out.push(match client.probe("/v1/users?page=1&pageSize=100").await {
        Ok(r) => {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            let n = v["data"].as_array().map_or(0, |a| a.len());
            ProbeCheck::new(
                "agents",
                if n > 0 { ProbeOutcome::Ok } else { ProbeOutcome::Warn },
                format!("{n} users on the first page of GET /v1/users: agents are matched to them by email (invite the rest before loading)"),
            )
        }
        Err(FerryError::Http { status, .. }) => ProbeCheck::new(
            "agents",
            ProbeOutcome::Fail,
            format!("GET /v1/users answered {status}: the key needs the user read role to match agents"),
        ),
        Err(e) => ProbeCheck::new("agents", ProbeOutcome::Fail, e.to_string()),
    });
    out.push(match client.probe("/v1/metadata/customer").await {
        Ok(_) => ProbeCheck::new(
            "custom attribute metadata",
            ProbeOutcome::Ok,
            "GET /v1/metadata/customer answers: attributes can be declared with PUT",
        ),
        Err(e) => ProbeCheck::new(
            "custom attribute metadata",
            ProbeOutcome::Fail,
            format!("{e}: the key needs the metadata roles"),
        ),
    });
    out.push(match client.probe("/v1/klasses?page=1&pageSize=1").await {
        Ok(_) => ProbeCheck::new(
            "klasses",
            ProbeOutcome::Ok,
            "GET /v1/klasses answers: ticket types can become klasses",
        ),
        Err(e) => ProbeCheck::new(
            "klasses",
            ProbeOutcome::Warn,
            format!("{e}: tickets would be held (the org may lack custom objects)"),
        ),
    });
    out.push(ProbeCheck::new(
        "user creation",
        ProbeOutcome::Unknown,
        "with unmatched_agents = \"create\", ferry sends POST /v1/users {name, displayName, email} (listed in Kustomer's notes; the published Core Resources spec has no users, and no read-only request settles the body or the roles a new user gets): Kustomer emails each an invitation and each takes a seat — check one in a sandbox, or invite agents by hand and keep \"machine\" or \"hold\"",
    ));
    out.push(match client.probe("/v1/teams?page=1&pageSize=100").await {
        Ok(r) => {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            let n = v["data"].as_array().map_or(0, |a| a.len());
            ProbeCheck::new(
                "teams",
                ProbeOutcome::Ok,
                format!("{n} teams on the first page of GET /v1/teams: Intercom teams of the same name are reused"),
            )
        }
        Err(e) => ProbeCheck::new(
            "teams",
            ProbeOutcome::Warn,
            format!("{e}: the key needs the team read role, else every team is held"),
        ),
    });
    out.push(ProbeCheck::new(
        "team creation",
        ProbeOutcome::Unknown,
        "with teams = \"create\", ferry sends POST /v1/teams {name, displayName, members} (the Team record's attributes in Kustomer's notes); the published Core Resources spec has no teams, and no read-only request settles the body: check one created team's members in Kustomer, or set teams = \"hold\" and create them by hand",
    ));
    out.push(ProbeCheck::new(
        "bulk operation polling",
        ProbeOutcome::Unknown,
        "ferry polls GET /v1/bulk/{id} and reads GET /v1/bulk/{id}/batches as Kustomer's guide \"Bulk operations\" describes; neither path is in the published spec, and no read-only request can start a bulk operation: load one small batch into a sandbox first (`ferry load --sample 5`)",
    ));
    out.push(ProbeCheck::new(
        "message bodies",
        ProbeOutcome::Unknown,
        "the create schema has no body field: ferry sends the text as `preview` (10,240 characters at most) and the HTML as `meta.html`; check in a sandbox that agents see the HTML of an imported message",
    ));
    out.push(ProbeCheck::new(
        "conversation tags",
        ProbeOutcome::Unknown,
        "ferry sends tag names in a conversation's `tags` (the spec's pattern admits spaces, which ids never have); check in a sandbox that they show as tags, not as unknown ids",
    ));
    out
}
