//! `ferry.toml`: the workspace's settings. Secrets never live here, only the
//! *names* of the environment variables that hold them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{FerryError, Result};

/// File name of the workspace configuration.
pub const CONFIG_FILE: &str = "ferry.toml";

/// Routes ferry knows how to run.
pub const ROUTES: &[&str] = &["kustomer-zendesk"];

/// The whole of `ferry.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `<source>-<destination>`, e.g. `kustomer-zendesk`.
    pub route: String,
    pub source: SourceConfig,
    pub destination: DestinationConfig,
    #[serde(default)]
    pub extract: ExtractConfig,
    #[serde(default)]
    pub transform: TransformConfig,
}

/// How `ferry transform` runs DuckDB.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// DuckDB memory limit; beyond it DuckDB spills to `.duckdb-spill/`.
    #[serde(default = "default_memory_limit")]
    pub memory_limit: String,
    /// DuckDB worker threads.
    #[serde(default = "default_threads")]
    pub threads: usize,
}

impl Default for TransformConfig {
    fn default() -> Self {
        TransformConfig {
            memory_limit: default_memory_limit(),
            threads: default_threads(),
        }
    }
}

fn default_memory_limit() -> String {
    "512MB".into()
}
/// Megabytes in a DuckDB size setting ("512MB", "2GB", "1.5 GiB"), or
/// None when it is not one DuckDB would take.
pub fn memory_megabytes(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let number: f64 = t[..split].parse().ok()?;
    let unit = t[split..].trim().to_ascii_lowercase();
    let factor = match unit.as_str() {
        "b" | "byte" | "bytes" => 1.0 / 1_000_000.0,
        "kb" | "k" => 1.0 / 1000.0,
        "kib" => 1024.0 / 1_000_000.0,
        "mb" | "m" => 1.0,
        "mib" => 1.048_576,
        "gb" | "g" => 1000.0,
        "gib" => 1_073.741_824,
        "tb" | "t" => 1_000_000.0,
        "tib" => 1_099_511.627_776,
        _ => return None,
    };
    Some(number * factor)
}

fn default_threads() -> usize {
    2
}

/// The API ferry reads from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub kind: String,
    pub base_url: String,
    /// Name of the environment variable holding the API key.
    #[serde(default = "default_kustomer_key_env")]
    pub api_key_env: String,
    /// The org-wide plan budget in requests per minute (300, 500, 1000, 2000).
    #[serde(default = "default_source_rate")]
    pub rate_limit_per_minute: u32,
    /// Search budget for API keys, on top of the org-wide limit.
    #[serde(default = "default_search_rate")]
    pub search_rate_limit_per_minute: u32,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Attempts per request before a stream gives up.
    #[serde(default = "default_retries")]
    pub max_attempts: u32,
    /// Only for loopback simulators with self-signed certificates.
    #[serde(default)]
    pub insecure: bool,
}

/// The API ferry writes to.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub kind: String,
    pub base_url: String,
    #[serde(default = "default_zendesk_email_env")]
    pub email_env: String,
    #[serde(default = "default_zendesk_token_env")]
    pub api_token_env: String,
    #[serde(default = "default_dest_rate")]
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
}

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

impl DestinationConfig {
    /// Whether tickets go without files that can never be uploaded.
    pub fn skips_missing_files(&self) -> bool {
        self.missing_files == MissingFiles::Skip
    }
}

/// How `ferry extract` behaves.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractConfig {
    /// Streams run at the same time (they share one rate limiter).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Pages per Parquet part: a part is the unit of durability.
    #[serde(default = "default_pages_per_part")]
    pub pages_per_part: usize,
    /// `pageSize` on plain list endpoints (Kustomer maximum 100).
    #[serde(default = "default_list_page")]
    pub list_page_size: u32,
    /// `pageSize` on search (Kustomer maximum 500).
    #[serde(default = "default_search_page")]
    pub search_page_size: u32,
    /// Download attachment bytes into `attachments/<sha256>`.
    #[serde(default = "default_true")]
    pub download_attachments: bool,
    /// Seconds subtracted from a high-water mark before a delta search, to
    /// absorb clock skew between the API's replicas.
    #[serde(default = "default_overlap")]
    pub overlap_secs: i64,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            concurrency: default_concurrency(),
            pages_per_part: default_pages_per_part(),
            list_page_size: default_list_page(),
            search_page_size: default_search_page(),
            download_attachments: true,
            overlap_secs: default_overlap(),
        }
    }
}

fn default_kustomer_key_env() -> String {
    "KUSTOMER_API_KEY".into()
}
fn default_zendesk_email_env() -> String {
    "ZENDESK_EMAIL".into()
}
fn default_zendesk_token_env() -> String {
    "ZENDESK_API_TOKEN".into()
}
fn default_source_rate() -> u32 {
    1000
}
fn default_search_rate() -> u32 {
    100
}
fn default_upload_token_minutes() -> f64 {
    45.0
}
fn default_dest_rate() -> u32 {
    700
}
fn default_timeout() -> u64 {
    60
}
fn default_retries() -> u32 {
    10
}
fn default_concurrency() -> usize {
    6
}
fn default_pages_per_part() -> usize {
    20
}
fn default_list_page() -> u32 {
    100
}
fn default_search_page() -> u32 {
    500
}
fn default_true() -> bool {
    true
}
fn default_overlap() -> i64 {
    0
}

