//! The `[destination]` section of a Zendesk route, and its template.

use serde::{Deserialize, Serialize};

use crate::config::{memory_problem, url_problems, InitOptions};

/// `[destination] kind = "zendesk"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    #[serde(default = "default_email_env")]
    pub email_env: String,
    #[serde(default = "default_token_env")]
    pub api_token_env: String,
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Accept any TLS certificate: only for loopback simulators (refused
    /// for any other host).
    #[serde(default)]
    pub insecure: bool,
    /// Import closed tickets straight into Zendesk's archive
    /// (`archive_immediately=true`), as Zendesk recommends for histories
    /// over 750k tickets. Archived tickets leave views and search.
    #[serde(default)]
    pub archive_immediately: bool,
    /// Minutes ferry trusts an upload token. Zendesk's expire after about
    /// an hour; tickets go out in windows whose uploads fit in a third of
    /// this, and older unused tokens are uploaded again.
    #[serde(default = "default_upload_token_minutes")]
    pub upload_token_minutes: f64,
    /// DuckDB memory limit while loading. Without a cap DuckDB keeps up to
    /// 80 % of RAM of cached pages and the loader's memory grew with the
    /// workspace (835 MB at 20k tickets); past it queries spill to disk.
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
    /// What a ticket does about a file that can never be uploaded.
    #[serde(default)]
    pub missing_files: MissingFiles,
    /// What a delta load does to a ticket whose conversation is gone from
    /// the source (deleted there, or excluded by a rule since).
    #[serde(default)]
    pub deleted_in_source: DeletedInSource,
}

/// The policy for imported tickets whose conversation left the source.
/// Whatever it is, every such ticket is recorded in `ferry_changes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletedInSource {
    /// Keep the ticket as it is (recorded as `leave`).
    Leave,
    /// Add the tag `ferry_deleted_in_source`: agents see it, a view can
    /// list them, nothing is lost.
    #[default]
    Tag,
    /// Delete the ticket (Zendesk keeps deleted tickets 30 days).
    Delete,
}

/// The tag `deleted_in_source = "tag"` adds.
pub const DELETED_TAG: &str = "ferry_deleted_in_source";

/// What happens to a ticket one of whose files cannot be uploaded: its
/// bytes were not downloaded, or Zendesk refused the upload with a 4xx
/// (413: over 50 MB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingFiles {
    /// The ticket waits (held back) until every file is uploaded: nothing
    /// is imported incomplete, and an imported ticket cannot be amended.
    #[default]
    Hold,
    /// The ticket is imported without those files; `ferry load` names how
    /// many were left out and the view `zendesk_files_left_out` lists them.
    Skip,
}

fn default_email_env() -> String {
    "ZENDESK_EMAIL".into()
}
fn default_token_env() -> String {
    "ZENDESK_API_TOKEN".into()
}
fn default_rate() -> u32 {
    700
}
fn default_upload_token_minutes() -> f64 {
    45.0
}
fn default_memory_limit() -> String {
    "512MB".into()
}

impl Settings {
    /// Whether tickets go without files that can never be uploaded.
    pub fn skips_missing_files(&self) -> bool {
        self.missing_files == MissingFiles::Skip
    }

    /// Everything wrong with the section, at once.
    pub fn problems(&self) -> Vec<String> {
        let mut out = url_problems("destination", &self.base_url, self.insecure);
        if self.rate_limit_per_minute == 0 {
            out.push("destination.rate_limit_per_minute must be > 0".into());
        }
        let t = self.upload_token_minutes;
        if !(t > 0.0 && t <= 60.0) {
            out.push(format!("destination.upload_token_minutes = {t} must be in (0, 60]: Zendesk upload tokens expire after about an hour"));
        }
        out.extend(memory_problem(
            "destination.memory_limit",
            &self.memory_limit,
        ));
        out
    }
}

/// The commented `[destination]` section `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let url = opts
        .dest_url
        .clone()
        .unwrap_or_else(|| "https://YOUR-SUBDOMAIN.zendesk.com".into());
    format!(
        r#"kind = "zendesk"
base_url = "{url}"
# Environment variables with the agent email and the API token.
email_env = "ZENDESK_EMAIL"
api_token_env = "ZENDESK_API_TOKEN"
# Zendesk plan limit in requests per minute (Team 200 ... Enterprise 700, HVA 2500).
rate_limit_per_minute = 700
# TLS certificates are verified (rustls); `true` only for loopback simulators.
insecure = false
# Import closed tickets straight into the archive (Zendesk advises it past
# 750k tickets; archived tickets are readable by id but leave views).
archive_immediately = false
# Upload tokens expire (about 60 min). Attachments are uploaded in windows
# just before their tickets; tokens older than this are uploaded again.
upload_token_minutes = 45
# DuckDB memory limit for `ferry load`; past it DuckDB spills to disk.
memory_limit = "512MB"
# A ticket with a file that cannot be uploaded (bytes not downloaded, or
# refused by Zendesk, e.g. 413 over 50 MB): "hold" keeps the ticket back
# until it can go complete; "skip" imports it without that file.
missing_files = "hold"
# A delta load (cutover) finding a loaded conversation gone from the source:
# "leave" the ticket, "tag" it ferry_deleted_in_source, or "delete" it.
# Every one is recorded in ferry_changes whatever the policy.
deleted_in_source = "tag"
"#
    )
}
