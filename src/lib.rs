//! ferry: migrate a helpdesk's whole history between platforms, every step
//! open to SQL.
//!
//! The pipeline reads top to bottom: `extract` (a [`connector::Source`]
//! lands raw JSON as Parquet, `land`), `transform` (versioned DuckDB SQL of
//! the route), `load` (the generic engine sends the route's output tables
//! to a [`connector::Destination`]), `verify` and `archive`. A route is a
//! source, a destination and a SQL directory, registered in `routes`; the
//! engine names no concrete API. Simulators live in `sim` (feature `sim`).

pub mod archive;
pub mod chaos;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connector;
pub mod connectors;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod fsutil;
pub mod http;
pub mod land;
pub mod live;
pub mod load;
pub mod meta;
pub mod routes;
pub mod runs;
#[cfg(feature = "sim")]
pub mod sim;
pub mod stop;
pub mod tabular;
pub mod text_table;
pub mod transform;
pub mod verify;
pub mod views;
pub mod workspace;
