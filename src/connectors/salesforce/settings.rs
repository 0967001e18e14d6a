//! The `[destination]` section of a Salesforce route.

use serde::Deserialize;

use crate::config::{memory_problem, url_problems};

/// `[destination] kind = "salesforce"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The org's My Domain (`https://acme.my.salesforce.com`), where the
    /// token endpoint is; every later call goes to the `instance_url` the
    /// token answer names.
    pub base_url: String,
    /// Environment variables with the connected app's consumer key and
    /// secret (client-credentials flow, run as the integration user).
    #[serde(default = "default_client_id_env")]
    pub client_id_env: String,
    #[serde(default = "default_client_secret_env")]
    pub client_secret_env: String,
    /// Optional: a refresh token (then `grant_type=refresh_token`).
    #[serde(default)]
    pub refresh_token_env: Option<String>,
    /// REST API version (`62.0` = Winter '25; Bulk 2.0 needs ≥ 41.0 and
    /// upserts through Collections ≥ 46.0).
    #[serde(default = "default_version")]
    pub api_version: String,
    /// The custom external-id field on every object ferry writes.
    #[serde(default = "default_external_id")]
    pub external_id_field: String,
    /// Share of the daily API allocation left to the org's other
    /// integrations: a load stops cleanly when only this much is left.
    #[serde(default = "default_reserve")]
    pub reserve_percent: f64,
    /// Requests per minute at most. Salesforce has no per-minute limit
    /// (only the daily allocation and 25 concurrent long requests), so
    /// this only spreads a load.
    #[serde(default = "default_per_minute")]
    pub requests_per_minute: u32,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
}

fn default_client_id_env() -> String {
    "SALESFORCE_CLIENT_ID".into()
}
fn default_client_secret_env() -> String {
    "SALESFORCE_CLIENT_SECRET".into()
}
fn default_version() -> String {
    "62.0".into()
}
fn default_external_id() -> String {
    "Kustomer_Id__c".into()
}
fn default_reserve() -> f64 {
    10.0
}
fn default_per_minute() -> u32 {
    3000
}
fn default_memory_limit() -> String {
    "512MB".into()
}

impl Settings {
    /// Everything wrong with the section, at once.
    pub fn problems(&self) -> Vec<String> {
        let mut out = url_problems("destination", &self.base_url, self.insecure);
        match self.api_version.parse::<f64>() {
            Ok(v) if v >= 46.0 => {}
            _ => out.push(format!(
                "destination.api_version = {:?}: give a version like \"62.0\" (46.0 or later: upserts through sObject Collections need it)",
                self.api_version
            )),
        }
        let ext = &self.external_id_field;
        if !ext.ends_with("__c") || ext.len() < 4 {
            out.push(format!(
                "destination.external_id_field = {ext:?}: a custom field's API name ends in __c (e.g. Kustomer_Id__c)"
            ));
        }
        if !(0.0..100.0).contains(&self.reserve_percent) {
            out.push("destination.reserve_percent must be at least 0 and below 100".into());
        }
        if self.requests_per_minute == 0 {
            out.push("destination.requests_per_minute must be > 0".into());
        }
        out.extend(memory_problem(
            "destination.memory_limit",
            &self.memory_limit,
        ));
        out
    }

    /// `/services/data/vXX.X`, the prefix of every REST path.
    pub fn data_path(&self) -> String {
        format!("/services/data/v{}", self.api_version)
    }
}