/// Keys that look like an inline secret. They get a dedicated error instead
/// of "unknown field", because the fix is different: move the value out.
const INLINE_SECRET_KEYS: &[&str] = &[
    "api_key",
    "apikey",
    "token",
    "api_token",
    "password",
    "secret",
];

impl Config {
    /// Reads and validates `DIR/ferry.toml`, reporting every problem at once.
    pub fn load(dir: &Path) -> Result<Config> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FerryError::NoWorkspace {
                    dir: dir.to_path_buf(),
                })
            }
            Err(e) => return Err(FerryError::io(format!("reading {}", path.display()), e)),
        };
        Self::parse(&text, &path)
    }

    /// Parses config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let bad = |message: String| FerryError::BadConfig {
            path: path.to_path_buf(),
            message,
        };
        let value: toml::Value = toml::from_str(text).map_err(|e| bad(one_line(&e.to_string())))?;
        if let Some(found) = find_inline_secret(&value, "") {
            return Err(bad(format!(
                "`{found}` looks like a secret written inline; secrets are read from environment variables: set `{found}_env = \"VAR_NAME\"` and export VAR_NAME"
            )));
        }
        let config: Config = toml::from_str(text).map_err(|e| bad(one_line(&e.to_string())))?;
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(bad(problems.join("; ")));
        }
        Ok(config)
    }

    /// Semantic validation beyond types; all problems, not just the first.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !ROUTES.contains(&self.route.as_str()) {
            out.push(format!(
                "route = \"{}\" is not supported (supported: {})",
                self.route,
                ROUTES.join(", ")
            ));
        }
        if self.source.kind != "kustomer" {
            out.push(format!(
                "source.kind = \"{}\" is not supported (supported: kustomer)",
                self.source.kind
            ));
        }
        for (key, url) in [
            ("source.base_url", &self.source.base_url),
            ("destination.base_url", &self.destination.base_url),
        ] {
            match url::Url::parse(url) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => out.push(format!("{key} = \"{url}\" is not an http(s) URL")),
            }
        }
        if self.source.rate_limit_per_minute == 0 {
            out.push("source.rate_limit_per_minute must be > 0".into());
        }
        if self.extract.list_page_size == 0 || self.extract.list_page_size > 100 {
            out.push("extract.list_page_size must be 1..=100 (Kustomer's maximum)".into());
        }
        if self.extract.search_page_size == 0 || self.extract.search_page_size > 500 {
            out.push("extract.search_page_size must be 1..=500 (Kustomer's maximum)".into());
        }
        let t = self.destination.upload_token_minutes;
        if !(t > 0.0 && t <= 60.0) {
            out.push(format!("destination.upload_token_minutes = {t} must be in (0, 60]: Zendesk upload tokens expire after about an hour"));
        }
        for (key, limit) in [
            ("transform.memory_limit", &self.transform.memory_limit),
            ("destination.memory_limit", &self.destination.memory_limit),
        ] {
            match memory_megabytes(limit) {
                Some(mb) if mb >= 32.0 => {}
                Some(_) => out.push(format!(
                    "{key} = \"{limit}\" is too small: DuckDB needs at least 32MB"
                )),
                None => out.push(format!(
                    "{key} = \"{limit}\" is not a size: write it like \"512MB\" or \"2GB\""
                )),
            }
        }
        if self.transform.threads == 0 {
            out.push("transform.threads must be >= 1".into());
        }
        if self.extract.concurrency == 0 {
            out.push("extract.concurrency must be >= 1".into());
        }
        if self.extract.pages_per_part == 0 {
            out.push("extract.pages_per_part must be >= 1".into());
        }
        if self.source.insecure && !is_loopback(&self.source.base_url) {
            out.push("source.insecure = true is only allowed for loopback (127.0.0.1/localhost) simulators".into());
        }
        if self.destination.insecure && !is_loopback(&self.destination.base_url) {
            out.push("destination.insecure = true is only allowed for loopback (127.0.0.1/localhost) simulators".into());
        }
        out
    }

    /// Reads the source API key from the environment variable the config names.
    pub fn source_api_key(&self) -> Result<String> {
        read_secret(&self.source.api_key_env, "Kustomer API key")
    }

    /// The source base URL without a trailing slash.
    pub fn source_base(&self) -> String {
        self.source.base_url.trim_end_matches('/').to_string()
    }
}

/// Reads a secret from the environment; empty counts as missing.
pub fn read_secret(var: &str, what: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(FerryError::MissingSecret {
            var: var.to_string(),
            what: what.to_string(),
        }),
    }
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.to_string()))
        .map(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
        .unwrap_or(false)
}

