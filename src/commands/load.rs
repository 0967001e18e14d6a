//! `ferry load`

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::cli::LoadArgs;
use crate::error::FerryError;
use crate::load::{self, dry_run, LoadCtx, LoadSql, Vars};
use crate::transform::plan::StepState;
use crate::transform::scripts::ScriptSet;
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: LoadArgs) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let dest = ws.config.destination.clone();
    let settings = dest.load_settings();
    let conn = ws.connect()?;
    crate::transform::configure(&conn, &ws.dir, &settings.memory_limit, 2)?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let phases = load::selected(dest.phases(), &args.only)?;
    // Loading half-transformed tables would send a mix of old and new rows.
    let set = ScriptSet::load(&ws.dir, ws.config.route_def)?;
    let plan = crate::transform::plan::plan(&conn, &set, false)?;
    if plan
        .steps
        .iter()
        .any(|(s, _)| matches!(s, StepState::Dirty | StepState::New))
    {
        anyhow::bail!(
            "the transform has not finished ({}): run `ferry transform` first",
            plan.reasons.join("; ")
        );
    }
    if plan.rerun_from.is_some() {
        eprintln!(
            "warning: the transform is stale ({}); this load sends the tables as they are. Run `ferry transform` to include the changes.",
            plan.reasons.join("; ")
        );
    }
    let sql = Arc::new(set.load_sql());
    let vars = Vars {
        dest: dest.kind(),
        retry: args.retry,
        open_first: args.order == "open-first",
        sample: args.sample.is_some(),
        upload_token_secs: settings.upload_token_secs,
        extra: settings.variables.clone(),
        loaded: false,
        dry_projection: false,
    };
    if let Some(n) = args.sample {
        let picked = build_sample(&conn, &sql, &vars, n)?;
        println!("Pilot: {picked} (table load_sample).");
    }
    if args.dry_run {
        let rate = settings.per_minute;
        println!(
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}  first problems",
            "phase", "new", "held", "changed", "deleted", "requests"
        );
        // With credentials at hand, first read the destination's settings
        // (GETs only): a destination may check payloads against them
        // (Salesforce's restricted picklists).
        let client = dest.client().ok();
        if let Some(client) = &client {
            if let Err(e) = print_warnings(dest.as_ref(), client) {
                eprintln!("warning: could not read the destination's settings: {e:#}");
            }
        }
        let mut total = 0;
        // Pre-flight may have settled a variable (Salesforce: whether
        // original times go into the audit fields).
        let dry_vars = Vars {
            retry: false,
            open_first: false,
            sample: false,
            extra: dest.load_settings().variables,
            ..vars.clone()
        };
        // Minutes: each phase takes its requests at the budget, or as long
        // as the destination's queue needs to run its jobs, whichever is
        // longer (Zendesk: a few jobs at a time, each taking a while).
        let mut minutes = 0.0;
        for p in dry_run::dry_run(&conn, &sql, &dry_vars, dest.as_ref(), &phases)? {
            total += p.requests;
            let by_budget = p.requests as f64 / rate.max(1) as f64;
            let by_queue = phases
                .iter()
                .find(|ph| ph.name == p.phase)
                .map_or(0.0, |ph| dest.queue_minutes(ph, p.rows + p.changed));
            minutes += by_budget.max(by_queue);
            println!(
                "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
                p.phase,
                p.rows,
                p.held,
                p.changed,
                p.deleted,
                p.requests,
                p.problems.join("; ")
            );
            if !p.calls.is_empty() {
                println!("{:<22} calls: {}", "", p.calls.join(" · "));
            }
        }
        println!(
            "≈{total} requests; at {rate}/min and with the destination's job queue that is {}. Nothing was sent.",
            duration_words(minutes)
        );
        plan_existing(
            &conn,
            &sql,
            &dry_vars,
            dest.as_ref(),
            client.as_ref(),
            &phases,
        )?;
        println!("(Each phase counts what the earlier ones would create; rows still held wait on something this load cannot create.)");
        return Ok(0);
    }
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "load", &super::recorded_args())?;
    record_load_sql(&conn, &sql, &run_id)?;
    let db = Arc::new(Mutex::new(conn));
    let outcome = (|| -> anyhow::Result<Vec<load::PhaseSummary>> {
        let client = Arc::new(dest.client()?);
        print_warnings(dest.as_ref(), &client)?;
        let mut vars = vars;
        vars.extra = dest.load_settings().variables;
        let rt = super::runtime()?;
        // Ctrl-C / SIGTERM: stop taking new batches, record the ones in
        // flight (crate::stop).
        rt.spawn(crate::stop::listen(crate::stop::LOAD));
        println!(
            "{:<22} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9} {:>6} {:>8}",
            "phase",
            "rows",
            "created",
            "failed",
            "held",
            "reconciled",
            "requests",
            "429s",
            "seconds"
        );
        let ctx = Arc::new(LoadCtx {
            ws: ws.dir.clone(),
            run_id: run_id.clone(),
            source: ws.config.source.kind(),
            client,
            db: db.clone(),
            dest: dest.clone(),
            sql: sql.clone(),
            vars,
            batch_seq: Default::default(),
        });
        Ok(rt.block_on(load::run(ctx, phases, |s| {
            println!(
                "{:<22} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9} {:>6} {:>8.1}",
                s.phase,
                s.rows,
                s.created,
                s.failed,
                s.held,
                s.reconciled,
                s.requests,
                s.throttled,
                s.seconds
            );
            let c = &s.changes;
            if c.changed + c.deleted + c.held > 0 {
                println!(
                    "{:<22} {} changed, {} deleted in the source: {} applied, {} not applied, {} failed, {} held (see ferry_changes)",
                    "", c.changed, c.deleted, c.applied, c.not_applied, c.failed, c.held
                );
            }
        }))?)
    })();
    let conn = db.lock().unwrap();
    match outcome {
        Ok(sums) => {
            let failed: u64 = sums.iter().map(|s| s.failed + s.changes.failed).sum();
            let held: u64 = sums.iter().map(|s| s.held).sum();
            let msg = format!("{failed} rows failed, {held} held back (see ferry_load_errors)");
            if let Some(views) = sql.files.get("load/views.sql") {
                conn.execute_batch(views)
                    .map_err(|e| load::query::phase_error("views.sql", &e))?;
            }
            for note in dest.after_load(&conn)? {
                println!("{note}");
            }
            crate::runs::finish(&conn, &run_id, failed == 0, &msg)?;
            crate::live::finish(if failed == 0 { "ok" } else { "failed" });
            if failed > 0 {
                eprintln!("error: {msg}; fix the data or mappings, then `ferry load --retry`");
                return Ok(crate::error::EXIT_FAILURE);
            }
            println!("{msg}");
            Ok(0)
        }
        Err(e) => {
            if let Some(FerryError::Interrupted { .. }) = e.downcast_ref::<FerryError>() {
                crate::runs::interrupted(&conn, &run_id, &e.to_string())?;
                crate::live::finish("interrupted");
                eprintln!("{e}");
                return Ok(super::EXIT_INTERRUPTED);
            }
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            crate::live::finish("failed");
            Err(e)
        }
    }
}

