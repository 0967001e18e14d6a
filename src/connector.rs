//! The two traits a connector implements. The engine (extract driver,
//! transform, load engine, verify, archive, status) talks to a source and
//! a destination only through them, so a new route is a connector
//! directory, a SQL directory and one line in `routes`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use serde_json::Value;

use crate::config::ExtractConfig;
use crate::error::Result;
use crate::extract::{ExtractOptions, StreamSummary};
use crate::http::ApiClient;
use crate::load::changes::{Applied, ChangeResult, ChangeRow};
use crate::load::phase::Phase;
use crate::load::{LoadCtx, LoadSql, Row, RowResult};
use crate::verify::report::{DestinationCheck, SampleCheck};

/// `(source_id, dest_id)` pairs found on the destination.
pub type Matches = Vec<(String, String)>;

/// A boxed future: the traits are used as trait objects.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one extract pass gets from the driver.
pub struct ExtractRun {
    pub ws: PathBuf,
    pub run_id: String,
    pub client: Arc<ApiClient>,
    pub db: Arc<Mutex<Connection>>,
    pub cfg: ExtractConfig,
    pub opts: ExtractOptions,
}

/// A rule kind the source holds that no destination imports (workflows,
/// SLAs, shortcuts…): verify lists every one by name to rebuild by hand.
#[derive(Debug, Clone, Copy)]
pub struct ManualRuleKind {
    /// Raw object it is landed as.
    pub object: &'static str,
    /// What it is called, singular ("workflow").
    pub kind: &'static str,
    /// SQL over the raw `json` column giving the rule's name.
    pub name_sql: &'static str,
    /// SQL over the raw `json` column: true for a rule still in use.
    pub live_sql: &'static str,
}

/// How an assumption checked by `ferry probe` came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeOutcome {
    /// The account behaves as ferry assumes.
    Ok,
    /// It works, but something deserves a look before a long run.
    Warn,
    /// The migration would go wrong: fix this first.
    Fail,
    /// No read-only request can settle it; the detail says what to check by hand.
    Unknown,
}

/// One assumption about the user's real account, checked read-only.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeCheck {
    /// Short name ("rate tier", "custom objects").
    pub check: String,
    pub outcome: ProbeOutcome,
    /// What was seen, and what to do about it.
    pub detail: String,
    /// A `fail` here would lose data: `ferry extract` refuses a full pass
    /// over it unless `--accept-refuted`.
    pub loses_data: bool,
}

impl ProbeCheck {
    pub fn new(check: &str, outcome: ProbeOutcome, detail: impl Into<String>) -> ProbeCheck {
        ProbeCheck {
            check: check.to_string(),
            outcome,
            detail: detail.into(),
            loses_data: false,
        }
    }

    /// Marks the check as one whose failure loses data.
    pub fn losing_data(mut self) -> ProbeCheck {
        self.loses_data = true;
        self
    }
}

/// An API ferry reads a helpdesk from.
pub trait Source: Send + Sync {
    /// `[source] kind` in ferry.toml, the directory under `raw/`, and the
    /// middle of the raw view names (`raw_<kind>_<object>`).
    fn kind(&self) -> &'static str;
    /// The base URL from ferry.toml, for messages.
    fn base_url(&self) -> &str;
    /// Every object landed, in the order `ferry extract` reports them.
    fn objects(&self) -> &'static [&'static str];
    /// Rule kinds to rebuild by hand.
    fn manual_rules(&self) -> &'static [ManualRuleKind];
    /// The rate-limited client; reads its secret from the environment.
    fn client(&self) -> Result<ApiClient>;
    /// One request before a long run: the host answers, the key is accepted.
    fn check<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<()>>;
    /// One extract pass over the selected streams (full, resumed or delta).
    fn extract(&self, run: ExtractRun) -> BoxFut<'static, Result<Vec<StreamSummary>>>;
    /// Problems with the `[extract]` section for this API (page sizes…).
    fn extract_problems(&self, _cfg: &ExtractConfig) -> Vec<String> {
        Vec::new()
    }
    /// `ferry probe`: read-only checks of what the connector assumes about
    /// the account and no document settles.
    fn probe<'a>(
        &'a self,
        _client: &'a ApiClient,
        _cfg: &'a ExtractConfig,
    ) -> BoxFut<'a, Vec<ProbeCheck>> {
        Box::pin(async { Vec::new() })
    }
    /// SQL over the staged tables giving (object, source_id, reason) of
    /// records read only in part; `ferry verify` lists them.
    fn incomplete_sql(&self) -> Option<&'static str> {
        None
    }
}

/// How the load engine sizes its work for a destination.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    /// The plan's request budget per minute.
    pub per_minute: u32,
    /// DuckDB memory limit while loading.
    pub memory_limit: String,
    /// `SET VARIABLE name = value` pairs the route's load SQL reads
    /// (destination settings such as `missing_files`), value as SQL.
    pub variables: Vec<(String, String)>,
    /// Seconds a file token stays usable, when the destination's uploads
    /// expire: windowed phases are cut so uploads are used in time.
    pub upload_token_secs: Option<f64>,
}

/// What to roll back.
#[derive(Debug, Clone)]
pub enum RollbackScope {
    Batch(String),
    Run(String),
    All,
}

