//! The route registry: every source, destination and route ferry knows.
//! A route is a source connector, a destination connector and a SQL
//! directory; adding one is one line in [`ROUTES`] (plus the connectors'
//! lines below when they are new). Nothing else in the engine names an API.

use std::sync::Arc;

use crate::config::InitOptions;
use crate::connector::{Destination, Source};
use crate::connectors::{enchant, intercom, kustomer, salesforce, zendesk};

/// Parses a connector's section of ferry.toml (without `kind`) into the
/// connector, or every problem found in it.
pub type Open<T> = fn(&toml::Table) -> std::result::Result<Arc<T>, Vec<String>>;

/// A source API: how to read its `[source]` section and write its template.
pub struct SourceKind {
    pub kind: &'static str,
    pub open: Open<dyn Source>,
    /// The commented `[source]` section `ferry init` writes.
    pub template: fn(&InitOptions) -> String,
    /// Environment variables holding its secrets, for `ferry init`'s hint.
    pub secrets: &'static [&'static str],
    /// The objects it lands, for help outside a workspace.
    pub objects: &'static [&'static str],
}

/// A destination API, likewise.
pub struct DestinationKind {
    pub kind: &'static str,
    pub open: Open<dyn Destination>,
    pub template: fn(&InitOptions) -> String,
    pub secrets: &'static [&'static str],
    /// Its load phases with default settings, for help outside a workspace.
    pub phases: &'static [crate::load::phase::Phase],
}

/// One migration route.
pub struct Route {
    /// `<source>-<destination>`, as in `route = "…"` and `--route`.
    pub name: &'static str,
    /// One line for `ferry init --help` and errors.
    pub about: &'static str,
    pub source: &'static SourceKind,
    pub destination: &'static DestinationKind,
    /// Directory of the route's SQL under `sql/routes/`.
    pub sql_dir: &'static str,
}

/// Every route, one line each.
pub const ROUTES: &[Route] = &[
    Route {
        name: "kustomer-zendesk",
        about: "Kustomer → Zendesk Support (ticket import API)",
        source: &kustomer::SOURCE,
        destination: &zendesk::DESTINATION,
        sql_dir: "kustomer_zendesk",
    },
    Route {
        name: "kustomer-enchant",
        about: "Kustomer → Enchant (API v1: agent messages as notes, 100 credits/min)",
        source: &kustomer::SOURCE,
        destination: &enchant::DESTINATION,
        sql_dir: "kustomer_enchant",
    },
    Route {
        name: "kustomer-salesforce",
        about: "Kustomer → Salesforce Service Cloud (Bulk API 2.0 and Collections upserts by external id)",
        source: &kustomer::SOURCE,
        destination: &salesforce::DESTINATION,
        sql_dir: "kustomer_salesforce",
    },
    Route {
        name: "intercom-kustomer",
        about: "Intercom → Kustomer (bulk creates by external id, importedAt, metadata declared first)",
        source: &intercom::SOURCE,
        destination: &kustomer::dest::DESTINATION,
        sql_dir: "intercom_kustomer",
    },
];

/// The route called `name`.
pub fn find(name: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.name == name)
}

/// Route names, for help and errors.
pub fn names() -> Vec<&'static str> {
    ROUTES.iter().map(|r| r.name).collect()
}

/// A route's load phases (default settings), by name.
pub fn phase_names(route: &Route) -> Vec<&'static str> {
    route.destination.phases.iter().map(|p| p.name).collect()
}

/// Every source kind with the objects it lands, each once.
pub fn source_objects() -> Vec<(&'static str, &'static [&'static str])> {
    let mut out: Vec<(&'static str, &'static [&'static str])> = Vec::new();
    for r in ROUTES {
        if !out.iter().any(|(k, _)| *k == r.source.kind) {
            out.push((r.source.kind, r.source.objects));
        }
    }
    out
}
