//! `ferry.toml`: the workspace's settings. Secrets never live here, only the
//! *names* of the environment variables that hold them.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::connector::{Destination, Source};
use crate::error::{FerryError, Result};
use crate::routes::Route;

/// File name of the workspace configuration.
pub const CONFIG_FILE: &str = "ferry.toml";

/// The whole of `ferry.toml`, validated: the `[source]` and
/// `[destination]` sections are parsed by their connectors (chosen by
/// `kind`, which must match the route).
#[derive(Clone)]
pub struct Config {
    /// `<source>-<destination>`, e.g. `kustomer-zendesk`.
    pub route: String,
    /// The route's entry in the registry.
    pub route_def: &'static Route,
    pub source: Arc<dyn Source>,
    pub destination: Arc<dyn Destination>,
    pub extract: ExtractConfig,
    pub transform: TransformConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("route", &self.route)
            .field("source", &self.source.kind())
            .field("destination", &self.destination.kind())
            .finish()
    }
}

/// ferry.toml as written, before the connectors read their sections.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    route: String,
    source: Section,
    destination: Section,
    #[serde(default)]
    extract: ExtractConfig,
    #[serde(default)]
    transform: TransformConfig,
}

/// A connector's section: its `kind` and the keys its connector owns.
#[derive(Debug, Deserialize)]
struct Section {
    kind: String,
    #[serde(flatten)]
    rest: toml::Table,
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
    /// Records a plain list query is assumed to return at most (a
    /// third-party Kustomer connector documents 10,000): a list that ends
    /// exactly at a multiple of it is treated as capped and continued by
    /// keyset search.
    #[serde(default = "default_list_cap")]
    pub list_record_cap: u64,
    /// Downloads and per-record reads in flight at once per stream.
    #[serde(default = "default_fetch_concurrency")]
    pub fetch_concurrency: usize,
    /// List pages requested ahead per stream, so real network latency does
    /// not leave the rate budget idle.
    #[serde(default = "default_list_prefetch")]
    pub list_prefetch: usize,
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
            list_record_cap: default_list_cap(),
            fetch_concurrency: default_fetch_concurrency(),
            list_prefetch: default_list_prefetch(),
        }
    }
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
fn default_list_cap() -> u64 {
    10_000
}
fn default_fetch_concurrency() -> usize {
    8
}
fn default_list_prefetch() -> usize {
    4
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

    /// Parses config text; `path` is only used in messages. Every
    /// problem is reported at once: the route, both connectors' sections
    /// and the engine's own.
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
        let not_names = env_keys_not_naming_a_variable(&value, "");
        if !not_names.is_empty() {
            // The value is never echoed: it is often the secret itself,
            // pasted where the variable's name belongs.
            return Err(bad(format!(
                "{} must name an environment variable (A-Z, 0-9 and _, e.g. \"MY_API_KEY\"), not hold a value; \
                 the value given is not shown in case it is the secret itself. Put the variable's name there and \
                 export the secret in that variable",
                not_names
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let raw: RawConfig = toml::from_str(text).map_err(|e| bad(one_line(&e.to_string())))?;
        let mut out = Vec::new();
        let Some(route) = crate::routes::find(&raw.route) else {
            return Err(bad(format!(
                "route = \"{}\" is not supported (supported: {})",
                raw.route,
                crate::routes::names().join(", ")
            )));
        };
        // A section of another kind would be read with the wrong rules
        // (and a workspace could load into the wrong API): refuse it.
        for (section, kind, want) in [
            ("source", &raw.source.kind, route.source.kind),
            ("destination", &raw.destination.kind, route.destination.kind),
        ] {
            if kind != want {
                out.push(format!(
                    "{section}.kind = \"{kind}\" does not match route \"{}\", whose {section} is \"{want}\"",
                    route.name
                ));
            }
        }
        if !out.is_empty() {
            return Err(bad(out.join("; ")));
        }
        let source = (route.source.open)(&raw.source.rest);
        let destination = (route.destination.open)(&raw.destination.rest);
        if let Err(p) = &source {
            out.extend(p.iter().cloned());
        }
        if let Err(p) = &destination {
            out.extend(p.iter().cloned());
        }
        out.extend(engine_problems(&raw.extract, &raw.transform));
        if let Ok(src) = &source {
            out.extend(src.extract_problems(&raw.extract));
        }
        match (source, destination) {
            (Ok(source), Ok(destination)) if out.is_empty() => Ok(Config {
                route: raw.route,
                route_def: route,
                source,
                destination,
                extract: raw.extract,
                transform: raw.transform,
            }),
            _ => Err(bad(out.join("; "))),
        }
    }
}

/// Problems of the engine's own sections.
fn engine_problems(extract: &ExtractConfig, transform: &TransformConfig) -> Vec<String> {
    let mut out = memory_problem("transform.memory_limit", &transform.memory_limit);
    if transform.threads == 0 {
        out.push("transform.threads must be >= 1".into());
    }
    if extract.concurrency == 0 {
        out.push("extract.concurrency must be >= 1".into());
    }
    if extract.pages_per_part == 0 {
        out.push("extract.pages_per_part must be >= 1".into());
    }
    out
}

/// A DuckDB memory setting DuckDB would refuse or starve with.
pub fn memory_problem(key: &str, limit: &str) -> Vec<String> {
    match memory_megabytes(limit) {
        Some(mb) if mb >= 32.0 => Vec::new(),
        Some(_) => vec![format!(
            "{key} = \"{limit}\" is too small: DuckDB needs at least 32MB"
        )],
        None => vec![format!(
            "{key} = \"{limit}\" is not a size: write it like \"512MB\" or \"2GB\""
        )],
    }
}

/// Reads a connector's section into its typed settings (the connector's
/// struct denies unknown keys); `section` names it in messages.
pub fn section<T: serde::de::DeserializeOwned>(
    section: &str,
    table: &toml::Table,
) -> std::result::Result<T, Vec<String>> {
    toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| vec![format!("[{section}] {}", one_line(&e.to_string()))])
}

/// Problems common to every connector's connection keys.
pub fn url_problems(section: &str, base_url: &str, insecure: bool) -> Vec<String> {
    let mut out = Vec::new();
    match url::Url::parse(base_url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        _ => out.push(format!(
            "{section}.base_url = \"{base_url}\" is not an http(s) URL"
        )),
    }
    if insecure && !is_loopback(base_url) {
        out.push(format!("{section}.insecure = true is only allowed for loopback (127.0.0.1/localhost) simulators"));
    }
    out
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

/// Every `*_env` key whose value is not an environment variable's name
/// (`^[A-Z_][A-Z0-9_]*$`), by its dotted path.
fn env_keys_not_naming_a_variable(value: &toml::Value, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(table) = value.as_table() else {
        return out;
    };
    for (k, v) in table {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if k.ends_with("_env") {
            let ok = v.as_str().is_some_and(is_variable_name);
            if !ok {
                out.push(full.clone());
            }
        }
        out.extend(env_keys_not_naming_a_variable(v, &full));
    }
    out
}

/// An environment variable's name as ferry accepts it in a `*_env` key.
pub fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parameters for `ferry init`.
pub struct InitOptions {
    pub source_url: Option<String>,
    pub dest_url: Option<String>,
    pub rate_limit: Option<u32>,
}

/// The commented `ferry.toml` that `ferry init` writes for a route: the
/// header, the connectors' own sections, then the engine's.
pub fn template(route: &Route, opts: &InitOptions) -> String {
    format!(
        r#"# ferry.toml: one migration workspace ({about}).
# Secrets are NEVER written here: each *_env key names the environment
# variable that holds the secret. `ferry` reads it at run time.

route = "{name}"

[source]
{source}
[destination]
{destination}
[extract]
# Streams fetched at the same time; they share one org-wide rate limiter.
concurrency = 6
# Pages per Parquet part. A part is written atomically, then the stream's
# cursor is committed: a crash loses at most one part's worth of requests.
pages_per_part = 20
# Page sizes (the source API's maximums are checked when this file is read).
list_page_size = 100
search_page_size = 500
# Download attachment bytes into attachments/<sha256>.
download_attachments = true
# Seconds to re-read before a delta pass's high-water mark.
overlap_secs = 0
# Records a plain list returns at most (documented by a third-party
# connector, not by the vendor): a list ending exactly at a multiple of it is
# taken as cut short and continued by keyset search.
list_record_cap = 10000
# Downloads and per-record reads (message bodies) in flight per stream.
fetch_concurrency = 8
# List pages requested ahead per stream (hides network latency; at most
# this many minus one requests are spent past a list's end).
list_prefetch = 4

[transform]
# DuckDB memory limit for `ferry transform`; past it DuckDB spills to disk
# (.duckdb-spill/), so memory stays flat as the data grows.
memory_limit = "512MB"
threads = 2
"#,
        about = route.about,
        name = route.name,
        source = (route.source.template)(opts),
        destination = (route.destination.template)(opts),
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
            source_url: Some("http://127.0.0.1:9".into()),
            dest_url: None,
            rate_limit: None,
        }
    }

    fn first_template() -> String {
        template(&crate::routes::ROUTES[0], &opts())
    }

    #[test]
    fn every_route_template_parses() {
        for route in crate::routes::ROUTES {
            let c = Config::parse(&template(route, &opts()), Path::new("ferry.toml")).unwrap();
            assert_eq!(c.route, route.name);
            assert_eq!(c.source.kind(), route.source.kind);
            assert_eq!(c.destination.kind(), route.destination.kind);
            assert_eq!(c.extract.search_page_size, 500);
            assert_eq!(c.transform.memory_limit, "512MB");
        }
    }

    #[test]
    fn memory_sizes_read_like_duckdb() {
        assert_eq!(memory_megabytes("512MB"), Some(512.0));
        assert_eq!(memory_megabytes("2GB"), Some(2000.0));
        assert_eq!(memory_megabytes(" 1.5 gib "), Some(1.5 * 1_073.741_824));
        assert_eq!(memory_megabytes("lots"), None);
        assert_eq!(memory_megabytes("512"), None);
        assert_eq!(memory_megabytes("MB"), None);
        let t = first_template().replace(
            "[transform]\n# DuckDB memory limit for `ferry transform`; past it DuckDB spills to disk\n# (.duckdb-spill/), so memory stays flat as the data grows.\nmemory_limit = \"512MB\"",
            "[transform]\nmemory_limit = \"16MB\"",
        );
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("transform.memory_limit = \"16MB\" is too small"),
            "{e}"
        );
    }

    #[test]
    fn a_section_of_another_kind_is_refused() {
        let t = first_template().replacen(
            "\n[destination]\nkind = \"",
            "\n[destination]\nkind = \"other-",
            1,
        );
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("destination.kind = \"other-"), "{e}");
        assert!(e.contains("does not match route"), "{e}");
        let t = first_template().replacen("route = \"", "route = \"nowhere-", 1);
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not supported (supported: "), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let t = first_template().replace("concurrency = 6", "concurency = 6");
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurency"), "{e}");
        // Problems of both sections and of the engine come out together.
        let t = first_template()
            .replace("threads = 2", "threads = 0")
            .replacen("\n[destination]\n", "\n[destination]\nno_such_key = 1\n", 1)
            .replacen("\n[source]\n", "\n[source]\nno_such_source_key = 1\n", 1);
        let e = Config::parse(&t, Path::new("ferry.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no_such_key"), "{e}");
        assert!(e.contains("no_such_source_key"), "{e}");
        assert!(e.contains("transform.threads"), "{e}");
    }
}
