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
        for (name, n, held, req, problems) in load::dry_run(
            &conn,
            &phases,
            rate,
            ws.config.destination.skips_missing_files(),
        )? {
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
            skip_missing_files: ws.config.destination.skips_missing_files(),
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
            let (files, tickets) = files_left_out(&conn)?;
            if files > 0 {
                println!("{files} files of {tickets} imported tickets were not attached (missing_files = \"skip\"): SELECT * FROM zendesk_files_left_out");
            }
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

/// Files referenced by comments of imported tickets that have no upload:
/// what `missing_files = "skip"` left out, as the view
/// `zendesk_files_left_out` (one row per file and comment, with why), so
/// an auditor can list them any time. Returns (files, tickets).
fn files_left_out(conn: &duckdb::Connection) -> anyhow::Result<(i64, i64)> {
    conn.execute_batch(
        "CREATE OR REPLACE VIEW zendesk_files_left_out AS
         SELECT c.ticket_source_id, c.source_id AS comment_source_id, x.aid AS attachment_id, a.file_name,
                CASE WHEN a.attachment_id IS NULL THEN 'attachment record not extracted'
                     WHEN a.sha256 IS NULL THEN 'bytes not downloaded'
                     ELSE coalesce('upload refused: HTTP ' || e.http_status || ' ' || e.error_body, 'no upload') END AS why
         FROM out_zendesk_comments c, unnest(c.attachment_ids) AS x(aid)
         LEFT JOIN stg_attachments a ON a.attachment_id = x.aid
         LEFT JOIN (SELECT source_id, any_value(http_status) AS http_status, any_value(error_body) AS error_body
                    FROM ferry_load_errors WHERE object = 'uploads' AND http_status IS NOT NULL GROUP BY source_id) e
                ON e.source_id = x.aid
         WHERE c.ticket_source_id IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'tickets')
           AND x.aid NOT IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'uploads')",
    )?;
    Ok(conn.query_row(
        "SELECT count(DISTINCT attachment_id), count(DISTINCT ticket_source_id) FROM zendesk_files_left_out",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
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
