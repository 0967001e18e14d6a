//! Kustomer as a source: API types, the stream list, the extractor.

pub mod api;
pub mod dest;
pub mod extract;
pub mod probe;
pub mod settings;
pub mod streams;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{read_secret, section, ExtractConfig};
use crate::connector::{BoxFut, ExtractRun, ManualRuleKind, Source};
use crate::error::{FerryError, Result};
use crate::extract::StreamSummary;
use crate::http::{ApiClient, ClientSettings};
use crate::routes::SourceKind;

pub use settings::Settings;

/// Objects landed from Kustomer, in the order `ferry extract` reports them.
pub const OBJECTS: &[&str] = &[
    "users",
    "teams",
    "tags",
    "klasses",
    "companies",
    "customers",
    "conversations",
    "messages",
    "message_contents",
    "notes",
    "kobjects",
    "attachments",
    "inline_images",
    "shortcuts",
    "slas",
    "audit_logs",
    "customer_events",
];

/// Kustomer's rules that no destination imports, by the stream they are
/// landed from. (Workflows are not readable with an API key's roles, so
/// there is no stream for them.)
const MANUAL_RULES: &[ManualRuleKind] = &[
    ManualRuleKind {
        object: "slas",
        kind: "SLA",
        name_sql: RULE_NAME,
        live_sql: RULE_LIVE,
    },
    ManualRuleKind {
        object: "shortcuts",
        kind: "shortcut",
        name_sql: RULE_NAME,
        live_sql: RULE_LIVE,
    },
];
const RULE_NAME: &str = "coalesce(json_extract_string(json, '$.attributes.name'), json_extract_string(json, '$.attributes.title'))";
const RULE_LIVE: &str =
    "NOT coalesce(TRY_CAST(json_extract(json, '$.attributes.deleted') AS BOOLEAN), false)";

/// The registry entry.
pub const SOURCE: SourceKind = SourceKind {
    kind: "kustomer",
    open,
    template: settings::template,
    secrets: &["KUSTOMER_API_KEY"],
    objects: OBJECTS,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Source>, Vec<String>> {
    let settings: Settings = section("source", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(Kustomer { settings }))
}

/// The Kustomer source of a workspace.
pub struct Kustomer {
    pub settings: Settings,
}

impl Kustomer {
    /// Builds the rate-limited Kustomer client from `[source]` and the
    /// environment (the API key is read here and lives only in a header).
    pub fn client(&self) -> Result<ApiClient> {
        let s = &self.settings;
        let key = read_secret(&s.api_key_env, "Kustomer API key")?;
        ApiClient::new(ClientSettings {
            per_minute: s.rate_limit_per_minute,
            search_per_minute: s.search_rate_limit_per_minute,
            timeout: Duration::from_secs(s.timeout_secs),
            max_attempts: s.max_attempts,
            insecure: s.insecure,
            ..ClientSettings::source_bearer("Kustomer", &s.base_url, &s.api_key_env, &key)
        })
    }
}

impl Source for Kustomer {
    fn kind(&self) -> &'static str {
        extract::SOURCE
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn objects(&self) -> &'static [&'static str] {
        OBJECTS
    }

    fn manual_rules(&self) -> &'static [ManualRuleKind] {
        MANUAL_RULES
    }

    fn client(&self) -> Result<ApiClient> {
        Kustomer::client(self)
    }

    /// Health check before a long run: the host answers, the key is
    /// accepted, and the rate-limit headers tune the limiter. One request.
    fn check<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<()>> {
        Box::pin(async move {
            match client.probe("/v1/users/current").await {
                Ok(_) => Ok(()),
                Err(FerryError::Http { status: 404, .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    fn extract(&self, run: ExtractRun) -> BoxFut<'static, Result<Vec<StreamSummary>>> {
        Box::pin(extract::run(
            run.ws, run.run_id, run.client, run.db, run.cfg, run.opts,
        ))
    }

    /// The list-cap check uses the workspace's `extract.list_record_cap`.
    fn probe<'a>(
        &'a self,
        client: &'a ApiClient,
        cfg: &'a ExtractConfig,
    ) -> BoxFut<'a, Vec<crate::connector::ProbeCheck>> {
        Box::pin(probe::checks(client, cfg.list_record_cap))
    }

    fn incomplete_sql(&self) -> Option<&'static str> {
        Some("SELECT 'messages' AS object, message_id AS source_id, reason FROM stg_preview_only_messages")
    }

    fn extract_problems(&self, cfg: &ExtractConfig) -> Vec<String> {
        let mut out = Vec::new();
        if cfg.list_page_size == 0 || cfg.list_page_size > 100 {
            out.push("extract.list_page_size must be 1..=100 (Kustomer's maximum)".into());
        }
        if cfg.search_page_size == 0 || cfg.search_page_size > 500 {
            out.push("extract.search_page_size must be 1..=500 (Kustomer's maximum)".into());
        }
        out
    }
}
