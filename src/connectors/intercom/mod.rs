//! Intercom as a source (REST API 2.14, `../shared/reference/
//! intercom-openapi-2.14.yaml`): settings, the client (bearer token, the
//! pinned `Intercom-Version`, 10-second windows read from
//! `X-RateLimit-*`), and the extractor.
//!
//! The route that reads it (Intercom → Kustomer) needs Kustomer as a
//! destination, which is not built yet: this source is registered for
//! that route and tested on its own (`tests/intercom.rs`).

pub mod extract;
pub mod probe;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{read_secret, section};
use crate::connector::{BoxFut, ExtractRun, ManualRuleKind, Source};
use crate::error::Result;
use crate::extract::StreamSummary;
use crate::http::{ApiClient, ClientSettings};
use crate::routes::SourceKind;

pub use settings::Settings;

/// Segments are saved filters: their rules are rebuilt by hand, their
/// membership is data.
const MANUAL_RULES: &[ManualRuleKind] = &[ManualRuleKind {
    object: "segments",
    kind: "segment",
    name_sql: "json_extract_string(json, '$.name')",
    live_sql: "true",
}];

/// The registry entry.
pub const SOURCE: SourceKind = SourceKind {
    kind: extract::SOURCE,
    open,
    template: settings::template,
    secrets: &["INTERCOM_ACCESS_TOKEN"],
    objects: extract::OBJECTS,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Source>, Vec<String>> {
    let settings: Settings = section("source", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(Intercom { settings }))
}

/// The Intercom source of a workspace.
pub struct Intercom {
    pub settings: Settings,
}

impl Intercom {
    /// The rate-limited client (the token is read here and lives only in a
    /// sensitive header).
    pub fn client(&self) -> Result<ApiClient> {
        let s = &self.settings;
        let token = read_secret(&s.access_token_env, "Intercom access token")?;
        ApiClient::new(ClientSettings {
            per_minute: s.rate_limit_per_minute,
            // Search shares the app's budget: Intercom documents no
            // separate one.
            search_per_minute: s.rate_limit_per_minute,
            timeout: Duration::from_secs(s.timeout_secs),
            max_attempts: s.max_attempts,
            insecure: s.insecure,
            headers: vec![("intercom-version", s.intercom_version.clone())],
            // X-RateLimit-Limit counts a 10-second window (Intercom's
            // "Rate Limiting" page: 1,000 a minute is announced as 167).
            refusals_429: &[],
            limit_window_secs: 10,
            ..ClientSettings::source_bearer("Intercom", &s.base_url, &s.access_token_env, &token)
        })
    }
}

impl Source for Intercom {
    fn kind(&self) -> &'static str {
        extract::SOURCE
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn objects(&self) -> &'static [&'static str] {
        extract::OBJECTS
    }

    fn manual_rules(&self) -> &'static [ManualRuleKind] {
        MANUAL_RULES
    }

    fn client(&self) -> Result<ApiClient> {
        Intercom::client(self)
    }

    /// `GET /me`: the host answers and the token is accepted. One request.
    fn check<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<()>> {
        Box::pin(async move { client.probe("/me").await.map(|_| ()) })
    }

    fn extract(&self, run: ExtractRun) -> BoxFut<'static, Result<Vec<StreamSummary>>> {
        let settings = self.settings.clone();
        let fetch = run.cfg.fetch_concurrency;
        Box::pin(extract::run(
            run.ws, run.run_id, run.client, run.db, settings, run.opts, fetch,
        ))
    }

    fn probe<'a>(
        &'a self,
        client: &'a ApiClient,
        _cfg: &'a crate::config::ExtractConfig,
    ) -> BoxFut<'a, Vec<crate::connector::ProbeCheck>> {
        Box::pin(probe::checks(client, &self.settings))
    }

    /// Conversations over 500 parts: the API returns only the newest 500,
    /// so the older ones are not in the landed record; verify lists each
    /// with the number of parts lost.
    fn incomplete_sql(&self) -> Option<&'static str> {
        Some(TRUNCATED_SQL)
    }
}

/// Every landed conversation whose `conversation_parts.total_count` is
/// more than the parts it carries.
pub const TRUNCATED_SQL: &str = "SELECT 'conversations' AS object, id AS source_id, \
     'the API returned ' || json_array_length(json, '$.conversation_parts.conversation_parts') || ' of its ' || \
     CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) || ' parts (Intercom returns only the newest 500): ' || \
     (CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) - json_array_length(json, '$.conversation_parts.conversation_parts')) || ' older parts lost' AS reason \
     FROM raw_intercom_conversations \
     WHERE CAST(json_extract(json, '$.conversation_parts.total_count') AS BIGINT) > json_array_length(json, '$.conversation_parts.conversation_parts')";
