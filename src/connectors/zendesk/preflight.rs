//! Pre-flight: destination settings that would alter imported data or
//! notify customers during a load, and the account's attachment size
//! limit. Read-only: three GETs.

use serde_json::Value;

use crate::error::Result;
use crate::http::ApiClient;

/// Warnings to show before a long load.
pub async fn warnings(client: &ApiClient) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (path, key, what) in [
        ("/api/v2/triggers/active", "triggers", "trigger"),
        ("/api/v2/automations/active", "automations", "automation"),
    ] {
        let v: Value = client.get_json(path).await?;
        for t in v[key].as_array().into_iter().flatten() {
            let title = t["title"].as_str().unwrap_or("(untitled)");
            out.push(format!(
                "active {what} \"{title}\": imported tickets skip triggers, but later updates (and automations on time) \
                 can change or notify on them; deactivate it during the migration if it emails customers or changes status"
            ));
        }
    }
    Ok(out)
}

/// Zendesk's attachment size limit when the account does not say (the
/// official spec's Account Settings example: `limits.attachment_size:
/// 52428800`; zendesk-api.md: "Max file size 50 MB").
pub const DEFAULT_ATTACHMENT_LIMIT: u64 = 50 * 1024 * 1024;

/// The account's attachment size limit in bytes: `GET
/// /api/v2/account/settings`, `settings.limits.attachment_size` (official
/// spec, AccountSettingsLimitsObject). A file over it is not uploaded;
/// its comment names it.
pub async fn attachment_limit(client: &ApiClient) -> Result<u64> {
    let v: Value = client.get_json("/api/v2/account/settings").await?;
    Ok(v["settings"]["limits"]["attachment_size"]
        .as_u64()
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_ATTACHMENT_LIMIT))
}
