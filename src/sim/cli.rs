//! The `ferry sim` subcommands and their flags: one per simulator.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Fake Kustomer API. Prints its base URL as the first line of stdout, then serves until killed.
    Kustomer(SimKustomerArgs),
    /// Fake Zendesk Support API. Prints its base URL as the first line of stdout, then serves until killed.
    Zendesk(SimZendeskArgs),
    /// Fake Enchant API (v1, community spec). Prints its base URL (ending in /api/v1) as the first line of stdout, then serves until killed.
    Enchant(SimEnchantArgs),
    /// Fake Salesforce org (OAuth token endpoint, REST, Collections, Bulk API 2.0, SOQL). Prints its base URL (the login host and instance URL) as the first line of stdout, then serves until killed.
    Salesforce(SimSalesforceArgs),
    /// Fake Intercom REST API (version 2.14 spec: cursor lists, search, the companies scroll, 10-second rate windows, expiring attachment links). Prints its base URL as the first line of stdout, then serves until killed.
    Intercom(SimIntercomArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SimIntercomArgs {
    /// Address to listen on (port 0 picks a free port). Loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Seed of the generated workspace.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Access token the simulator accepts (Authorization: Bearer TOKEN).
    #[arg(long, default_value = "sim-intercom-token")]
    pub token: String,
    /// Contacts in the workspace (≈1.5 conversations each; conversation 2000001 has 600 parts).
    #[arg(long, default_value_t = 40)]
    pub contacts: u32,
    /// Requests per minute, enforced in six 10-second windows (Intercom: 10,000 per app); 0 = unlimited.
    #[arg(long, default_value_t = 10_000)]
    pub per_minute: u32,
    /// Seconds an unused companies scroll stays open (Intercom: 60).
    #[arg(long, default_value_t = 60)]
    pub scroll_idle_secs: u64,
    /// Answer this scroll page (1-based) with a 500 once: the scroll must be restarted.
    #[arg(long)]
    pub scroll_fail_at: Option<usize>,
    /// Seconds an attachment link stays valid.
    #[arg(long, default_value_t = 600)]
    pub attachment_ttl_secs: i64,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of a 500/503 per request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
}

#[derive(Debug, Args, Clone)]
pub struct SimSalesforceArgs {
    /// Address to listen on (port 0 picks a free port). Loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Seed for fault injection.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Connected app consumer key the token endpoint accepts.
    #[arg(long, default_value = "sim-client")]
    pub client_id: String,
    /// Connected app consumer secret.
    #[arg(long, default_value = "sim-secret")]
    pub client_secret: String,
    /// Refresh token accepted by `grant_type=refresh_token`.
    #[arg(long, default_value = "sim-refresh")]
    pub refresh_token: String,
    /// Requests one access token serves before it expires (401 INVALID_SESSION_ID); 0 = never.
    #[arg(long, default_value_t = 0)]
    pub token_requests: u64,
    /// Daily API request allocation (Enterprise: 100,000 + 1,000 per license).
    #[arg(long, default_value_t = 100_000)]
    pub daily_requests: u64,
    /// Requests the org's other integrations already used today.
    #[arg(long, default_value_t = 0)]
    pub used_requests: u64,
    /// Bulk API batches per 24 hours.
    #[arg(long, default_value_t = 15_000)]
    pub daily_batches: u64,
    /// The API user lacks "Set Audit Fields upon Record Creation": CreatedDate and ClosedDate are refused.
    #[arg(long)]
    pub no_audit_fields: bool,
    /// Salesforce Support enabled audit fields on CaseComment too (off in a new org).
    #[arg(long)]
    pub case_comment_audit_fields: bool,
    /// An org nobody prepared: no Kustomer_Id__c or other custom fields.
    #[arg(long)]
    pub no_custom_fields: bool,
    /// Rows per SOQL page (2,000 in Salesforce).
    #[arg(long, default_value_t = 2000)]
    pub query_page: usize,
    /// Milliseconds a closed Bulk job spends UploadComplete and InProgress.
    #[arg(long, default_value_t = 300)]
    pub bulk_delay_ms: u64,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of a 503 SERVER_UNAVAILABLE (or, for writes, UNABLE_TO_LOCK_ROW) per request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Share of the records of a Collections request refused with UNABLE_TO_LOCK_ROW inside a 200 answer.
    #[arg(long, default_value_t = 0.0)]
    pub record_lock_rate: f64,
    /// Process the first write whose path contains this text, then cut its response off mid-body.
    #[arg(long)]
    pub cut_write_to: Option<String>,
    /// Seed users from the Kustomer simulator's org of this seed (its agents but every fourth). Custom objects are an admin's step: POST /__sim/custom_fields.
    #[arg(long)]
    pub mirror_kustomer_seed: Option<u64>,
    /// Customers of the mirrored Kustomer org.
    #[arg(long, default_value_t = 200)]
    pub mirror_kustomer_customers: u32,
}

#[derive(Debug, Args, Clone)]
pub struct SimEnchantArgs {
    /// Address to listen on (port 0 picks a free port). Loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Seed for fault injection.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Access token the simulator accepts (Bearer, or Basic user name).
    #[arg(long, default_value = "sim-token")]
    pub token: String,
    /// Credits per minute (reported as 100 for Enchant); 0 = unlimited.
    #[arg(long, default_value_t = 100)]
    pub credits: u32,
    /// Requests per second at most (reported as about 6); 0 = unlimited.
    #[arg(long, default_value_t = 6)]
    pub burst: u32,
    /// Credits a ticket read with embed=messages costs.
    #[arg(long, default_value_t = 2)]
    pub embed_cost: u32,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of a 503 (no body) per request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Largest attachment accepted, in bytes.
    #[arg(long, default_value_t = 25 * 1024 * 1024)]
    pub max_attachment_bytes: usize,
    /// Process the first POST whose path contains this text, then cut its
    /// response off mid-body.
    #[arg(long)]
    pub cut_post_to: Option<String>,
    /// Seed users and labels from the Kustomer simulator's org of this
    /// seed (its agents, but every fourth, and a label per tag), as an
    /// admin would prepare Enchant before migrating.
    #[arg(long)]
    pub mirror_kustomer_seed: Option<u64>,
    /// Customers of the mirrored Kustomer org.
    #[arg(long, default_value_t = 200)]
    pub mirror_kustomer_customers: u32,
}

#[derive(Debug, Args, Clone)]
pub struct SimZendeskArgs {
    /// Address to listen on (port 0 picks a free port). Loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Seed for fault injection.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Agent email of the API token (`EMAIL/token:TOKEN`).
    #[arg(long, default_value = "admin@sim.test")]
    pub email: String,
    /// API token the simulator accepts.
    #[arg(long, default_value = "sim-token")]
    pub token: String,
    /// Requests per minute (Zendesk plans: 200 .. 2500); 0 = unlimited.
    #[arg(long, default_value_t = 0)]
    pub rate_limit: u32,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of a random 500/502/503 per request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seconds an upload token can be used in a ticket before it expires
    /// (Zendesk: "The token is valid for 3 days").
    #[arg(long, default_value_t = crate::sim::zendesk::UPLOAD_TTL_SECS)]
    pub upload_ttl_secs: u64,
    /// The account's attachment size limit in bytes (Zendesk: 50 MB); a
    /// larger upload is refused with 413.
    #[arg(long, default_value_t = 50 * 1024 * 1024)]
    pub attachment_size: u64,
    /// Process the first POST whose path contains this text, then cut its
    /// response off mid-body (the connection drops): a write the client
    /// cannot know succeeded.
    #[arg(long)]
    pub cut_post_to: Option<String>,
    /// Turn bulk user imports on (`users/create_many`,
    /// `users/create_or_update_many`), as Zendesk support does for an
    /// account owner who asks. Off by default, as on a real account: 403.
    #[arg(long)]
    pub bulk_user_imports: bool,
    /// Start with an account as a team migrating the Kustomer simulator's
    /// org of this seed would have it: other admins, agents (half the
    /// Kustomer agents, one in a custom role, one sharing a customer's
    /// email), end users of an earlier tool sharing customers' emails or
    /// ids, and users nobody migrates.
    #[arg(long)]
    pub mirror_kustomer_seed: Option<u64>,
    /// Customers of the mirrored Kustomer org.
    #[arg(long, default_value_t = 200)]
    pub mirror_kustomer_customers: u32,
    /// Milliseconds a job stays `queued` before it starts working.
    #[arg(long, default_value_t = 300)]
    pub job_queue_ms: u64,
    /// Milliseconds a job works per item (a ticket, a user, a record).
    #[arg(long, default_value_t = 10)]
    pub job_item_ms: u64,
    /// Milliseconds a ticket import works per comment.
    #[arg(long, default_value_t = 2)]
    pub job_comment_ms: u64,
    /// Every job takes exactly this many milliseconds instead (benchmarks).
    #[arg(long)]
    pub job_ms: Option<u64>,
    /// Jobs other integrations keep queued or running on the account, out
    /// of its 30.
    #[arg(long, default_value_t = 0)]
    pub other_jobs: usize,
}

#[derive(Debug, Args, Clone)]
pub struct SimKustomerArgs {
    /// Address to listen on (port 0 picks a free port). Loopback only.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// Seed of the generated org: same seed, same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of customers; every other object scales from it.
    #[arg(long, default_value_t = 200)]
    pub customers: u32,
    /// The API key the simulator accepts as `Authorization: Bearer KEY`.
    #[arg(long, default_value = "sim-key")]
    pub api_key: String,
    /// Org-wide requests per minute (Kustomer tiers: 300, 500, 1000, 2000); 0 = unlimited.
    #[arg(long, default_value_t = 0)]
    pub rate_limit: u32,
    /// Search requests per minute for API keys; 0 = unlimited.
    #[arg(long, default_value_t = 100)]
    pub search_rate_limit: u32,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of a random fault per request: 500/502/503, truncated body, dropped connection.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Probability that a request also changes the org, as agents do while a
    /// migration runs: a new message or note on a conversation, a status
    /// flip with a new tag and a reassignment, an edited customer or
    /// company, a deleted conversation (counted under `mutations` in
    /// `/__sim/stats`; `POST /__sim/mutate {"count": N, "kind": K}` applies
    /// them on demand).
    #[arg(long, default_value_t = 0.0)]
    pub mutate_rate: f64,
    /// At most this many records per plain list query, then the list ends
    /// silently (a third-party connector documents 10,000); 0 = no cap.
    #[arg(long, default_value_t = 0)]
    pub list_cap: u32,
    /// Lists that answer 404, comma-separated (e.g. `shortcuts,slas`).
    #[arg(long, value_delimiter = ',')]
    pub missing: Vec<String>,
    /// Lists that answer 403 as for a key without the role (e.g. `teams`).
    #[arg(long, value_delimiter = ',')]
    pub forbidden: Vec<String>,
    /// Messages' `links.related` (the full body) answers 404: breaks the
    /// assumption `ferry probe` checks for message bodies.
    #[arg(long)]
    pub no_message_content: bool,
    /// Give the bulk-imported thread's 5,001 messages distinct updatedAt
    /// values (by default they share one, to test keyset tie-breaks).
    #[arg(long)]
    pub distinct_times: bool,
    /// Serve an org to import INTO (the write side of Kustomer's Core
    /// Resources spec: bulk creates polled at /v1/bulk/{id}, external-id
    /// lookups, custom attribute metadata, klasses, the attachment upload
    /// flow) instead of a generated org to extract.
    #[arg(long)]
    pub destination: bool,
    /// Destination: agents an admin invited, as NAME:EMAIL, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub users: Vec<String>,
    /// Destination: teams an admin made before the import (names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub teams: Vec<String>,
    /// Destination: invite the admins of the Intercom simulator's workspace
    /// of this seed (all but the last, so one agent stays unmatched).
    #[arg(long)]
    pub mirror_intercom_seed: Option<u64>,
    /// Destination: polls of a bulk operation that still answer `running`.
    #[arg(long, default_value_t = 1)]
    pub bulk_running_polls: u32,
    /// Destination: the languages the default knowledge base serves,
    /// comma-separated, the default first (a new org serves `en_us` only;
    /// an admin turns more on).
    #[arg(long, value_delimiter = ',')]
    pub kb_languages: Vec<String>,
}
