//! The `[source]` section of an Intercom route, and its template.

use serde::Deserialize;

use crate::config::{url_problems, InitOptions};

/// `[source] kind = "intercom"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://api.intercom.io` (US), `https://api.eu.intercom.io` (EU) or
    /// `https://api.au.intercom.io` (AU): the workspace's data region.
    pub base_url: String,
    /// Environment variable with the access token (a private app's, or
    /// an OAuth token with read scopes).
    #[serde(default = "default_token_env")]
    pub access_token_env: String,
    /// The `Intercom-Version` header sent on every call: field shapes
    /// change between versions, so it is pinned, never the app's default.
    #[serde(default = "default_version")]
    pub intercom_version: String,
    /// Requests per minute (Intercom: 10,000 per private app, 25,000 per
    /// workspace shared by its apps), enforced by Intercom in 10-second
    /// windows; ferry also follows `X-RateLimit-Remaining`.
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Records per page of lists and searches (Intercom: at most 150).
    #[serde(default = "default_per_page")]
    pub per_page: u32,
    /// Data events: "summaries" (one call per user: every event name with
    /// its count, first and last time, the only form older events keep),
    /// or "none".
    #[serde(default = "default_events")]
    pub events: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_retries")]
    pub max_attempts: u32,
    #[serde(default)]
    pub insecure: bool,
}

fn default_token_env() -> String {
    "INTERCOM_ACCESS_TOKEN".into()
}
fn default_version() -> String {
    "2.14".into()
}
fn default_rate() -> u32 {
    10_000
}
fn default_per_page() -> u32 {
    150
}
fn default_events() -> String {
    "summaries".into()
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
        if !(1..=150).contains(&self.per_page) {
            out.push("source.per_page must be between 1 and 150 (Intercom's most per page)".into());
        }
        if !matches!(self.events.as_str(), "summaries" | "none") {
            out.push(format!(
                "source.events = {:?}: \"summaries\" or \"none\"",
                self.events
            ));
        }
        let v = &self.intercom_version;
        let known = v == "Unstable"
            || v.split_once('.')
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
        if !known {
            out.push(format!(
                "source.intercom_version = {v:?}: a version like \"2.14\" (the spec ferry was checked against)"
            ));
        }
        out
    }
}

/// The commented `[source]` section `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let url = opts
        .source_url
        .clone()
        .unwrap_or_else(|| "https://api.intercom.io".into());
    let rate = opts.rate_limit.unwrap_or(10_000);
    format!(
        r#"kind = "intercom"
# Data region: US https://api.intercom.io   EU https://api.eu.intercom.io
# AU https://api.au.intercom.io. A simulator URL works too.
base_url = "{url}"
# Environment variable with the access token (Developer Hub → your app → Authentication).
access_token_env = "INTERCOM_ACCESS_TOKEN"
# Sent as Intercom-Version on every call; ferry was checked against 2.14.
intercom_version = "2.14"
# Intercom: 10,000/min per private app (25,000 per workspace), in 10-second windows.
rate_limit_per_minute = {rate}
per_page = 150
# Data events: "summaries" (one call per user; counts, first/last time) or "none".
events = "summaries"
timeout_secs = 60
max_attempts = 10
insecure = false
"#
    )
}
