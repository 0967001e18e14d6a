//! Source and destination connectors, one directory each.

pub mod enchant;
pub mod intercom;
pub mod kustomer;
pub mod salesforce;
pub mod zendesk;
