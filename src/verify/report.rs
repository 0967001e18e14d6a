//! The verify report: what `reports/verify-<run>.json` holds and the HTML
//! page renders. Field names are a contract for auditors' scripts.

use serde::Serialize;

/// One object's funnel through the pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelRow {
    pub object: String,
    pub extracted: i64,
    pub staged: i64,
    pub output: i64,
    pub loaded: i64,
    pub failed: i64,
    pub held: i64,
    pub merged: i64,
    pub archived: i64,
    pub excluded: i64,
    /// Output but never loaded: `ferry load` has not run (or not finished).
    pub pending: i64,
    /// In no bucket at all: always a failure.
    pub unaccounted: i64,
}

/// The final states a funnel row counts an extracted record in, in the
/// order reports show them.
pub const FINAL_STATES: &[&str] = &[
    "loaded",
    "failed",
    "held",
    "merged",
    "archived",
    "excluded",
    "pending",
    "unaccounted",
];

/// Records not loaded, grouped by why.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonRow {
    pub object: String,
    pub state: String,
    pub reason: String,
    pub records: i64,
}

/// Destination counts for one phase.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationCheck {
    pub phase: String,
    /// Rows in `ferry_id_map` for this phase.
    pub created_by_ferry: i64,
    /// What the destination's count endpoint reports (all records of the
    /// kind, including ones ferry did not create).
    pub destination_count: Option<u64>,
    /// Ids in `ferry_id_map` the destination no longer has.
    pub missing: Vec<String>,
}

/// One difference between what ferry sent and what the destination holds.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    pub source_id: String,
    pub dest_id: String,
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// The field-level spot check.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SampleCheck {
    pub requested: usize,
    pub tickets_checked: usize,
    pub comments_checked: usize,
    pub attachments_checked: usize,
    pub users_checked: usize,
    /// Carried field values compared (`verify_field_values`).
    pub fields_checked: usize,
    /// Destination records read back for them.
    pub field_records_checked: usize,
    /// Sampled ticket count per stratum (oldest, longest thread, status …).
    pub strata: Vec<(String, i64)>,
    /// The documented rules applied to the source records to get the
    /// expected values, (field, rule): what the comparison assumes.
    pub rules: Vec<(String, String)>,
    pub mismatches: Vec<Mismatch>,
}

/// Timing and rate-limit use of one load phase (latest run that sent it).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTiming {
    pub run_id: String,
    pub phase: String,
    pub rows: i64,
    pub created: i64,
    pub failed: i64,
    pub requests: i64,
    pub throttled: i64,
    pub seconds: f64,
    pub tier_per_minute: i64,
    /// requests per minute as a share of the tier, in percent.
    pub budget_used_pct: f64,
}

/// A rule of the source that no API can carry over.
#[derive(Debug, Clone, Serialize)]
pub struct ManualRule {
    pub kind: String,
    pub name: String,
    pub source_id: String,
    pub note: String,
}

/// A stream the source would not serve (404/403), from `ferry_unavailable`.
#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub object: String,
    pub status: i64,
    pub reason: String,
}

/// A source record ferry could only read in part (e.g. a message whose
/// full body was not readable: its comment carries the preview).
#[derive(Debug, Clone, Serialize)]
pub struct Incomplete {
    pub object: String,
    pub source_id: String,
    pub reason: String,
}

/// Changes to records loaded earlier (a cutover's delta), by outcome:
/// each record's latest entry in `ferry_changes`, and `pending` for the
/// changes found now that no load has carried yet.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeCount {
    pub phase: String,
    /// changed | deleted
    pub kind: String,
    /// update | tag | delete | leave | skip_closed | wait | (pending: the call it needs)
    pub action: String,
    /// applied | not_applied | failed | held | pending
    pub status: String,
    pub records: i64,
    /// One reason given, for not_applied, failed and held.
    pub detail: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: String,
    pub created_at: String,
    pub ferry_version: String,
    pub workspace: String,
    pub route: String,
    /// True when every record is accounted for, nothing is missing on the
    /// destination and the sample matched.
    pub ok: bool,
    pub problems: Vec<String>,
    pub funnel: Vec<FunnelRow>,
    pub reasons: Vec<ReasonRow>,
    pub destination: Vec<DestinationCheck>,
    pub sample: SampleCheck,
    pub phases: Vec<PhaseTiming>,
    pub manual_rules: Vec<ManualRule>,
    /// Streams the source would not serve, with why.
    pub unavailable: Vec<Unavailable>,
    /// How many records are incomplete, and the first of them.
    pub incomplete_total: i64,
    pub incomplete: Vec<Incomplete>,
    /// Every change a delta load found, by what became of it.
    pub changes: Vec<ChangeCount>,
    /// Every attribute path of the source records and what became of it.
    pub fields: super::fields::FieldLedger,
}

impl Report {
    /// Totals across objects: (extracted, loaded, failed, held, unaccounted + pending).
    pub fn totals(&self) -> (i64, i64, i64, i64, i64) {
        self.funnel.iter().fold((0, 0, 0, 0, 0), |t, f| {
            (
                t.0 + f.extracted,
                t.1 + f.loaded,
                t.2 + f.failed,
                t.3 + f.held,
                t.4 + f.unaccounted + f.pending,
            )
        })
    }
}
