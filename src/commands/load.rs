//! `ferry load`

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::cli::LoadArgs;
use crate::connectors::zendesk::{self, load};
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: LoadArgs) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    crate::transform::configure(&conn, &ws.dir, &ws.config.destination.memory_limit, 2)?;
    crate::views::ensure_raw_views(&conn, &ws.dir)?;
    let phases = load::selected(&args.only)?;
    // Loading half-transformed tables would send a mix of old and new rows.
    let set = crate::transform::scripts::ScriptSet::load(&ws.dir, &ws.config.route)?;
    let plan = crate::transform::plan::plan(&conn, &set, false)?;
    use crate::transform::plan::StepState;
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
    zendesk::sample::ensure(&conn)?;
    if let Some(n) = args.sample {
        let picked = zendesk::sample::build(&conn, n)?;
        println!(
            "Pilot: {picked} representative tickets and the records they need (table load_sample)."
        );
    }
    if args.dry_run {
        let rate = ws.config.destination.rate_limit_per_minute;
        println!(
            "{:<22} {:>9} {:>9} {:>9}  first problems",
            "phase", "rows", "held", "requests"
        );
        let mut total = 0;
        for (name, n, held, req, problems) in load::dry_run(&conn, &phases, rate)? {
            total += req;
            println!(
                "{name:<22} {n:>9} {held:>9} {req:>9}  {}",
                problems.join("; ")
            );
        }
        println!(
            "≈{total} requests; at {rate}/min that is ≈{:.1} minutes. Nothing was sent.",
            total as f64 / rate.max(1) as f64
        );
        println!("(Rows held back here wait on earlier phases that are not loaded yet.)");
        // With credentials at hand, also read the destination's settings (GETs only).
        if let Ok(client) = zendesk::client(&ws.config) {
            print_warnings(&client)?;
        }
        return Ok(0);
    }
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "load", &super::recorded_args())?;
    let db = Arc::new(Mutex::new(conn));
    let outcome = (|| -> anyhow::Result<Vec<load::PhaseSummary>> {
        let client = Arc::new(zendesk::client(&ws.config)?);
        print_warnings(&client)?;
        let rt = super::runtime()?;
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
        let opts = load::LoadOptions {
            only: args.only.clone(),
            retry: args.retry,
            open_first: args.order == "open-first",
            sample: args.sample,
            archive_immediately: ws.config.destination.archive_immediately,
            upload_token_secs: ws.config.destination.upload_token_minutes * 60.0,
            window: None,
        };
        Ok(rt.block_on(load::run(
            ws.dir.clone(),
            run_id.clone(),
            client,
            db.clone(),
            opts,
            |s| {
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
            },
        ))?)
    })();
    let conn = db.lock().unwrap();
    match outcome {
        Ok(sums) => {
            let failed: u64 = sums.iter().map(|s| s.failed).sum();
            let held: u64 = sums.iter().map(|s| s.held).sum();
            let msg = format!("{failed} rows failed, {held} held back (see ferry_load_errors)");
            crate::runs::finish(&conn, &run_id, failed == 0, &msg)?;
            if failed > 0 {
                eprintln!("error: {msg}; fix the data or mappings, then `ferry load --retry`");
                return Ok(crate::error::EXIT_FAILURE);
            }
            println!("{msg}");
            Ok(0)
        }
        Err(e) => {
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            Err(e)
        }
    }
}

/// Pre-flight warnings about destination settings; they do not block.
fn print_warnings(client: &crate::http::ApiClient) -> anyhow::Result<()> {
    let warnings = super::runtime()?.block_on(zendesk::preflight::warnings(client))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("note: users are created verified with skip_verify_email, so no welcome or verification email goes out.");
    Ok(())
}
