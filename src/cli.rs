//! Every command, flag and its help text, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// ferry moves a helpdesk's whole history from one platform to another,
/// keeping every step open to SQL.
///
/// A migration lives in one workspace directory: `ferry.toml` (settings,
/// names of secret env vars), `ferry.duckdb` (all state, query it with SQL),
/// `raw/` (landed Parquet), `attachments/`, `exports/`, `reports/`.
///
/// New here? `ferry demo` runs the whole pipeline on simulated APIs in one command.
///
/// A migration: ferry init → extract → transform → probe → load --dry-run → load → verify →
/// archive; at cutover extract, transform, load and verify again (only what changed goes).
/// `ferry status` says where things stand and what to run next; `ferry sql` answers the rest.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Workspace directory (holds ferry.toml and ferry.duckdb).
    #[arg(
        short = 'C',
        long = "workspace",
        global = true,
        env = "FERRY_WORKSPACE",
        default_value = "."
    )]
    pub workspace: PathBuf,

    /// More log output on stderr (-v info, -vv debug). Auth headers are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log lines on stderr as plain text or one JSON object a line (for a log collector). Neither
    /// has colour codes when stderr is not a terminal.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "FERRY_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace: a commented ferry.toml and ferry.duckdb with the meta tables.
    Init(InitArgs),
    /// Pull every object from the source API into raw/ as Parquet (resumable, incremental).
    Extract(ExtractArgs),
    /// Run the route's versioned SQL transforms (raw_* → stg_* → out_<destination>_*) and their
    /// checks.
    Transform(TransformArgs),
    /// Send the route's output tables to the destination in dependency order, recording every id.
    Load(LoadArgs),
    /// Delete from the destination what a batch, a run or the whole migration created (by
    /// ferry_id_map).
    Rollback(RollbackArgs),
    /// Export tables, queries or the built-in archive/excluded sets to exports/<name>/ with a
    /// manifest and SHA256SUMS; or re-check an export with --verify DIR.
    Archive(ArchiveArgs),
    /// One screen: workspace, route, last runs, per-object counts, open errors, what to run next.
    /// While another ferry process holds the workspace (a load running), the live state it
    /// publishes (state/live.json): per phase done, to do, failed, held, rate, ETA; the run
    /// overall.
    Status(StatusArgs),
    /// A local dashboard of the running (or last) command on 127.0.0.1: per phase progress, records
    /// and requests over time, budget use and 429s, failures and holds with their reasons, the ETA,
    /// the last verify funnel. Reads only what runs publish (state/live.json, reports/), so it
    /// works while a load holds the workspace; the page refreshes itself.
    Serve(ServeArgs),
    /// Check, read-only, what ferry assumes about the real source and destination accounts and no
    /// document settles (auth and role, rate tier, features, settings that alter imports); prints
    /// one line per check and writes reports/probe-<run>.json. Exit 3 when a check fails.
    Probe,
    /// Account for every source record, read the destination back, spot-check a sample field by
    /// field; writes reports/verify-<run>.json and .html. Exit 3 when anything is unaccounted.
    Verify(VerifyArgs),
    /// Run a SQL query against ferry.duckdb (read-only), or `ferry sql eject`.
    Sql(SqlArgs),
    /// Rewrite ferry.duckdb without the space earlier transforms and verifies freed (DuckDB
    /// reuses freed blocks but never shrinks its file); prints the size before and after.
    Compact,
    /// The whole pipeline on simulated APIs, in one command: starts the route's seeded source and
    /// destination simulators in-process, then init → extract → transform → load → verify into a
    /// new workspace.
    #[cfg(feature = "sim")]
    Demo(DemoArgs),
    /// Serve a local, seeded fake of an API for tests, demos and benchmarks.
    #[cfg(feature = "sim")]
    #[command(subcommand)]
    Sim(crate::sim::cli::SimCommand),
    /// Measure extraction speed and rate-budget use against the simulator.
    #[cfg(feature = "sim")]
    #[command(subcommand)]
    Bench(BenchCommand),
    /// `demo`, `sim` and `bench` in a ferry built without the simulators
    /// (`--no-default-features`): they answer with how to get them, not
    /// with "unrecognized subcommand".
    #[cfg(not(feature = "sim"))]
    #[command(name = "demo", hide = true, disable_help_flag = true)]
    DemoUnavailable(Unavailable),
    #[cfg(not(feature = "sim"))]
    #[command(name = "sim", hide = true, disable_help_flag = true)]
    SimUnavailable(Unavailable),
    #[cfg(not(feature = "sim"))]
    #[command(name = "bench", hide = true, disable_help_flag = true)]
    BenchUnavailable(Unavailable),
}

