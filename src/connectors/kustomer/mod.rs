//! Kustomer: API types, the stream list, the extractor and its simulator.

pub mod api;
pub mod extract;
pub mod sim;
pub mod streams;

use std::time::Duration;

use crate::config::Config;
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, ClientSettings};

/// Builds the rate-limited Kustomer client from `ferry.toml` and the
/// environment (the API key is read here and lives only in a header).
pub fn client(cfg: &Config) -> Result<ApiClient> {
    let key = cfg.source_api_key()?;
    ApiClient::new(ClientSettings {
        api: "Kustomer".into(),
        base_url: cfg.source_base(),
        url_key: "source.base_url".into(),
        secret_var: cfg.source.api_key_env.clone(),
        auth_header: format!("Bearer {key}"),
        per_minute: cfg.source.rate_limit_per_minute,
        search_per_minute: cfg.source.search_rate_limit_per_minute,
        timeout: Duration::from_secs(cfg.source.timeout_secs),
        max_attempts: cfg.source.max_attempts,
        insecure: cfg.source.insecure,
    })
}

/// Health check before a long run: the host answers, the key is accepted,
/// and the rate-limit headers tune the limiter. One request.
pub async fn check(client: &ApiClient) -> Result<()> {
    match client.probe("/v1/users/current").await {
        Ok(_) => Ok(()),
        Err(FerryError::Http { status: 404, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
