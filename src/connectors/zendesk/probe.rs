//! `ferry probe`, Zendesk side: what the loader assumes about the account,
//! checked with GETs only. Each check names the documentation it stands
//! on; what no document settles is reported as `unknown` with what to
//! check by hand.

use serde_json::Value;

use crate::connector::{ProbeCheck, ProbeOutcome as O};
use crate::error::FerryError;
use crate::http::ApiClient;

/// Runs every check; a request that fails becomes a failed check, never
/// an early stop.
pub async fn checks(client: &ApiClient, config: &super::Settings) -> Vec<ProbeCheck> {
    let configured_per_minute = config.rate_limit_per_minute;
    let mut out = Vec::new();
    // Ticket import is "Allowed for Admins" (Ticket Import API).
    match client.get_json("/api/v2/users/me").await {
        Ok(v) => {
            let role = v["user"]["role"].as_str().unwrap_or("?");
            let who = v["user"]["email"].as_str().unwrap_or("?");
            out.push(if role == "admin" {
                ProbeCheck::new("auth and role", O::Ok, format!("{who} is an admin"))
            } else {
                ProbeCheck::new(
                    "auth and role",
                    O::Fail,
                    format!("{who} is `{role}`: ticket import is allowed for admins only; use an admin's API token"),
                )
            });
        }
        Err(e) => {
            out.push(ProbeCheck::new("auth and role", O::Fail, e.to_string()));
            return out;
        }
    }
    // The plan's limit comes back in X-Rate-Limit on every answer ("Rate
    // limits": the per-minute limit depends on the plan).
    let seen = client.limiter.per_minute();
    out.push(match seen {
        0 => ProbeCheck::new("rate tier", O::Unknown, "no X-Rate-Limit header in the answers: keep [destination] rate_limit at your plan's figure"),
        n if n < configured_per_minute => ProbeCheck::new(
            "rate tier",
            O::Warn,
            format!("the account allows {n} requests/min, ferry.toml says {configured_per_minute}: ferry adapts to {n}; lower rate_limit to plan ETAs right"),
        ),
        n => ProbeCheck::new("rate tier", O::Ok, format!("{n} requests/min (X-Rate-Limit); ferry.toml says {configured_per_minute}")),
    });
    out.push(match client.get_json("/api/v2/custom_objects").await {
        Ok(v) => ProbeCheck::new(
            "custom objects",
            O::Ok,
            format!("enabled ({} objects exist)", v["custom_objects"].as_array().map_or(0, |a| a.len())),
        ),
        Err(FerryError::Http { status: 403 | 404, .. }) => ProbeCheck::new(
            "custom objects",
            O::Fail,
            "not available on this account: Kustomer KObjects cannot be loaded (exclude them, or enable custom objects)",
        ),
        Err(e) => ProbeCheck::new("custom objects", O::Fail, e.to_string()),
    });
    out.push(ticket_fields(client).await);
    out.push(existing_users(client, config.existing_users).await);
    out.push(bulk_user_imports(config.bulk_user_imports));
    match client.get_json("/api/v2/account/settings").await {
        Ok(v) => out.extend(settings(&v["settings"])),
        Err(e) => out.push(ProbeCheck::new("account settings", O::Fail, e.to_string())),
    }
    match crate::connectors::zendesk::preflight::warnings(client).await {
        Ok(w) if w.is_empty() => out.push(ProbeCheck::new("triggers and automations", O::Ok, "none active")),
        Ok(w) => out.push(ProbeCheck::new(
            "triggers and automations",
            O::Warn,
            format!("{} active; `ferry load --dry-run` lists them: imported tickets skip triggers, later updates do not", w.len()),
        )),
        Err(e) => out.push(ProbeCheck::new("triggers and automations", O::Fail, e.to_string())),
    }
    // Bulk writes answer with a job; ferry polls it (Job Statuses API).
    out.push(match client.get_json("/api/v2/job_statuses").await {
        Ok(_) => ProbeCheck::new("job statuses", O::Ok, "readable"),
        Err(e) => ProbeCheck::new(
            "job statuses",
            O::Fail,
            format!("ferry polls bulk jobs here: {e}"),
        ),
    });
    out.push(ProbeCheck::new(
        "comment size limit",
        O::Unknown,
        "ferry splits comment bodies at 65,535 bytes less comment_byte_margin (seeds/transform_settings.csv); Zendesk documents no exact figure: import one long comment in a sandbox if your history has bodies near 64 KB",
    ));
    out.push(ProbeCheck::new(
        "search indexing delay",
        O::Unknown,
        "in-doubt tickets imported with archive_immediately are found by search, which indexes within \"up to a few minutes\": wait that long before resuming a load that died mid-import",
    ));
    out
}

