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
    // Colour codes only for a terminal: a log file, a pipe or a collector
    // gets plain text (or JSON with --log-format json).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    match cli.log_format {
        cli::LogFormat::Json => fmt.json().with_ansi(false).init(),
        cli::LogFormat::Text => fmt.init(),
    }
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) if closed_pipe(&e) => end_by_sigpipe(),
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            error::EXIT_FAILURE
        }
    };
    std::process::exit(code);
}

/// `ferry status | head` ends quietly, as Unix tools do, instead of
/// panicking ("failed printing to stdout: Broken pipe") or failing. SIGPIPE
/// stays ignored (Rust's default): restoring it for the whole process
/// killed a load whose HTTP client wrote a request with `writev` (which has
/// no MSG_NOSIGNAL) to a connection the server had just closed — an error
/// to retry, not a reason to die. Instead a write to closed stdout, as a
/// panic of `print!` or as an error, ends the process by SIGPIPE here.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            end_by_sigpipe();
        }
        default(info);
    }));
}

/// Whether a command failed only because its stdout was closed.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Ends the process the way a Unix tool ends on a closed pipe.
fn end_by_sigpipe() -> ! {
    #[cfg(unix)]
    // SAFETY: restores the default action and raises the signal at once;
    // nothing runs in between that depends on the old action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
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
