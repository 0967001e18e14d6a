//! The `[destination]` section of a route into Kustomer, and its template.

use serde::Deserialize;

use crate::config::{memory_problem, url_problems, InitOptions};

/// `[destination] kind = "kustomer"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: String,
    /// Name of the environment variable holding the API key.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    /// The org-wide plan budget per minute, shared with every other key
    /// and app of the org ("Rate limits": one bulk request is one unit).
    #[serde(default = "default_rate")]
    pub rate_limit_per_minute: u32,
    /// Milliseconds between polls of a bulk operation (`GET /v1/bulk/{id}`).
    #[serde(default = "default_poll_ms")]
    pub bulk_poll_ms: u64,
    /// A bulk operation not complete after this many seconds fails its
    /// batch (in doubt: the next load finds its records by external id).
    #[serde(default = "default_poll_max")]
    pub bulk_poll_max_secs: u64,
    /// The `app` of every imported message (the spec requires one; "one
    /// stable value per integration").
    #[serde(default = "default_app")]
    pub message_app: String,
    /// An Intercom admin with no Kustomer user: "machine" (their messages
    /// and notes are sent without `createdBy`, so the API key's machine
    /// user shows as author, the admin's name kept in `meta`), "hold"
    /// (held until the agent is invited and the load runs again) or
    /// "create" (`POST /v1/users`: Kustomer invites them; their messages
    /// wait for the user).
    #[serde(default)]
    pub unmatched_agents: UnmatchedAgents,
    /// An Intercom team no Kustomer team is named like: "create" it
    /// (`POST /v1/teams`, with its matched agents as members) or "hold" it
    /// until an admin makes it (conversations then carry no team).
    #[serde(default)]
    pub teams: Teams,
    /// What a delta load does to a conversation gone from the source:
    /// "leave" it, or "delete" it (`DELETE /v1/conversations/{id}`).
    #[serde(default)]
    pub deleted_in_source: DeletedInSource,
    /// The knowledge base the Help Center goes into (its id; `ferry probe`
    /// lists them); empty: the org's default knowledge base.
    #[serde(default)]
    pub knowledge_base: String,
    /// Where the knowledge base's pages are served, for links between
    /// articles and the redirect map; empty: `https://<subdomain>.kustomer.help`
    /// (`.kustomer.support` on the EU pod). Set it for a custom domain.
    #[serde(default)]
    pub kb_public_url: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_retries")]
    pub max_attempts: u32,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnmatchedAgents {
    #[default]
    Machine,
    Hold,
    Create,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Teams {
    #[default]
    Create,
    Hold,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletedInSource {
    #[default]
    Leave,
    Delete,
}

fn default_key_env() -> String {
    "KUSTOMER_API_KEY".into()
}
fn default_rate() -> u32 {
    1000
}
fn default_poll_ms() -> u64 {
    1000
}
fn default_poll_max() -> u64 {
    900
}
fn default_app() -> String {
    "ferry-import".into()
}
fn default_timeout() -> u64 {
    120
}
fn default_retries() -> u32 {
    8
}
fn default_memory_limit() -> String {
    "1GB".into()
}

impl Settings {
    /// Everything wrong with the section, at once.
    pub fn problems(&self) -> Vec<String> {
        let mut out = url_problems("destination", &self.base_url, self.insecure);
        if self.rate_limit_per_minute == 0 {
            out.push("destination.rate_limit_per_minute must be > 0".into());
        }
        if self.message_app.trim().is_empty() {
            out.push(
                "destination.message_app must not be empty (Kustomer requires a message's app)"
                    .into(),
            );
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
        .unwrap_or_else(|| "https://api.kustomerapp.com".into());
    let rate = opts.rate_limit.unwrap_or(1000);
    format!(
        r#"kind = "kustomer"
# US pod: https://api.kustomerapp.com   EU pod: https://api.prod2.kustomerapp.com
base_url = "{url}"
# Environment variable with the API key (roles: customer, company,
# conversation, message, note, kobject, klass, metadata, attachment write;
# user read; team read, and write with teams = "create"; kb read, create
# and update for the Help Center).
api_key_env = "KUSTOMER_API_KEY"
# Your plan's org-wide budget per minute, shared with every key and app (one
# bulk request of 100 records is one unit).
rate_limit_per_minute = {rate}
# Bulk operations are asynchronous: polled every bulk_poll_ms, given up
# (and found again by external id at the next load) after bulk_poll_max_secs.
bulk_poll_ms = 1000
bulk_poll_max_secs = 900
# The `app` of every imported message.
message_app = "ferry-import"
# Intercom admins with no Kustomer user: "machine" (their messages authored
# by this API key, the admin's name kept in the message's meta), "hold", or
# "create" (POST /v1/users: Kustomer sends each an invitation; uses seats).
unmatched_agents = "machine"
# Intercom teams no Kustomer team is named like: "create" them (with their
# matched agents as members) or "hold" them until an admin makes them.
teams = "create"
# A delta load finding a conversation gone from the source: "leave" or "delete".
deleted_in_source = "leave"
# The knowledge base the Help Center goes into: its id (`ferry probe` lists
# them; the key needs org.permission.kb.read, .create and .update), or ""
# for the org's default knowledge base.
knowledge_base = ""
# Where its pages are served (links between articles, the redirect map):
# "" = https://<its subdomain>.kustomer.help (.kustomer.support on the EU
# pod); set it when the help center has a custom domain.
kb_public_url = ""
timeout_secs = 120
max_attempts = 8
insecure = false
memory_limit = "1GB"
"#
    )
}
