//! Source and destination connectors, one directory each.

pub mod kustomer;
pub mod zendesk;
