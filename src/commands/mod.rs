//! One file per command; `run` dispatches.

mod archive;
#[cfg(feature = "sim")]
mod bench;
mod compact;
#[cfg(feature = "sim")]
mod demo;
mod extract;
mod init;
mod load;
mod probe;
mod rollback;
mod serve;
#[cfg(feature = "sim")]
mod sim;
mod sql;
mod status;
mod transform;
mod verify;

#[cfg(feature = "sim")]
use crate::cli::BenchCommand;
use crate::cli::{Cli, Command};

/// Runs the parsed command; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Init(args) => init::run(&cli.workspace, args),
        Command::Extract(args) => extract::run(&cli.workspace, args),
        Command::Transform(args) => transform::run(&cli.workspace, args),
        Command::Load(args) => load::run(&cli.workspace, args),
        Command::Rollback(args) => rollback::run(&cli.workspace, args),
        Command::Sql(args) => sql::run(&cli.workspace, args),
        Command::Verify(args) => verify::run(&cli.workspace, args),
        Command::Archive(args) => archive::run(&cli.workspace, args),
        Command::Status(a) => status::run(&cli.workspace, a),
        Command::Serve(a) => serve::run(&cli.workspace, a),
        Command::Compact => compact::run(&cli.workspace),
        Command::Probe => probe::run(&cli.workspace),
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo::run(&cli.workspace, args),
        #[cfg(feature = "sim")]
        Command::Sim(which) => sim::run(which),
        #[cfg(feature = "sim")]
        Command::Bench(BenchCommand::Extract(args)) => bench::extract(args),
        #[cfg(feature = "sim")]
        Command::Bench(BenchCommand::Transform(args)) => bench::transform(args),
        #[cfg(feature = "sim")]
        Command::Bench(BenchCommand::Load(args)) => bench::load(args),
        #[cfg(feature = "sim")]
        Command::Bench(BenchCommand::All(args)) => bench::all(&cli.workspace, args),
        #[cfg(not(feature = "sim"))]
        Command::DemoUnavailable(_) => without_simulators("demo"),
        #[cfg(not(feature = "sim"))]
        Command::SimUnavailable(_) => without_simulators("sim"),
        #[cfg(not(feature = "sim"))]
        Command::BenchUnavailable(_) => without_simulators("bench"),
    }
}

/// What a ferry built without the simulators says when asked for them.
#[cfg(not(feature = "sim"))]
fn without_simulators(command: &str) -> anyhow::Result<i32> {
    anyhow::bail!(
        "`ferry {command}` needs the API simulators, and this ferry was built without them          (cargo feature `sim`, off with --no-default-features). Build the full binary with          `cargo build --release` (default features) to run the demo, the simulators and the benchmarks."
    )
}

/// A multi-threaded tokio runtime for commands that do I/O.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The command line as recorded in `ferry_runs` (secrets never appear on
/// ferry's command line: they come from the environment).
pub fn recorded_args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// The exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT,
/// as a shell reports it).
pub const EXIT_INTERRUPTED: i32 = 130;