/// Whatever follows a command this build does not have.
#[cfg(not(feature = "sim"))]
#[derive(Debug, Args)]
pub struct Unavailable {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

/// The formats an archive is written in (every `tabular` format but the
/// terminal table).
fn archive_format() -> impl clap::builder::TypedValueParser<Value = crate::tabular::Format> {
    use clap::builder::TypedValueParser;
    use clap::ValueEnum;
    clap::builder::PossibleValuesParser::new(["parquet", "csv", "jsonl", "json"])
        .map(|s| crate::tabular::Format::from_str(&s, true).expect("a listed format"))
}

/// The routes of the registry, for `--route`.
fn route_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::routes::ROUTES
            .iter()
            .map(|r| clap::builder::PossibleValue::new(r.name).help(r.about)),
    )
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the workspace in (default: -C/--workspace, else the current directory).
    pub dir: Option<PathBuf>,
    /// Migration route (default: the first listed).
    #[arg(long, value_parser = route_names())]
    pub route: Option<String>,
    /// Source API base URL (default: the source's public API host). A simulator (`ferry sim …`)
    /// or a sandbox works too.
    #[arg(long)]
    pub source_url: Option<String>,
    /// Destination API base URL (default: a placeholder to edit).
    #[arg(long)]
    pub dest_url: Option<String>,
    /// The source plan's org-wide rate limit per minute (e.g. Kustomer: 300, 500, 1000, 2000).
    #[arg(long)]
    pub rate_limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Only these objects of the workspace's source, comma-separated (`--help` in a workspace
    /// lists its source's); an unknown name is refused with the source's own list.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Delta pass: land records updated at or after this instant (YYYY-MM-DD or RFC 3339, UTC).
    /// Without it, a stream that completed before continues from its high-water mark.
    #[arg(long, conflicts_with = "full")]
    pub since: Option<String>,
    /// Ignore stored cursors and high-water marks; extract everything again.
    #[arg(long)]
    pub full: bool,
    /// No progress bars (they are also off when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Run a full pass although the newest `ferry probe` report refuted an
    /// assumption whose failure loses data (e.g. where message bodies live).
    #[arg(long)]
    pub accept_refuted: bool,
}

#[derive(Debug, Args)]
pub struct TransformArgs {
    /// Show which scripts changed since their last run and what would rerun; run nothing.
    #[arg(long)]
    pub plan: bool,
    /// Rerun every script, changed or not.
    #[arg(long)]
    pub rebuild: bool,
}

/// `ferry status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Refresh every 2 seconds until the running command ends (Ctrl-C to stop watching).
    #[arg(long)]
    pub watch: bool,
}

/// `ferry serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free one; the URL is printed).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Only these phases of the workspace's route, comma-separated, in load order (`ferry status`
    /// lists them); an unknown name is refused with the route's own list.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Build and check every payload and print what each phase would send; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also resend rows that failed before (ferry_load_errors), e.g. after fixing data or mappings.
    #[arg(long)]
    pub retry: bool,
    /// Pilot load: N representative conversations (oldest, newest, longest, with attachments,
    /// each status, a split one) with exactly the users, organizations and uploads they need.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Order of tickets: `open-first` sends new/open/pending/hold tickets before the closed history,
    /// so agents can go live while the back-fill runs.
    #[arg(long, value_parser = ["source", "open-first"], default_value = "source")]
    pub order: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["table", "query", "set", "verify"])))]
