//! The `[destination]` section of a Salesforce route.

use serde::Deserialize;

use crate::config::{memory_problem, url_problems, InitOptions};

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
    /// Original times go into CreatedDate/ClosedDate (true: the integration
    /// user has "Set Audit Fields upon Record Creation") or into
    /// Original_Created__c and Original_Closed__c (false). Unset: the
    /// pre-flight reads it off describe (CreatedDate is createable exactly
    /// when the permission is granted) and says which it chose.
    #[serde(default)]
    pub audit_fields: Option<bool>,
    /// Kustomer tags become Topics assigned to their Cases ("topics",
    /// needs Topics enabled for Case) or a text field on the Case
    /// (`Kustomer_Tags__c`, "text").
    #[serde(default)]
    pub tags_as: TagsAs,
    /// Files up to this many bytes go up as base64 JSON; larger ones as
    /// multipart (Salesforce: 37.5 MB base64-encoded ≈ 28 MB of file in a
    /// non-multipart request; 2 GB per ContentVersion as multipart).
    #[serde(default = "default_json_upload_max")]
    pub json_upload_max_bytes: u64,
    /// What a delta load does to a Case whose conversation left the
    /// source: "leave" it, or "delete" it (to the Recycle Bin, where it
    /// can be restored for 15 days).
    #[serde(default)]
    pub deleted_in_source: DeletedInSource,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletedInSource {
    #[default]
    Leave,
    Delete,
}

/// Where Kustomer tags go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagsAs {
    #[default]
    Topics,
    Text,
}

/// 37.5 MB of base64 is 28.1 MB of bytes; a little under it.
fn default_json_upload_max() -> u64 {
    28_000_000
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
        if self.json_upload_max_bytes == 0 || self.json_upload_max_bytes > 28_100_000 {
            out.push("destination.json_upload_max_bytes must be between 1 and 28100000 (37.5 MB of base64, Salesforce's limit for a JSON upload)".into());
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

/// The commented `[destination]` section `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let url = opts
        .dest_url
        .clone()
        .unwrap_or_else(|| "https://YOUR-DOMAIN.my.salesforce.com".into());
    format!(
        r#"kind = "salesforce"
# The org's My Domain: the OAuth token endpoint is {{base_url}}/services/oauth2/token;
# every later call goes to the instance_url its answer names.
base_url = "{url}"
# Environment variables with the connected app's consumer key and secret
# (client-credentials flow, run as the app's integration user).
client_id_env = "SALESFORCE_CLIENT_ID"
client_secret_env = "SALESFORCE_CLIENT_SECRET"
# refresh_token_env = "SALESFORCE_REFRESH_TOKEN"   # use a refresh token instead
api_version = "62.0"
# The custom External ID field on Account, Contact, Lead, Case, EmailMessage
# and ContentVersion that holds the Kustomer id (reruns upsert by it).
external_id_field = "Kustomer_Id__c"
# Share of the daily API allocation left to the org's other integrations.
reserve_percent = 10
# Salesforce has no per-minute limit; this only spreads the load.
requests_per_minute = 3000
# Original Case times: unset = detected by the pre-flight of `ferry load`
# (CreatedDate is createable only with "Set Audit Fields upon Record Creation");
# true: into CreatedDate/ClosedDate; false: into Original_Created__c / Original_Closed__c.
# audit_fields = true
# Kustomer tags: "topics" (Topic + TopicAssignment; enable Topics for Case in
# Setup) or "text" (Kustomer_Tags__c on the Case).
tags_as = "topics"
# Files above this size go up as multipart instead of base64 JSON (37.5 MB
# base64 is Salesforce's limit for JSON; 2 GB for multipart).
json_upload_max_bytes = 28000000
# A delta load finding a conversation gone from the source: "leave" or "delete"
# (Recycle Bin, restorable for 15 days).
deleted_in_source = "leave"
insecure = false
memory_limit = "512MB"
"#
    )
}