impl RollbackScope {
    /// The scope as a filter on `ferry_id_map` (batch ids start with
    /// their run's id) and its parameter: always exactly one, so every
    /// query binds the same way (`--all` binds an empty string to a
    /// condition that is always true).
    pub fn filter(&self) -> (&'static str, &str) {
        match self {
            RollbackScope::Batch(b) => ("batch_id = ?", b),
            RollbackScope::Run(r) => ("batch_id LIKE ? || '-%'", r),
            RollbackScope::All => ("? = ''", ""),
        }
    }
}

/// An API ferry writes a helpdesk into.
pub trait Destination: Send + Sync {
    /// `[destination] kind` in ferry.toml and `ferry_id_map.dest`.
    fn kind(&self) -> &'static str;
    /// The base URL from ferry.toml, for messages.
    fn base_url(&self) -> &str;
    /// The load phases in dependency order.
    fn phases(&self) -> &'static [Phase];
    /// The rate-limited client; reads its secrets from the environment.
    fn client(&self) -> Result<ApiClient>;
    /// Budget, memory and SQL variables of a load.
    fn load_settings(&self) -> LoadSettings;
    /// Dry-run content rules of the API for one payload (what a request
    /// would be refused for), checked locally; `path_arg` is the row's
    /// (the object a Salesforce custom record goes to).
    fn validate(
        &self,
        phase: &Phase,
        payload: &Value,
        path_arg: Option<&str>,
    ) -> std::result::Result<(), String>;
    /// Sends one batch of a phase; one result per row, in row order.
    fn send<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [Row],
    ) -> BoxFut<'a, Result<Vec<RowResult>>>;
    /// Finds the records of an in-doubt batch (sent, answer lost) by
    /// external id: `(source_id, dest_id)` of those that exist. `None`
    /// when the phase has no lookup (its rows are resent).
    fn reconcile<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        items: &'a [(String, String)],
    ) -> BoxFut<'a, Result<Option<Matches>>>;
    /// Applies changes to records loaded earlier (`Phase::changes`): one
    /// outcome per row, in row order. A destination that cannot update a
    /// record says so (`Applied::not_applied`), never drops it silently.
    fn send_changes<'a>(
        &'a self,
        _cx: &'a LoadCtx,
        _phase: &'static Phase,
        rows: &'a [ChangeRow],
    ) -> BoxFut<'a, Result<Vec<ChangeResult>>> {
        let n = rows.len();
        Box::pin(async move {
            Ok(vec![
                Ok(Applied::not_applied(
                    "leave",
                    "this destination does not apply changes"
                ));
                n
            ])
        })
    }
    /// What a record deleted in the source gets, for `--dry-run`.
    fn deletion_action(&self, _phase: &Phase) -> String {
        "leave".into()
    }
    /// Settings of the destination account worth a warning before a load
    /// (GETs only; they do not block).
    fn preflight<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<Vec<String>>>;
    /// Batches of `phase` the loader keeps in flight: the phase's own
    /// figure, unless the account sets the limit (Zendesk's job limit,
    /// less the headroom its settings leave other integrations).
    fn in_flight(&self, phase: &Phase) -> usize {
        phase.batching().1
    }
    /// Minutes the destination's job queue needs for `rows` rows of
    /// `phase`, however fast ferry sends them (`--dry-run`'s estimate);
    /// 0 where requests are answered when made.
    fn queue_minutes(&self, _phase: &Phase, _rows: u64) -> f64 {
        0.0
    }
    /// Whether a dry run should show [`Destination::plan_existing`] for
    /// this phase's rows (records the account may hold already).
    fn plans_existing(&self, _phase: &Phase) -> bool {
        false
    }
    /// For `--dry-run`: what the account already holds of `rows` (people
    /// matched by email or external id, what differs), one line each
    /// finding. GETs only.
    fn plan_existing<'a>(
        &'a self,
        _client: &'a ApiClient,
        _phase: &'static Phase,
        _rows: &'a [crate::load::Row],
    ) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Notes printed after a load (e.g. files left out), from the database.
    fn after_load(&self, _conn: &Connection) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Deletes what the scope created, in reverse dependency order.
    fn rollback(
        &self,
        client: Arc<ApiClient>,
        db: Arc<Mutex<Connection>>,
        scope: RollbackScope,
    ) -> BoxFut<'static, Result<Vec<(String, usize)>>>;
    /// Verify's read-back: every created id exists, counts, and a sample
    /// compared field by field with the source records.
    fn verify<'a>(
        &'a self,
        db: &'a Mutex<Connection>,
        client: &'a ApiClient,
        tmp: &'a std::path::Path,
        sample: usize,
        sql: &'a LoadSql,
    ) -> BoxFut<'a, Result<(Vec<DestinationCheck>, SampleCheck)>>;
    /// Verify's content comparison (`verify::content`): the records of
    /// `object` (as the route's `verify/fields.sql` names it) with these
    /// ids, as (id, record) pairs holding at least `paths`. A record the
    /// destination does not have is left out. GETs only.
    fn read_records<'a>(
        &'a self,
        client: &'a ApiClient,
        object: &'a str,
        ids: &'a [String],
        paths: &'a [String],
    ) -> BoxFut<'a, Result<Vec<(String, serde_json::Value)>>>;
    /// `ferry probe`: read-only checks of the destination account (plan,
    /// features, settings ferry relies on). GETs only.
    fn probe<'a>(&'a self, _client: &'a ApiClient) -> BoxFut<'a, Vec<ProbeCheck>> {
        Box::pin(async { Vec::new() })
    }
    /// How a source rule kind is rebuilt here ("as a Zendesk macro").
    fn rebuild_hint(&self, rule_kind: &str) -> String {
        format!("rebuild this {rule_kind} by hand in the destination")
    }
}