pub struct ArchiveArgs {
    /// Export this table or view (e.g. stg_conversations, out_zendesk_tickets, ferry_id_map).
    #[arg(long)]
    pub table: Option<String>,
    /// Export the result of this query (needs --name).
    #[arg(long)]
    pub query: Option<String>,
    /// A built-in set, made from `ferry_accounting`: `archive` (every record the transform
    /// bucketed `archived`, e.g. old conversations with their messages, notes and attachments,
    /// Intercom Help Center articles and contact notes) or `excluded` (every record bucketed
    /// `excluded`), each whole from the table `archive_datasets` names for its object, with
    /// `ferry_reason`; plus the route's `archive/<set>/*.sql` datasets (e.g. trimmed records).
    #[arg(long, value_parser = ["archive", "excluded"])]
    pub set: Option<String>,
    /// Re-check an export directory: checksums, no extra or missing file, row counts.
    #[arg(long, value_name = "DIR")]
    pub verify: Option<PathBuf>,
    /// Export directory name under exports/ (default: the table or set name).
    #[arg(long)]
    pub name: Option<String>,
    /// File format of the datasets: parquet, csv, jsonl or json.
    #[arg(long, default_value = "parquet", value_parser = archive_format())]
    pub format: crate::tabular::Format,
    /// Also copy the attachment bytes of exported rows that have a sha256 column.
    #[arg(long)]
    pub attachments: bool,
    /// Replace an existing export of the same name.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory of the demo workspace (must not exist yet or be empty). Default: ./ferry-demo,
    /// or -C/--workspace when given.
    pub dir: Option<PathBuf>,
    /// Size of the simulated source: Kustomer customers or Intercom contacts (each brings
    /// conversations, messages, notes, attachments).
    #[arg(long, default_value_t = 300)]
    pub scale: u32,
    /// Seed of the simulated data.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Leave both simulators running after the demo (until Ctrl-C) to poke at them.
    #[arg(long)]
    pub keep_sims: bool,
    /// The route to demonstrate (default: the first listed).
    #[arg(long, value_parser = route_names())]
    pub route: Option<String>,
    /// No progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Tickets to read back and compare field by field (stratified: oldest, newest, longest
    /// threads, with attachments, split conversations, each status, then random).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub sample: usize,
    /// Only the funnel (SQL): no request to the destination.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["batch", "run", "all"])))]
pub struct RollbackArgs {
    /// A batch id from ferry_batches.
    #[arg(long)]
    pub batch: Option<String>,
    /// A run id from ferry_runs (every batch that load run sent).
    #[arg(long)]
    pub run: Option<String>,
    /// Everything ferry created in the destination.
    #[arg(long)]
    pub all: bool,
    /// Delete without asking (for scripts; without it ferry shows what it
    /// will delete and asks on the terminal, and refuses when there is none).
    #[arg(long)]
    pub yes: bool,
    /// Show what would be deleted, per phase, and delete nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SqlArgs {
    #[command(subcommand)]
    pub action: Option<SqlAction>,
    /// The query; read from `-f FILE` or stdin when omitted (on a terminal: an interactive prompt).
    pub query: Option<String>,
    /// Read the query from this file.
    #[arg(short = 'f', long = "file", conflicts_with = "query")]
    pub file: Option<PathBuf>,
    /// Output format (parquet needs -o).
    #[arg(long, value_enum, default_value = "table")]
    pub format: crate::tabular::Format,
    /// Write the result to this file instead of stdout (atomically).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Table format: rows shown (the rest are counted); 0 shows all.
    #[arg(long, default_value_t = 40)]
    pub max_rows: usize,
    /// Table format: characters per cell before it is cut with `…`; 0 keeps whole cells.
    #[arg(long, default_value_t = 40)]
    pub max_width: usize,
    /// Open ferry.duckdb read-write (for CREATE VIEW and the like). Needs the workspace lock:
    /// refused while another ferry command runs.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Subcommand)]
pub enum SqlAction {
    /// Copy built-in SQL files (transform scripts, seeds, checks, load/ payload queries,
    /// verify/ queries) to sql/<route>/ for editing; a workspace copy wins over its built-in
    /// file, every other file stays built-in. Existing copies are never overwritten.
    Eject {
        /// Only these files (paths as listed by `ferry transform --plan`, e.g.
        /// 013_int_comment_source.sql, seeds/status_map.csv, load/tickets.sql); default: all.
        files: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Extraction against an in-process simulator: budget use at a rate tier, then raw speed.
    Extract(BenchExtractArgs),
    /// `ferry transform --rebuild` on a generated org: rows/s per script, total time, peak RSS.
    Transform(BenchTransformArgs),
    /// `ferry load` of a generated org into a destination simulator at its
    /// budget: % of the budget used, records/min, 429s, peak RSS; for Enchant
    /// also requests against the API's minimum and the dry run's ETA.
    Load(BenchLoadArgs),
    /// All three stages in one go, with 1× and 10× scaling; prints a table and writes
    /// reports/bench-<date>.json (under -C, default the current directory).
    All(BenchAllArgs),
}

#[derive(Debug, Args)]
pub struct BenchAllArgs {
    /// Small sizes (a few minutes in all) instead of the full ones (about an hour).
    #[arg(long)]
    pub quick: bool,
}

#[derive(Debug, Args)]
pub struct BenchLoadArgs {
    /// The route whose destination is measured (default: the first
    /// route `ferry init --help` lists): its bulk jobs at a plan tier, or
    /// one request per record in credit windows.
    #[arg(long)]
    pub route: Option<String>,
    /// Customers in the generated org (≈2 conversations and ≈20 messages
    /// each); default 10,000 for Zendesk, 20 for Enchant (≈25 credits each),
    /// 2,000 for Salesforce; for Intercom → Kustomer, Intercom contacts
    /// (≈1.5 conversations each), default 2,000.
    #[arg(long)]
    pub customers: Option<u32>,
    /// The destination's budget per minute: Zendesk's plan tier in
    /// requests (default 700), Enchant's credits (default 100), Kustomer's
    /// org-wide requests (default 1,000).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Enchant only: requests per second the simulator allows (its burst).
    #[arg(long, default_value_t = 6)]
    pub burst: u32,
    /// Enchant only: keep the org's bulk-imported 5,050-message thread
    /// (one request per message: ~51 minutes of it at 100 credits/min).
    #[arg(long)]
    pub giant: bool,
    /// Zendesk only: how long each bulk job runs, in seconds; one load
    /// per duration, each beside its ceiling.
    #[arg(long, value_delimiter = ',', default_value = "1,10,60")]
    pub job_seconds: Vec<f64>,
}

#[derive(Debug, Args)]
pub struct BenchTransformArgs {
    /// Customers in the generated org (≈2 conversations and ≈20 messages each).
    #[arg(long, default_value_t = 50_000)]
    pub customers: u32,
    /// Also run at this many customers, to compare time and memory growth.
    #[arg(long)]
    pub scale_customers: Option<u32>,
    /// `[transform] memory_limit` for the runs (default: ferry's default).
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Keep the generated workspaces (their paths are printed) to query
    /// or re-run them afterwards; by default they are deleted.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct BenchExtractArgs {
    /// Customers in the simulated org for the raw-speed run (≈2 conversations and ≈20 messages each).
    #[arg(long, default_value_t = 50_000)]
    pub customers: u32,
    /// Rate tier for the budget run (requests/minute).
    #[arg(long, default_value_t = 1000)]
    pub rate_limit: u32,
    /// Minimum length of the budget run, in seconds.
    #[arg(long, default_value_t = 120)]
    pub budget_seconds: u64,
    /// Skip the budget run.
    #[arg(long)]
    pub skip_budget: bool,
    /// Skip the raw-speed run.
    #[arg(long)]
    pub skip_speed: bool,
    /// Also run the speed test at this many customers to compare memory (scaling check).
    #[arg(long)]
    pub scale_customers: Option<u32>,
    /// Network latency the simulator adds per request for the budget run,
    /// comma-separated for one run each (e.g. `0,100,300`: real Kustomer
    /// answers in 100-300 ms).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub latency_ms: Vec<u64>,
    /// Customers in the budget run's org (default: sized from the tier and
    /// --budget-seconds).
    #[arg(long)]
    pub budget_customers: Option<u32>,
}
