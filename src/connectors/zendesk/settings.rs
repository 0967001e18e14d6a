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
    /// Minutes ferry trusts an upload token. Zendesk's official spec: "The
    /// token is valid for 3 days" (Upload Files); the default keeps a day
    /// of margin. Tickets go out in windows whose uploads fit in a third
    /// of this (only a load of days ever has more than one window), and
    /// older unused tokens are uploaded again.
    #[serde(default = "default_upload_token_minutes")]
    pub upload_token_minutes: f64,
    /// Source people whose email or external id a user of the account
    /// already has (its admins and agents, end users of an earlier tool).
    #[serde(default)]
    pub existing_users: ExistingUsers,
    /// Whether the account has bulk user imports (`users/create_many`);
    /// Zendesk turns them on only when the account owner asks.
    #[serde(default)]
    pub bulk_user_imports: BulkUserImports,
    /// DuckDB memory limit while loading. Without a cap DuckDB keeps up to
    /// 80 % of RAM of cached pages and the loader's memory grew with the
    /// workspace (835 MB at 20k tickets); past it queries spill to disk.
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
    /// Jobs the account may have queued or running at once ("Job limit",
    /// Zendesk's rate-limits reference: 30; `TooManyJobs` past it).
    #[serde(default = "default_job_limit")]
    pub job_limit: usize,
    /// Of those, jobs ferry leaves to other integrations of the account.
    #[serde(default = "default_job_headroom")]
    pub job_headroom: usize,
    /// Seconds a job of 100 takes on this account, for `--dry-run`'s
    /// estimate only (no document gives it; a busy account's jobs take
    /// minutes: time one and set it).
    #[serde(default = "default_job_seconds")]
    pub job_seconds: f64,
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

/// What a load does with a source person the account already has. An
/// admin or agent (any role but end-user, custom roles included) is never
/// sent a change whatever this says: it is linked as it is. This policy is
/// about existing end users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExistingUsers {
    /// Link: the source's tickets point at the existing user; nothing of
    /// it changes (`ferry_matched` lists what differs).
    #[default]
    Link,
    /// Link, and give the existing end user the source's name, phone,
    /// organization, tags, fields and external id (never a role).
    Update,
    /// Hold the source person back (and its tickets) until someone
    /// decides: `ferry_load_errors` names the Zendesk user.
    Hold,
}

/// Whether users go through Zendesk's bulk user import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkUserImports {
    /// Try `users/create_many`; at its first 403 (imports not enabled, as
    /// the official spec documents) carry on one user per request.
    #[default]
    Auto,
    /// Zendesk support turned them on for the account.
    On,
    /// One `POST /api/v2/users` per user.
    Off,
}

/// The tag `deleted_in_source = "tag"` adds.
pub const DELETED_TAG: &str = "ferry_deleted_in_source";

/// What happens to a ticket one of whose files cannot be uploaded: its
/// bytes were not downloaded, or Zendesk refused the upload with a 4xx
/// (not a 408 or 429). A file over the account's attachment size limit is not one:
/// it never holds its ticket, its comment names it.
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
/// Minutes an upload token lives: 3 days (official spec, Upload Files).
pub const UPLOAD_TOKEN_LIFETIME_MINUTES: f64 = 3.0 * 24.0 * 60.0;

fn default_upload_token_minutes() -> f64 {
    // A day of margin under the documented lifetime.
    2.0 * 24.0 * 60.0
}
fn default_memory_limit() -> String {
    "512MB".into()
}
fn default_job_limit() -> usize {
    30
}
fn default_job_headroom() -> usize {
    5
}
fn default_job_seconds() -> f64 {
    10.0
}

impl Settings {
    /// Jobs ferry keeps in flight: the account's limit less the headroom.
    pub fn jobs_in_flight(&self) -> usize {
        self.job_limit.saturating_sub(self.job_headroom).max(1)
    }

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
        if self.job_seconds.is_nan() || self.job_seconds < 0.0 {
            out.push(format!(
                "destination.job_seconds = {} must be 0 or more",
                self.job_seconds
            ));
        }
        if self.job_headroom >= self.job_limit {
            out.push(format!(
                "destination.job_headroom = {} leaves no job of the account's job_limit = {} to ferry: set it below",
                self.job_headroom, self.job_limit
            ));
        }
        let t = self.upload_token_minutes;
        if !(t > 0.0 && t < UPLOAD_TOKEN_LIFETIME_MINUTES) {
            out.push(format!("destination.upload_token_minutes = {t} must be in (0, {UPLOAD_TOKEN_LIFETIME_MINUTES}): Zendesk upload tokens are valid for 3 days; keep a margin (default 2880, two days)"));
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
# Upload tokens are valid for 3 days (Zendesk's spec). Attachments are
# uploaded in windows before their tickets; tokens older than this (two
# days: a day of margin) are uploaded again.
upload_token_minutes = 2880
# People the account already has (matched by email or external id before
# anything is written). Admins and agents are never changed, whatever this
# says. For existing end users: "link" (tickets point at them, nothing of
# theirs changes), "update" (they get the source's name, phone,
# organization, tags, fields; never a role), or "hold" (wait for a decision).
existing_users = "link"
# Bulk user imports are off on Zendesk accounts until the owner asks
# Zendesk support. "auto" tries them and, at the first 403, creates users
# one request each; "on" or "off" when you know.
bulk_user_imports = "auto"
# Zendesk runs bulk imports as jobs, at most 30 queued or running per
# account ("Job limit"). ferry keeps job_limit - job_headroom in flight,
# leaving the headroom to other integrations, and one fewer each time
# Zendesk answers TooManyJobs.
job_limit = 30
job_headroom = 5
# Seconds a job of 100 takes on this account, for `ferry load --dry-run`'s
# estimate only (no document gives it; a busy account's take minutes).
job_seconds = 10
# DuckDB memory limit for `ferry load`; past it DuckDB spills to disk.
memory_limit = "512MB"
# A ticket with a file that cannot be uploaded (bytes not downloaded, or
# refused by Zendesk): "hold" keeps the ticket back until it can go
# complete; "skip" imports it without that file. A file over the account's
# attachment size limit never holds its ticket: its comment names it.
missing_files = "hold"
# A delta load (cutover) finding a loaded conversation gone from the source:
# "leave" the ticket, "tag" it ferry_deleted_in_source, or "delete" it.
# Every one is recorded in ferry_changes whatever the policy.
deleted_in_source = "tag"
"#
    )
}
