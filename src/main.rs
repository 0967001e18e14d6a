//! ferry: migrate a helpdesk's whole history between platforms, every step
//! open to SQL. This file is the binary's edge: parse the command line, set
//! up logging, run the command, turn errors into one clear line and an exit
//! code.

use clap::{CommandFactory, FromArgMatches};
use ferry::{cli, commands, error};
use tracing_subscriber::EnvFilter;

fn main() {
    quiet_on_closed_pipe();
    let cli = cli::Cli::from_arg_matches(&route_aware_help(cli::Cli::command()).get_matches())
        .unwrap_or_else(|e| e.exit());
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

/// `ferry load --help` and `ferry extract --help` in a workspace list its
/// route's own phases and objects under `--only` (outside one, every
/// route's), so the help never shows another route's names as if they were
/// this one's.
fn route_aware_help(cmd: clap::Command) -> clap::Command {
    let args: Vec<String> = std::env::args().collect();
    if !args
        .iter()
        .any(|a| a == "-h" || a == "--help" || a == "help")
    {
        return cmd;
    }
    let dir = args
        .iter()
        .position(|a| a == "-C" || a == "--workspace")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--workspace=").map(str::to_string))
        })
        .or_else(|| std::env::var("FERRY_WORKSPACE").ok())
        .unwrap_or_else(|| ".".into());
    let names = |list: &[&str]| list.join(", ");
    let (phases, objects) = match ferry::config::Config::load(std::path::Path::new(&dir)) {
        Ok(cfg) => (
            format!(
                "this workspace's route ({}): {}",
                cfg.route,
                names(
                    &cfg.destination
                        .phases()
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                )
            ),
            format!(
                "this workspace's source ({}): {}",
                cfg.source.kind(),
                names(cfg.source.objects())
            ),
        ),
        Err(_) => (
            ferry::routes::ROUTES
                .iter()
                .map(|r| format!("{}: {}", r.name, names(&ferry::routes::phase_names(r))))
                .collect::<Vec<_>>()
                .join("; "),
            ferry::routes::source_objects()
                .iter()
                .map(|(kind, objects)| format!("{kind}: {}", names(objects)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
    };
    cmd.mut_subcommand("load", |s| {
        s.mut_arg("only", |a| {
            a.help(format!(
                "Only these phases, comma-separated, in load order; an unknown name is refused. Phases of {phases}"
            ))
        })
    })
    .mut_subcommand("extract", |s| {
        s.mut_arg("only", |a| {
            a.help(format!(
                "Only these objects, comma-separated; an unknown name is refused. Objects of {objects}"
            ))
        })
    })
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
