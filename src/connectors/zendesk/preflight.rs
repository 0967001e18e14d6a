//! Pre-flight: destination settings that would alter imported data or
//! notify customers during a load. Read-only: two GETs.

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
