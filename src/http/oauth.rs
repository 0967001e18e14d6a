//! OAuth 2.0 sessions for APIs whose credential is exchanged for a token
//! (Salesforce: `POST {login}/services/oauth2/token`, form-encoded, with
//! `grant_type=client_credentials` or `refresh_token`; the answer's
//! `instance_url` is the base of every later call, and a 401
//! `INVALID_SESSION_ID` means the token expired: fetch a new one once).
//! Token errors are OAuth's `{"error", "error_description"}`, not the
//! API's error array (`salesforce-api.md` §1, checked against jsforce's
//! `TokenResponse` and Salesforce's OAuth endpoint docs).

use reqwest::header::HeaderValue;

use crate::error::{FerryError, Result};

/// How to obtain a session.
#[derive(Clone)]
pub struct OAuth {
    /// The token endpoint (`https://acme.my.salesforce.com/services/oauth2/token`).
    pub token_url: String,
    /// The form fields (grant type, client id and secret, refresh token).
    /// Never logged: secrets live here.
    pub form: Vec<(String, String)>,
    /// The environment variables holding the secrets, for error messages.
    pub secret_vars: String,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth")
            .field("token_url", &self.token_url)
            .field("secret_vars", &self.secret_vars)
            .finish_non_exhaustive()
    }
}

/// A live session: the bearer header and the base URL the token answer gave.
pub struct Session {
    pub header: HeaderValue,
    pub base: String,
}

/// Exchanges the credentials for a session.
pub async fn fetch(http: &reqwest::Client, api: &str, o: &OAuth) -> Result<Session> {
    let resp = http
        .post(&o.token_url)
        .form(&o.form)
        .send()
        .await
        .map_err(|e| FerryError::Unreachable {
            api: api.to_string(),
            url: o.token_url.clone(),
            key: "destination.login_url".into(),
            cause: e.to_string(),
        })?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if !status.is_success() {
        return Err(FerryError::Other(format!(
            "{api} refused the OAuth token request at {} (HTTP {}: {} — {}): check ${} and that the connected app allows this grant for the integration user",
            o.token_url,
            status.as_u16(),
            body["error"].as_str().unwrap_or("no error code"),
            body["error_description"].as_str().unwrap_or("no description"),
            o.secret_vars
        )));
    }
    let (Some(token), Some(base)) = (body["access_token"].as_str(), body["instance_url"].as_str())
    else {
        return Err(FerryError::Other(format!(
            "{api}'s token answer at {} has no access_token or instance_url",
            o.token_url
        )));
    };
    let mut header = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        FerryError::Other(format!(
            "{api} returned an access token that is not a valid header value"
        ))
    })?;
    header.set_sensitive(true);
    Ok(Session {
        header,
        base: base.trim_end_matches('/').to_string(),
    })
}
