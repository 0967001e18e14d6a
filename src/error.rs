//! Typed errors of ferry's library code, each mapped to a process exit code.
//!
//! Errors are written for the person at the terminal: every message names
//! what went wrong *and* what to do about it, on one line.

use std::path::PathBuf;

/// Exit code for runtime failures (bad config, unreachable host, 401, ...).
pub const EXIT_FAILURE: i32 = 1;
/// Exit code when data checks found problems (verify / transform checks).
pub const EXIT_CHECKS: i32 = 3;

/// Everything that can go wrong inside ferry, before `anyhow` takes over at
/// the binary's edge.
#[derive(Debug, thiserror::Error)]
pub enum FerryError {
    /// Ctrl-C or SIGTERM: the work stopped taking new batches and every
    /// batch sent was answered and recorded.
    #[error("interrupted after {batches} batches of this run; everything sent is recorded: rerun the command to resume")]
    Interrupted { batches: u64 },

    /// A Ctrl-C or SIGTERM stopped a command that is not batch-shaped (an
    /// extract stream) at a point where everything read is landed.
    #[error("stopped on request (Ctrl-C or SIGTERM): every page read so far is landed and its cursor recorded; rerun the command to resume where it stopped")]
    Stopped,

    #[error("no ferry.toml in {dir}: run `ferry init {dir} --route ROUTE` first (`ferry init --help` lists the routes), or pass -C/--workspace DIR")]
    NoWorkspace { dir: PathBuf },

    #[error("invalid {path}: {message} (fix the file or recreate it with `ferry init`)")]
    BadConfig { path: PathBuf, message: String },

    #[error("environment variable {var} is not set: it holds the {what}; export {var}=... and rerun (the name is configured in ferry.toml)")]
    MissingSecret { var: String, what: String },

    #[error("cannot reach {api} at {url}: {cause} (check `{key}` in ferry.toml and that the host is up)")]
    Unreachable {
        api: String,
        url: String,
        key: String,
        cause: String,
    },

    #[error("{api} rejected the credentials (HTTP {status}) for {url}: check the value of ${var} (an API key with read roles)")]
    Unauthorized {
        api: String,
        status: u16,
        url: String,
        var: String,
    },

    #[error("{api} returned HTTP {status} for {url}: {body}")]
    Http {
        api: String,
        status: u16,
        url: String,
        body: String,
    },

    #[error("{api} returned an unreadable page for {url} after {attempts} attempts: {cause} (landed data is kept; rerun `ferry extract` to resume)")]
    BadPage {
        api: String,
        url: String,
        attempts: u32,
        cause: String,
    },

    #[error("{api} may have done the write to {url}, but the response was cut off ({cause}): it is not sent again, which could create it twice; its batch stays in doubt and the next `ferry load` matches it by external id before sending anything")]
    InDoubt {
        api: String,
        url: String,
        cause: String,
    },

    #[error("another ferry process holds the workspace lock {path} (pid {pid}); wait for it to finish or stop it")]
    Locked { path: PathBuf, pid: String },

    #[error("workspace {dir} already has a ferry.toml; pick an empty directory or delete it to start over")]
    AlreadyInitialised { dir: PathBuf },

    #[error("DuckDB: {0}")]
    Duck(#[from] duckdb::Error),

    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Other(String),
}

impl FerryError {
    /// Wraps an I/O error with what ferry was doing, so "No space left on
    /// device" arrives together with the file it happened to.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        FerryError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Library result type.
pub type Result<T, E = FerryError> = std::result::Result<T, E>;
