//! The `[source]` section of a Kustomer route, and its template.

use serde::Deserialize;

use crate::config::{url_problems, InitOptions};

/// `[source] kind = "kustomer"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    /// Name of the environment variable holding the API key.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// The org-wide plan budget in requests per minute (300, 500, 1000, 2000).
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Search budget for API keys, on top of the org-wide limit.
    #[serde(default = "default_search_rate")]
    pub search_rate_limit_per_minute: u32,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per request before a stream gives up.
    #[serde(default = "default_retries")]
    pub max_attempts: u32,
    /// Only for loopback simulators with self-signed certificates.
    #[serde(default)]
    pub insecure: bool,
}

fn default_key_env() -> String {
    "KUSTOMER_API_KEY".into()
}
fn default_rate() -> u32 {
    1000
}
fn default_search_rate() -> u32 {
    100
}
fn default_timeout() -> u64 {
    60
}
fn default_retries() -> u32 {
    10
}

impl Settings {
    /// Everything wrong with the section, at once.
    pub fn problems(&self) -> Vec<String> {
        let mut out = url_problems("source", &self.base_url, self.insecure);
        if self.rate_limit_per_minute == 0 {
            out.push("source.rate_limit_per_minute must be > 0".into());
        }
        out
    }
}

/// The commented `[source]` section `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let url = opts
        .source_url
        .clone()
        .unwrap_or_else(|| "https://api.kustomerapp.com".into());
    let rate = opts.rate_limit.unwrap_or(1000);
    format!(
        r#"kind = "kustomer"
# US pod: https://api.kustomerapp.com   EU pod: https://api.prod2.kustomerapp.com
# (or your org host https://ORG.api.kustomerapp.com). A simulator URL works too.
base_url = "{url}"
# Environment variable with the API key (roles: read on every object + search).
api_key_env = "KUSTOMER_API_KEY"
# Your plan's org-wide budget, shared by every key and app: 300 | 500 | 1000 | 2000.
# ferry also adapts to the x-ratelimit-limit header the API returns.
rate_limit_per_minute = {rate}
# Search budget for API keys (Kustomer: 100/min on top of the org-wide limit).
search_rate_limit_per_minute = 100
timeout_secs = 60
# Attempts per request (429/5xx/timeouts/truncated bodies) before a stream fails.
max_attempts = 10
insecure = false
"#
    )
}
