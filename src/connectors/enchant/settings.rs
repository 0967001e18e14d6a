//! The `[destination]` section of an Enchant route, and its template.

use serde::Deserialize;

use crate::config::{memory_problem, url_problems, InitOptions};

/// `[destination] kind = "enchant"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://{site}.enchant.com/api/v1`.
    pub base_url: String,
    #[serde(default = "default_token_env")]
    pub api_token_env: String,
    /// Credits per minute. Enchant's number is not in its spec (reported
    /// as 100): the limiter adapts to the `Rate-Limit-Limit` header and
    /// charges each request the `Rate-Limit-Used` it reports.
    #[serde(default = "default_credits")]
    pub credits_per_minute: u32,
    /// Requests per second at most, however many credits are left:
    /// Enchant's burst allowance (reported as about 6 per second; not in
    /// the spec, so `ferry probe` cannot read it either).
    #[serde(default = "default_burst")]
    pub burst_per_second: u32,
    /// The Enchant user who authors what no mapped user can: notes of
    /// Kustomer agents with no Enchant account (the note's header names
    /// the original author) and KObject notes.
    pub fallback_agent_email: String,
    /// Agent messages become internal notes (default), or outbound
    /// replies, which EMAIL THE CUSTOMER: only allowed with
    /// `sandbox_inbox_id`, and every ticket then goes to that inbox.
    #[serde(default)]
    pub agent_messages: AgentMessages,
    /// A test inbox whose outbound replies reach nobody real.
    #[serde(default)]
    pub sandbox_inbox_id: Option<String>,
    /// Files over this many MB are not uploaded (held, with the reason):
    /// Enchant documents no limit.
    #[serde(default = "default_max_mb")]
    pub max_attachment_mb: f64,
    /// What a delta load does to a ticket whose conversation left the
    /// source: "leave" it, or "trash" it (PATCH trash=true, reversible).
    #[serde(default)]
    pub deleted_in_source: DeletedInSource,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentMessages {
    #[default]
    Note,
    Reply,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeletedInSource {
    #[default]
    Leave,
    Trash,
}

fn default_token_env() -> String {
    "ENCHANT_API_TOKEN".into()
}
fn default_credits() -> u32 {
    100
}
fn default_burst() -> u32 {
    6
}
fn default_max_mb() -> f64 {
    20.0
}
fn default_memory_limit() -> String {
    "512MB".into()
}

impl Settings {
    /// Everything wrong with the section, at once.
    pub fn problems(&self) -> Vec<String> {
        let mut out = url_problems("destination", &self.base_url, self.insecure);
        if self.credits_per_minute == 0 {
            out.push("destination.credits_per_minute must be > 0".into());
        }
        if self.burst_per_second == 0 {
            out.push("destination.burst_per_second must be > 0 (Enchant's burst is reported as 6 requests per second)".into());
        }
        if !self.fallback_agent_email.contains('@') {
            out.push(format!(
                "destination.fallback_agent_email = {:?} is not an email: name an Enchant user who will author notes of unmapped agents",
                self.fallback_agent_email
            ));
        }
        if self.agent_messages == AgentMessages::Reply && self.sandbox_inbox_id.is_none() {
            out.push("destination.agent_messages = \"reply\" sends a real email to every customer for every agent message: it is refused unless destination.sandbox_inbox_id names a test inbox (then every ticket goes there). Use \"note\" for a migration.".into());
        }
        if self.max_attachment_mb.is_nan() || self.max_attachment_mb <= 0.0 {
            out.push("destination.max_attachment_mb must be > 0".into());
        }
        out.extend(memory_problem(
            "destination.memory_limit",
            &self.memory_limit,
        ));
        out
    }

    pub fn max_attachment_bytes(&self) -> u64 {
        (self.max_attachment_mb * 1024.0 * 1024.0) as u64
    }
}

/// The commented `[destination]` section `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let url = opts
        .dest_url
        .clone()
        .unwrap_or_else(|| "https://YOUR-SITE.enchant.com/api/v1".into());
    format!(
        r#"kind = "enchant"
base_url = "{url}"
# Environment variable with the API access token (Settings → Apps → API).
api_token_env = "ENCHANT_API_TOKEN"
# Credits per minute (reported as 100; ferry adapts to Rate-Limit-* headers).
credits_per_minute = 100
# Requests per second at most (Enchant's burst, reported as about 6).
burst_per_second = 6
# The Enchant user who authors notes of Kustomer agents with no Enchant user.
fallback_agent_email = "admin@example.com"
# Agent messages become internal notes with the author and time in a header.
# "reply" would EMAIL EVERY CUSTOMER again; refused without sandbox_inbox_id.
agent_messages = "note"
# sandbox_inbox_id = "…"
# Files over this size are held with the reason (Enchant documents no limit).
max_attachment_mb = 20
# A delta load finding a conversation gone from the source: "leave" or "trash".
deleted_in_source = "leave"
insecure = false
memory_limit = "512MB"
"#
    )
}
