//! `ferry probe` for Kustomer as a destination: read-only checks of what
//! the route relies on and the spec does not settle.

use crate::connector::{ProbeCheck, ProbeOutcome};
use crate::error::FerryError;
use crate::http::ApiClient;

pub async fn checks(client: &ApiClient, wanted_kb: &str) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    out.push(
        first_page(
            client,
            "agents",
            "/v1/users",
            |n| (n > 0, format!("{n} users on the first page of GET /v1/users: agents are matched to them by email (invite the rest before loading, or create them: unmatched_agents)")),
            |e| match e {
                FerryError::Http { status, .. } => (ProbeOutcome::Fail, format!("GET /v1/users answered {status}: the key needs the user read role to match agents")),
                e => (ProbeOutcome::Fail, e.to_string()),
            },
        )
        .await,
    );
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
    out.push(
        first_page(
            client,
            "teams",
            "/v1/teams",
            |n| (true, format!("{n} teams on the first page of GET /v1/teams: Intercom teams of the same name are reused")),
            |e| (ProbeOutcome::Warn, format!("{e}: the key needs the team read role, else every team is held")),
        )
        .await,
    );
    out.push(ProbeCheck::new(
        "team creation",
        ProbeOutcome::Unknown,
        "with teams = \"create\", ferry sends POST /v1/teams {name, displayName, members} (the Team record's attributes in Kustomer's notes); the published Core Resources spec has no teams, and no read-only request settles the body: check one created team's members in Kustomer, or set teams = \"hold\" and create them by hand",
    ));
    out.push(knowledge_base(client, wanted_kb).await);
    // Saved searches: the reference documents the reads (GET
    // /v1/customers/searches, positions, pins) and folder updates, not a
    // create (kustomer-docs-2026.md §4b), so Intercom segments stay in the
    // archive.
    out.push(ProbeCheck::new(
        "saved searches",
        ProbeOutcome::Unknown,
        match client.probe("/v1/customers/searches?page=1&pageSize=1").await {
            Ok(_) => "GET /v1/customers/searches answers, but Kustomer documents no call that creates a saved search: Intercom segments are in `ferry archive --set archive` (segments, segment_members) to rebuild by hand".to_string(),
            Err(e) => format!("GET /v1/customers/searches: {e}; and Kustomer documents no call that creates a saved search: Intercom segments are in `ferry archive --set archive` to rebuild by hand"),
        },
    ));
    out.push(kb_roles(client).await);
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

/// A read-only check on the first page of a list: `ok(n)` says whether
/// `n` records are fine (else a warning) and what that means; `err` what a
/// refusal means.
async fn first_page(
    client: &ApiClient,
    name: &str,
    path: &str,
    ok: impl Fn(usize) -> (bool, String),
    err: impl Fn(FerryError) -> (ProbeOutcome, String),
) -> ProbeCheck {
    match client.probe(&format!("{path}?page=1&pageSize=100")).await {
        Ok(r) => {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            let (fine, text) = ok(v["data"].as_array().map_or(0, |a| a.len()));
            let outcome = if fine {
                ProbeOutcome::Ok
            } else {
                ProbeOutcome::Warn
            };
            ProbeCheck::new(name, outcome, text)
        }
        Err(e) => {
            let (outcome, text) = err(e);
            ProbeCheck::new(name, outcome, text)
        }
    }
}

/// The knowledge bases of the org (`GET /v1/kb/knowledge-bases`), and the
/// one the Help Center goes into (destination.knowledge_base, else the
/// default one).
async fn knowledge_base(client: &ApiClient, wanted: &str) -> ProbeCheck {
    let name = "knowledge base";
    let all = match client.probe("/v1/kb/knowledge-bases?page=1&pageSize=100").await {
        Ok(r) => serde_json::from_slice::<serde_json::Value>(&r.body).unwrap_or_default(),
        Err(e) => {
            return ProbeCheck::new(
                name,
                ProbeOutcome::Fail,
                format!("GET /v1/kb/knowledge-bases: {e} — the key needs org.permission.kb.read to load the Help Center"),
            )
        }
    };
    let list = all["data"].as_array().cloned().unwrap_or_default();
    let describe = |b: &serde_json::Value| {
        format!(
            "{} \"{}\"{} (languages: {})",
            b["id"].as_str().unwrap_or("?"),
            b["attributes"]["name"].as_str().unwrap_or(""),
            if b["attributes"]["default"] == true {
                ", default"
            } else {
                ""
            },
            b["attributes"]["languages"]
                .as_array()
                .map(|l| l
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_else(|| "not listed".into())
        )
    };
    let target = list.iter().find(|b| {
        if wanted.is_empty() {
            b["attributes"]["default"] == true
        } else {
            b["id"] == wanted
        }
    });
    let all_text = list.iter().map(describe).collect::<Vec<_>>().join("; ");
    match target {
        Some(b) => ProbeCheck::new(
            name,
            ProbeOutcome::Ok,
            format!("the Help Center goes into {}; a translation in a language it does not serve is refused (turn the language on in Settings → Knowledge Base → Configuration). Knowledge bases: {all_text}", describe(b)),
        ),
        None => ProbeCheck::new(
            name,
            ProbeOutcome::Fail,
            format!("{} — set destination.knowledge_base to one of: {all_text}", if wanted.is_empty() { "no default knowledge base".to_string() } else { format!("no knowledge base {wanted}") }),
        ),
    }
}

/// Whether the key holds the knowledge-base write roles the guide names
/// (org.permission.kb.create and .update, or org.admin.kb.write), read
/// from the key's user (`GET /v1/users/current`, its `roles`).
async fn kb_roles(client: &ApiClient) -> ProbeCheck {
    let name = "knowledge base roles";
    let v = match client.probe("/v1/users/current").await {
        Ok(r) => serde_json::from_slice::<serde_json::Value>(&r.body).unwrap_or_default(),
        Err(e) => {
            return ProbeCheck::new(
                name,
                ProbeOutcome::Unknown,
                format!("GET /v1/users/current: {e}"),
            )
        }
    };
    let Some(roles) = v["data"]["attributes"]["roles"].as_array() else {
        return ProbeCheck::new(name, ProbeOutcome::Unknown, "the key's user lists no roles: check it holds org.permission.kb.read, .create and .update");
    };
    let has = |r: &str| roles.iter().any(|x| x == r);
    let write = (has("org.permission.kb.create") && has("org.permission.kb.update"))
        || has("org.admin.kb.write")
        || has("org.admin.content.kb.write");
    if write {
        ProbeCheck::new(
            name,
            ProbeOutcome::Ok,
            "the key may create and update knowledge-base categories, articles and versions",
        )
    } else {
        ProbeCheck::new(name, ProbeOutcome::Fail, "the key lacks org.permission.kb.create and org.permission.kb.update (or org.admin.kb.write): the Help Center cannot be loaded; add the roles to the key, or leave the kb_ phases out (`ferry load --only …`)")
    }
}