/// What the destination already holds of the people a load would send
/// (GETs only), for the phases whose destination looks: without
/// credentials, says so.
fn plan_existing(
    conn: &duckdb::Connection,
    sql: &LoadSql,
    vars: &Vars,
    dest: &dyn crate::connector::Destination,
    client: Option<&crate::http::ApiClient>,
    phases: &[&'static crate::load::phase::Phase],
) -> anyhow::Result<()> {
    for phase in phases.iter().filter(|p| dest.plans_existing(p)) {
        let Some(client) = client else {
            println!(
                "{}: existing users not looked up (no credentials in the environment)",
                phase.name
            );
            continue;
        };
        let mut rows = Vec::new();
        load::query::query_rows(conn, sql, vars, phase, None, |r| {
            rows.push(r);
            true
        })?;
        for line in super::runtime()?.block_on(dest.plan_existing(client, phase, &rows))? {
            println!("{line}");
        }
    }
    Ok(())
}

/// `--sample N`: the route's `load/sample.sql` fills `load_sample`;
/// returns how many rows each phase got, in words.
fn build_sample(
    conn: &duckdb::Connection,
    sql: &LoadSql,
    vars: &Vars,
    n: usize,
) -> anyhow::Result<String> {
    vars.apply(conn, sql, None)?;
    conn.execute_batch(&format!("SET VARIABLE ferry_sample_n = {n};"))?;
    conn.execute_batch(sql.get("load/sample.sql")?)
        .map_err(|e| load::query::phase_error("sample.sql", &e))?;
    let mut stmt = conn.prepare(
        "SELECT phase, count(DISTINCT source_id) FROM load_sample GROUP BY phase ORDER BY min(rowid)",
    )?;
    let parts = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(parts
        .iter()
        .map(|(p, n)| format!("{n} {p}"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The load SQL a run used, by checksum, in `ferry_sql_ledger` (version
/// -1, status `used`): an auditor can tell which payload queries sent a
/// batch, ejected and edited or built in.
fn record_load_sql(conn: &duckdb::Connection, sql: &LoadSql, run_id: &str) -> anyhow::Result<()> {
    for (name, text) in &sql.files {
        conn.execute(
            "INSERT INTO ferry_sql_ledger VALUES (-1, ?, ?, now(), NULL, NULL, 'used', ?)",
            duckdb::params![name, crate::transform::scripts::checksum(text), run_id],
        )?;
    }
    Ok(())
}

/// Pre-flight warnings about destination settings; they do not block.
fn print_warnings(
    dest: &dyn crate::connector::Destination,
    client: &crate::http::ApiClient,
) -> anyhow::Result<()> {
    let warnings = super::runtime()?.block_on(dest.preflight(client))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

/// `minutes` as a person plans with it: hours or days once it is long
/// (a 100-credit Enchant budget turns a large org into days), always with
/// the minutes.
fn duration_words(minutes: f64) -> String {
    if minutes < 120.0 {
        format!("≈{minutes:.1} minutes")
    } else if minutes < 48.0 * 60.0 {
        format!("≈{:.1} hours = {minutes:.0} minutes", minutes / 60.0)
    } else {
        format!("≈{:.1} days = {minutes:.0} minutes", minutes / 1440.0)
    }
}
