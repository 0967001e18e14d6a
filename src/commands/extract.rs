//! `ferry extract`

use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cli::ExtractArgs;
use crate::connector::ExtractRun;
use crate::extract;
use crate::runs;
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: ExtractArgs) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    // The extractor's own queries (pending attachments, tie ids) scan raw
    // JSON: cap DuckDB's buffer pool so memory stays flat as data grows.
    crate::transform::configure(&conn, &ws.dir, "128MB", 2)?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let run_id = runs::new_run_id();
    runs::start(&conn, &run_id, "extract", &super::recorded_args())?;
    let db = Arc::new(Mutex::new(conn));
    let started = Instant::now();
    let outcome = extract_inner(&ws, &run_id, db.clone(), &args);
    let conn = db.lock().unwrap();
    match outcome {
        Ok(summaries) => {
            let failed: Vec<_> = summaries.iter().filter(|s| s.error.is_some()).collect();
            print_summary(
                &conn,
                ws.config.source.kind(),
                &summaries,
                started.elapsed().as_secs_f64(),
            )?;
            if failed.is_empty() {
                runs::finish(&conn, &run_id, true, "all streams complete")?;
                Ok(0)
            } else {
                let msg = failed
                    .iter()
                    .map(|s| format!("{}: {}", s.object, s.error.as_deref().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join("; ");
                runs::finish(&conn, &run_id, false, &msg)?;
                for s in &failed {
                    eprintln!(
                        "error: {} failed: {}",
                        s.object,
                        s.error.as_deref().unwrap_or("")
                    );
                }
                eprintln!("Everything landed so far is kept; rerun `ferry extract` to resume the failed streams.");
                Ok(crate::error::EXIT_FAILURE)
            }
        }
        Err(e) => {
            runs::finish(&conn, &run_id, false, &e.to_string())?;
            Err(e)
        }
    }
}

fn extract_inner(
    ws: &Workspace,
    run_id: &str,
    db: Arc<Mutex<duckdb::Connection>>,
    args: &ExtractArgs,
) -> anyhow::Result<Vec<extract::StreamSummary>> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let source = ws.config.source.clone();
    let client = Arc::new(source.client()?);
    let rt = super::runtime()?;
    let first_pass: bool = db.lock().unwrap().query_row(
        "SELECT count(*) = 0 FROM ferry_extract_state WHERE source = ?",
        [source.kind()],
        |r| r.get(0),
    )?;
    rt.block_on(async {
        source.check(&client).await?;
        // A full pass stands on the connector's assumptions about the org:
        // the ones whose failure would lose data are checked first (the
        // same checks as `ferry probe`), and a refuted one stops the pass
        // unless the user accepts it.
        if (args.full || first_pass) && args.since.is_none() {
            let refuted: Vec<_> = source
                .probe(&client)
                .await
                .into_iter()
                .filter(|c| c.loses_data && c.outcome == crate::connector::ProbeOutcome::Fail)
                .collect();
            for c in &refuted {
                eprintln!("refuted: {}: {}", c.check, c.detail);
            }
            if !refuted.is_empty() && !args.accept_refuted {
                anyhow::bail!(
                    "{} assumption(s) this extract relies on do not hold for this org and would lose data (see above; `ferry probe` shows every check). Fix them, or pass --accept-refuted to extract anyway and accept the loss",
                    refuted.len()
                );
            }
        }
        let opts = extract::ExtractOptions {
            only: args.only.clone(),
            since,
            full: args.full,
            progress: !args.no_progress && std::io::stderr().is_terminal(),
        };
        Ok(source
            .extract(ExtractRun {
                ws: ws.dir.clone(),
                run_id: run_id.to_string(),
                client,
                db,
                cfg: ws.config.extract.clone(),
                opts,
            })
            .await?)
    })
}

/// `--since`: a date (UTC midnight) or an RFC 3339 instant, in ms.
fn parse_since(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis());
    }
    anyhow::bail!(
        "--since {s:?} is not a date: use YYYY-MM-DD or an RFC 3339 time like 2024-05-01T12:00:00Z"
    )
}

fn print_summary(
    conn: &duckdb::Connection,
    source: &str,
    summaries: &[extract::StreamSummary],
    secs: f64,
) -> anyhow::Result<()> {
    println!(
        "{:<14} {:<16} {:>10} {:>8} {:>11} {:>10} {:>8}  status",
        "object", "pass", "landed", "pages", "quarantined", "in view", "seconds"
    );
    let mut total = 0u64;
    for s in summaries {
        let in_view: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM raw_{source}_{}", s.object),
                [],
                |r| r.get(0),
            )
            .unwrap_or(-1);
        total += s.landed;
        println!(
            "{:<14} {:<16} {:>10} {:>8} {:>11} {:>10} {:>8.1}  {}",
            s.object,
            s.pass,
            s.landed,
            s.pages,
            s.quarantined,
            in_view,
            s.seconds,
            if s.error.is_some() {
                "FAILED"
            } else if s.unavailable.is_some() {
                "unavailable"
            } else {
                "ok"
            }
        );
    }
    for s in summaries {
        if let Some(why) = &s.unavailable {
            println!("note: {} is unavailable: {why}", s.object);
        }
    }
    println!(
        "{total} records landed in {secs:.1}s ({:.0} records/s)",
        total as f64 / secs.max(0.001)
    );
    Ok(())
}
