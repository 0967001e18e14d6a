//! The OAuth client of a Salesforce org. The connected app's consumer key
//! and secret are exchanged at `{My Domain}/services/oauth2/token` for a
//! bearer token (client credentials, run as the app's integration user;
//! or a refresh token when one is configured); the answer's
//! `instance_url` is the base of every later call, and a 401
//! `INVALID_SESSION_ID` fetches a new token once (`http::oauth`).

use std::time::Duration;

use crate::config::read_secret;
use crate::error::Result;
use crate::http::oauth::OAuth;
use crate::http::{ApiClient, ClientSettings};

use super::Settings;

/// The token request's form, secrets read from the environment.
pub fn oauth(s: &Settings) -> Result<OAuth> {
    let id = read_secret(&s.client_id_env, "Salesforce connected app consumer key")?;
    let secret = read_secret(
        &s.client_secret_env,
        "Salesforce connected app consumer secret",
    )?;
    let mut form = vec![
        ("client_id".to_string(), id),
        ("client_secret".to_string(), secret),
    ];
    let mut vars = format!("{} and ${}", s.client_id_env, s.client_secret_env);
    match &s.refresh_token_env {
        Some(var) => {
            form.push(("grant_type".into(), "refresh_token".into()));
            form.push((
                "refresh_token".into(),
                read_secret(var, "Salesforce refresh token")?,
            ));
            vars = format!("{vars} and ${var}");
        }
        None => form.push(("grant_type".into(), "client_credentials".into())),
    }
    Ok(OAuth {
        token_url: format!("{}/services/oauth2/token", s.base_url.trim_end_matches('/')),
        form,
        secret_vars: vars,
    })
}

/// The rate-limited client; its session starts with the first request.
pub fn client(s: &Settings) -> Result<ApiClient> {
    ApiClient::new(ClientSettings {
        api: "Salesforce".into(),
        base_url: s.base_url.trim_end_matches('/').to_string(),
        url_key: "destination.base_url".into(),
        secret_var: s.client_secret_env.clone(),
        auth_header: String::new(),
        per_minute: s.requests_per_minute,
        search_per_minute: s.requests_per_minute,
        timeout: Duration::from_secs(600),
        max_attempts: 8,
        insecure: s.insecure,
        credit_window_burst: None,
        oauth: Some(oauth(s)?),
        // A record another transaction held: Salesforce says to retry.
        retry_codes: &["UNABLE_TO_LOCK_ROW"],
        quota_codes: &[(
            "REQUEST_LIMIT_EXCEEDED",
            "the org's daily API allocation (a rolling 24 hours) is spent: nothing loaded is lost and nothing is sent twice; rerun `ferry load` once requests free up (`ferry probe` shows how many are left), or raise destination.reserve_percent so ferry stops earlier",
        )],
        headers: Vec::new(),
        refusals_429: &[],
        limit_window_secs: 60,
    })
}
