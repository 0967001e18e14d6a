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
    // Published outside the locked database for `ferry status` and
    // `ferry serve`, and the run's log (crate::live).
    let streams = args
        .only
        .as_ref()
        .map_or(ws.config.source.objects().len(), |o| o.len());
    crate::live::start(&ws.dir, &run_id, "extract", streams);
    let outcome = extract_inner(&ws, &run_id, db.clone(), &args);
    let conn = db.lock().unwrap();
    let stopped = crate::stop::requested()
        || matches!(&outcome, Err(e) if matches!(e.downcast_ref::<crate::error::FerryError>(), Some(crate::error::FerryError::Stopped)));
    if stopped {
        let msg = crate::error::FerryError::Stopped.to_string();
        runs::interrupted(&conn, &run_id, &msg)?;
        crate::live::finish("interrupted");
        if let Ok(summaries) = &outcome {
            let landed: u64 = summaries.iter().map(|s| s.landed).sum();
            eprintln!("{landed} records landed by this run before the stop.");
        }
        eprintln!("{msg}");
        return Ok(super::EXIT_INTERRUPTED);
    }
    crate::live::finish(match &outcome {
        Ok(s) if s.iter().all(|s| s.error.is_none()) => "ok",
        _ => "failed",
    });
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
    rt.spawn(crate::stop::listen(crate::stop::EXTRACT));
    rt.block_on(async {
        let publisher = crate::live::Publisher::start(vec![client.clone()]);
        let out = extract_streams(ws, run_id, db, args, since, first_pass, source, client).await;
        publisher.stop();
        out
    })
}

#[allow(clippy::too_many_arguments)]
async fn extract_streams(
    ws: &Workspace,
    run_id: &str,
    db: Arc<Mutex<duckdb::Connection>>,
    args: &ExtractArgs,
    since: Option<i64>,
    first_pass: bool,
    source: Arc<dyn crate::connector::Source>,
    client: Arc<crate::http::ApiClient>,
) -> anyhow::Result<Vec<extract::StreamSummary>> {
    {
        source.check(&client).await?;
        // A full pass stands on the connector's assumptions about the org:
        // where the newest `ferry probe` report refuted one that loses
        // data, the pass stops unless the user accepts the loss.
        if (args.full || first_pass) && args.since.is_none() {
            let refuted = refuted_in_last_probe(&ws.dir);
            for (check, detail) in &refuted {
                eprintln!("refuted by `ferry probe`: {check}: {detail}");
            }
            if !refuted.is_empty() && !args.accept_refuted {
                anyhow::bail!(
                    "{} assumption(s) this extract relies on do not hold for this org and would lose data (see above). Fix them and rerun `ferry probe`, or pass --accept-refuted to extract anyway and accept the loss",
                    refuted.len()
                );
            }
            if refuted.is_empty() && !has_probe_report(&ws.dir) {
                eprintln!("note: no `ferry probe` report in this workspace: run `ferry probe` before a full pass to check what ferry assumes about the org");
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
    }
}

fn probe_reports(ws: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(ws.join("reports"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("probe-") && n.ends_with(".json"))
        })
        .collect();
    // Run ids start with a UTC timestamp: the names sort by time.
    out.sort();
    out
}

fn has_probe_report(ws: &Path) -> bool {
    !probe_reports(ws).is_empty()
}

/// (check, detail) of the source checks the newest probe report refuted
/// and marked as losing data.
fn refuted_in_last_probe(ws: &Path) -> Vec<(String, String)> {
    let Some(last) = probe_reports(ws).pop() else {
        return Vec::new();
    };
    let Ok(v) = std::fs::read(&last)
        .map_err(|_| ())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|_| ()))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for section in v["sections"].as_array().into_iter().flatten() {
        if section["side"] != "source" {
            continue;
        }
        for c in section["checks"].as_array().into_iter().flatten() {
            if c["loses_data"] == true && c["outcome"] == "fail" {
                out.push((
                    c["check"].as_str().unwrap_or("?").to_string(),
                    c["detail"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out
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