/// The people the account holds already: ferry matches source people to
/// them (by external id, then email) before writing anything.
async fn existing_users(client: &ApiClient, policy: super::settings::ExistingUsers) -> ProbeCheck {
    match super::users::Index::read(client).await {
        Ok(idx) => ProbeCheck::new(
            "existing users",
            O::Ok,
            format!(
                "{} users ({} admins/agents, never changed by ferry); source people with their email or external id are linked to them (existing_users = \"{}\"); `ferry load --dry-run` lists the matches and what differs",
                idx.len(),
                idx.staff(),
                match policy {
                    super::settings::ExistingUsers::Link => "link",
                    super::settings::ExistingUsers::Update => "update",
                    super::settings::ExistingUsers::Hold => "hold",
                }
            ),
        ),
        Err(e) => ProbeCheck::new("existing users", O::Fail, format!("List Users: {e}")),
    }
}

/// Bulk user imports: "not enabled by default in Zendesk accounts. The
/// account owner must contact Zendesk Customer Support" (official spec,
/// Create Many Users). No read-only request tells whether they are on.
fn bulk_user_imports(setting: super::settings::BulkUserImports) -> ProbeCheck {
    use super::settings::BulkUserImports as B;
    match setting {
        B::On => ProbeCheck::new(
            "bulk user imports",
            O::Ok,
            "bulk_user_imports = \"on\": users go in jobs of 100 (a 403 stops the load with this explanation)",
        ),
        B::Off => ProbeCheck::new(
            "bulk user imports",
            O::Ok,
            "bulk_user_imports = \"off\": one POST /api/v2/users per user (`ferry load --dry-run` counts them)",
        ),
        B::Auto => ProbeCheck::new(
            "bulk user imports",
            O::Unknown,
            format!(
                "off by default on Zendesk accounts and no read-only request tells; ferry tries users/create_many and at its 403 creates users one request each. For a large migration the account owner can ask Zendesk support: {}",
                super::users::ASK_SUPPORT
            ),
        ),
    }
}

/// Existing ticket fields, and the date fields whose value format ferry
/// assumes (`YYYY-MM-DD`).
async fn ticket_fields(client: &ApiClient) -> ProbeCheck {
    let mut fields: Vec<Value> = Vec::new();
    let mut next = Some("/api/v2/ticket_fields".to_string());
    while let Some(path) = next {
        match client.get_json(&path).await {
            Ok(v) => {
                fields.extend(v["ticket_fields"].as_array().cloned().unwrap_or_default());
                next = super::send::next_page(&v);
            }
            Err(e) => return ProbeCheck::new("ticket fields", O::Fail, e.to_string()),
        }
    }
    let dates: Vec<&str> = fields
        .iter()
        .filter(|f| f["type"] == "date")
        .filter_map(|f| f["title"].as_str())
        .collect();
    ProbeCheck::new(
        "ticket fields",
        if dates.is_empty() { O::Ok } else { O::Unknown },
        if dates.is_empty() {
            format!("{} fields, none of type date", fields.len())
        } else {
            format!(
                "{} fields; date fields {:?} get values as YYYY-MM-DD (the UI's format); no read-only request shows what the API accepts, so check one imported ticket",
                fields.len(),
                dates
            )
        },
    )
}

/// Account settings that change what an import does (Account Settings API).
fn settings(s: &Value) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    out.push(match s["user"]["agent_created_welcome_emails"].as_bool() {
        Some(true) => ProbeCheck::new(
            "welcome emails",
            O::Warn,
            "users created by an agent receive a welcome email; ferry creates users verified with skip_verify_email, but turn this off during the migration to be sure no customer is emailed",
        ),
        Some(false) => ProbeCheck::new("welcome emails", O::Ok, "off"),
        None => ProbeCheck::new("welcome emails", O::Unknown, "the setting is not in the answer"),
    });
    if let Some(limit) = s["limits"]["attachment_size"].as_u64() {
        out.push(ProbeCheck::new(
            "attachment size",
            O::Ok,
            format!(
                "files up to {} bytes ({:.1} MB) per attachment; a larger file is not uploaded: its comment names it, a row in ferry_load_errors says why, and the ticket loads",
                limit,
                limit as f64 / 1024.0 / 1024.0
            ),
        ));
    }
    if s["tickets"]["private_attachments"].as_bool() == Some(true) {
        out.push(ProbeCheck::new(
            "private attachments",
            O::Ok,
            "attachments need a signed-in user: verify downloads them with the API credentials (same host)",
        ));
    }
    out
}
