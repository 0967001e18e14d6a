//! Salesforce Service Cloud as a destination: the transport the route
//! `kustomer-salesforce` is built on (`../shared/reference/salesforce-api.md`,
//! with what it marks [likely] checked against Salesforce's docs through
//! the docs search, cited where used).
//!
//! - `settings`: the `[destination]` section (login host, connected app
//!   secrets by env var name, API version, external-id field, the share
//!   of the daily allocation kept for the org's other integrations).
//! - `session`: the OAuth client (client credentials or refresh token;
//!   the token answer's `instance_url` is the base of every call).
//! - `limits`: `Sforce-Limit-Info: api-usage=n/max` read off every answer,
//!   and the reserve check that stops a load before the allocation runs out.
//! - `soql`: queries with `nextRecordsUrl` paging.
//! - `collections`: sObject Collections upserts (200 per request,
//!   per-record results in order).
//! - `bulk`: Bulk API 2.0 ingest jobs (create, CSV upload, close, poll,
//!   results keyed by the external-id column, never by row position).

pub mod bulk;
pub mod collections;
pub mod limits;
pub mod session;
pub mod settings;
pub mod soql;

/// `ferry_id_map.dest` and `[destination] kind`.
pub const KIND: &str = "salesforce";

pub use settings::Settings;