fn find_inline_secret(value: &toml::Value, prefix: &str) -> Option<String> {
    let table = value.as_table()?;
    for (k, v) in table {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if INLINE_SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
            return Some(full);
        }
        if let Some(found) = find_inline_secret(v, &full) {
            return Some(found);
        }
    }
    None
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parameters for `ferry init`.
pub struct InitOptions {
    pub route: String,
    pub source_url: Option<String>,
    pub dest_url: Option<String>,
    pub rate_limit: Option<u32>,
}

/// The commented `ferry.toml` that `ferry init` writes.
pub fn template(opts: &InitOptions) -> String {
    let source_url = opts
        .source_url
        .clone()
        .unwrap_or_else(|| "https://api.kustomerapp.com".into());
    let dest_url = opts
        .dest_url
        .clone()
        .unwrap_or_else(|| "https://YOUR-SUBDOMAIN.zendesk.com".into());
    let insecure = false;
    let rate = opts.rate_limit.unwrap_or(1000);
    format!(
        r#"# ferry.toml: one migration workspace.
# Secrets are NEVER written here: each *_env key names the environment
# variable that holds the secret. `ferry` reads it at run time.

route = "{route}"

[source]
kind = "kustomer"
# US pod: https://api.kustomerapp.com   EU pod: https://api.prod2.kustomerapp.com
# (or your org host https://ORG.api.kustomerapp.com). A simulator URL works too.
base_url = "{source_url}"
# Environment variable with the API key (roles: read on every object + search).
api_key_env = "KUSTOMER_API_KEY"
# Your plan's org-wide budget, shared by every key and app: 300 | 500 | 1000 | 2000.
# ferry also adapts to the x-ratelimit-limit header the API returns.
rate_limit_per_minute = {rate}
# Search budget for API keys (Kustomer: 100/min on top of the org-wide limit).
search_rate_limit_per_minute = 100
timeout_secs = 60
# Attempts per request (429/5xx/timeouts/truncated bodies) before a stream fails.
max_attempts = 10
insecure = {insecure}

[destination]
kind = "zendesk"
base_url = "{dest_url}"
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

[extract]
# Streams fetched at the same time; they share one org-wide rate limiter.
concurrency = 6
# Pages per Parquet part. A part is written atomically, then the stream's
# cursor is committed: a crash loses at most one part's worth of requests.
pages_per_part = 20
# Page sizes (Kustomer maximums: lists 100, search 500).
list_page_size = 100
search_page_size = 500
# Download attachment bytes into attachments/<sha256>.
download_attachments = true
# Seconds to re-read before a delta pass's high-water mark.
overlap_secs = 0

[transform]
# DuckDB memory limit for `ferry transform`; past it DuckDB spills to disk
# (.duckdb-spill/), so memory stays flat as the data grows.
memory_limit = "512MB"
threads = 2
"#,
        route = opts.route,
    )
}

/// Absolute path helper used by commands.
pub fn config_path(dir: &Path) -> PathBuf {
    dir.join(CONFIG_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> InitOptions {
        InitOptions {
            route: "kustomer-zendesk".into(),
            source_url: Some("http://127.0.0.1:9".into()),
            dest_url: None,
            rate_limit: None,
        }
    }

    #[test]
    fn template_parses() {
        let c = Config::parse(&template(&opts()), Path::new("ferry.toml")).unwrap();
        assert_eq!(c.source.api_key_env, "KUSTOMER_API_KEY");
        assert_eq!(c.extract.search_page_size, 500);
    }

    #[test]
    fn memory_sizes_read_like_duckdb() {
        assert_eq!(memory_megabytes("512MB"), Some(512.0));
        assert_eq!(memory_megabytes("2GB"), Some(2000.0));
        assert_eq!(memory_megabytes(" 1.5 gib "), Some(1.5 * 1_073.741_824));
        assert_eq!(memory_megabytes("lots"), None);
        assert_eq!(memory_megabytes("512"), None);
        assert_eq!(memory_megabytes("MB"), None);
        let c = Config::parse(&template(&opts()), Path::new("ferry.toml")).unwrap();
        assert_eq!(c.transform.memory_limit, "512MB");
        assert_eq!(c.destination.memory_limit, "512MB");
        assert_eq!(c.destination.missing_files, MissingFiles::Hold);
        let t = template(&opts()).replace(
            "memory_limit = \"512MB\"\n# A ticket with a file",
            "memory_limit = \"16MB\"\n# A ticket with a file",
        );
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("destination.memory_limit = \"16MB\" is too small"),
            "{e}"
        );
    }

    #[test]
    fn inline_secret_is_refused() {
        let t =
            template(&opts()).replace("api_key_env = \"KUSTOMER_API_KEY\"", "api_key = \"sk-123\"");
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("source.api_key"), "{e}");
        assert!(!e.contains("sk-123"), "secret echoed: {e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let t = template(&opts()).replace("concurrency = 6", "concurency = 6");
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurency"), "{e}");
        let t = template(&opts()).replace("list_page_size = 100", "list_page_size = 1000");
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("list_page_size"), "{e}");
        let t = template(&opts()).replace(
            "rate_limit_per_minute = 1000",
            "rate_limit_per_minute = \"fast\"",
        );
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rate_limit_per_minute") || e.contains("invalid type"),
            "{e}"
        );
    }
}
