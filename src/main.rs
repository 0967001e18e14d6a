//! ferry: migrate a helpdesk's whole history between platforms, every step
//! open to SQL. This file is the binary's edge: parse the command line, set
//! up logging, run the command, turn errors into one clear line and an exit
//! code.

use clap::Parser;
use ferry::{cli, commands, error};
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = cli::Cli::parse();
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| {
        // Dependencies stay quiet below debug: their logs could carry
        // request details ferry does not control.
        EnvFilter::new(format!("ferry={default_level},warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            error::EXIT_FAILURE
        }
    };
    std::process::exit(code);
}

/// The error and its causes on one line.
fn error_line(e: &anyhow::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}
