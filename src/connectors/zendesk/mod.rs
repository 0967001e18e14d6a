//! Zendesk: the loader and its simulator.

pub mod load;
pub mod phases;
pub mod preflight;
pub mod readback;
pub mod rollback;
pub mod sample;
pub mod sim;

use std::time::Duration;

use base64::Engine;

use crate::config::{read_secret, Config};
use crate::error::Result;
use crate::http::{ApiClient, ClientSettings};

/// Builds the rate-limited Zendesk client (API token auth:
/// `{email}/token:{token}` as HTTP Basic). Secrets live only in the header.
pub fn client(cfg: &Config) -> Result<ApiClient> {
    let email = read_secret(&cfg.destination.email_env, "Zendesk agent email")?;
    let token = read_secret(&cfg.destination.api_token_env, "Zendesk API token")?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{email}/token:{token}"));
    ApiClient::new(ClientSettings {
        api: "Zendesk".into(),
        base_url: cfg.destination.base_url.trim_end_matches('/').to_string(),
        url_key: "destination.base_url".into(),
        secret_var: cfg.destination.api_token_env.clone(),
        auth_header: format!("Basic {basic}"),
        per_minute: cfg.destination.rate_limit_per_minute,
        search_per_minute: cfg.destination.rate_limit_per_minute,
        timeout: Duration::from_secs(120),
        max_attempts: 8,
        insecure: cfg.destination.insecure,
    })
}
