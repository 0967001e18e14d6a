//! ferry: migrate a helpdesk's whole history between platforms, every step
//! open to SQL. This file is the binary's edge: parse the command line, set
//! up logging, run the command, turn errors into one clear line and an exit
//! code.

use clap::Parser;
use ferry::{cli, commands, error};
use tracing_subscriber::EnvFilter;

fn main() {
    quiet_on_closed_pipe();
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

/// `ferry status | head` ends quietly, as Unix tools do, instead of
/// panicking ("failed printing to stdout: Broken pipe") or failing: Rust
/// ignores SIGPIPE, so a write to a closed pipe is an error; restoring the
/// default ends the process there. Sockets are unaffected: the standard
/// library (which tokio's sockets write through) sends with MSG_NOSIGNAL.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: at the start of main, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
