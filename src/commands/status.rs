//! `ferry status`: one screen on where the migration stands and what to
//! run next. Reads only (it refreshes the raw views like every command;
//! on a workspace this user cannot write, in a scratch copy).

use std::path::Path;

use duckdb::Connection;

use std::io::IsTerminal;

use crate::cli::StatusArgs;
use crate::error::FerryError;
use crate::workspace::Workspace;

fn one(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or(0)
}

fn table_exists(conn: &Connection, name: &str) -> bool {
    one(
        conn,
        &format!("SELECT count(*) FROM duckdb_tables() WHERE table_name = '{name}'"),
    ) > 0
}

pub fn run(workspace: &Path, args: StatusArgs) -> anyhow::Result<i32> {
    loop {
        match Workspace::open_for_reading(workspace) {
            // A load (or another command) holds the workspace: show what
            // it publishes outside the database (crate::live).
            Err(FerryError::Locked { pid, .. }) => {
                if args.watch && std::io::stdout().is_terminal() {
                    // Clear the screen and go home: one frame, not a scroll.
                    print!("\x1b[2J\x1b[H");
                }
                // The state is the lock holder's only once it has published
                // (an earlier run's stays until then).
                match crate::live::read(workspace).filter(|s| s.pid.to_string() == pid.trim()) {
                    Some(s) => print!("{}", crate::live::render(&s)),
                    None => println!("another ferry process (pid {pid}) holds the workspace; it has published no live state yet"),
                }
                if !args.watch {
                    return Ok(0);
                }
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
            Err(e) => return Err(e.into()),
            Ok(ws) => return full(ws),
        }
    }
}

/// The whole screen, with the workspace to itself.
fn full(ws: Workspace) -> anyhow::Result<i32> {
    let conn = ws.connect()?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let cfg = &ws.config;
    println!(
        "workspace    {}{}",
        ws.dir.display(),
        if ws.read_only() {
            "   (read-only: read from a scratch copy, nothing here changes)"
        } else {
            ""
        }
    );
    println!(
        "route        {}   ({} → {})",
        cfg.route,
        cfg.source.base_url(),
        cfg.destination.base_url()
    );

    println!("\nlast runs");
    let mut stmt = conn.prepare(
        "SELECT command, run_id, outcome, strftime(started_at::TIMESTAMP, '%Y-%m-%d %H:%M:%S'), coalesce(message, '')
         FROM ferry_runs QUALIFY row_number() OVER (PARTITION BY command ORDER BY started_at DESC) = 1
         ORDER BY started_at",
    )?;
    let runs: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    if runs.is_empty() {
        println!("  (none yet)");
    }
    // This command holds the workspace lock: a run still marked running
    // belongs to a process that is gone (killed, crashed, power cut).
    let runs: Vec<(String, String, String, String, String)> = runs
        .into_iter()
        .map(|(cmd, id, outcome, at, msg)| {
            if outcome == "running" && !ws.read_only() {
                let gone = "the process ended without finishing (killed or crashed): rerun the command to resume".to_string();
                (cmd, id, "interrupted".to_string(), at, gone)
            } else {
                (cmd, id, outcome, at, msg)
            }
        })
        .collect();
    for (cmd, id, outcome, at, msg) in &runs {
        let msg: String = msg.split_whitespace().collect::<Vec<_>>().join(" ");
        let msg: String = msg.chars().take(70).collect();
        println!("  {cmd:<10} {at}  {outcome:<11} {id}  {msg}");
    }
    let last_ok = |c: &str| runs.iter().any(|(cmd, _, o, _, _)| cmd == c && o == "ok");

    let transformed = table_exists(&conn, "ferry_accounting");
    println!(
        "\n{:<14} {:>10} {:>10}",
        "object", "extracted", "quarantined"
    );
    let mut extracted_total = 0;
    let kind = cfg.source.kind();
    for obj in cfg.source.objects() {
        let n = one(&conn, &format!("SELECT count(*) FROM raw_{kind}_{obj}"));
        let q = one(
            &conn,
            &format!("SELECT count(*) FROM ferry_quarantine WHERE object = '{obj}'"),
        );
        extracted_total += n;
        println!("  {obj:<12} {n:>10} {q:>10}");
    }

    println!(
        "\n{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "load phase", "to send", "loaded", "failed", "held", "pending", "changed"
    );
    let mut pending_total = 0;
    let mut failed_total = 0;
    // Pending rows that are held back (waiting on something a load cannot
    // do), and the rest.
    let mut held_total = 0;
    let mut sendable_total = 0;
    let set = crate::transform::scripts::ScriptSet::load(&ws.dir, cfg.route_def)?;
    if transformed {
        let dest = cfg.destination.as_ref();
        let sql = set.load_sql();
        let vars = crate::load::Vars::read_only(dest);
        for phase in dest.phases() {
            let loaded = one(
                &conn,
                &format!(
                    "SELECT count(*) FROM ferry_id_map WHERE dest = '{}' AND dest_object = '{}'",
                    dest.kind(),
                    phase.name
                ),
            );
            let failed = one(
                &conn,
                &format!("SELECT count(*) FROM ferry_load_errors WHERE object = '{}' AND http_status IS NOT NULL", phase.name),
            );
            let held = one(
                &conn,
                &format!("SELECT count(*) FROM ferry_load_errors WHERE object = '{}' AND http_status IS NULL", phase.name),
            );
            let pending = crate::load::query::count_rows(&conn, &sql, &vars, phase, None)
                .map(|n| n as i64)
                .unwrap_or(0);
            // Loaded records changed or gone in the source since (a delta
            // to carry): what the next load sends as changes.
            let changed = if loaded > 0 && phase.changes.is_some() {
                crate::load::changes::detect(&conn, &sql, &vars, phase, true)
                    .map(|f| f.rows.len() as i64)
                    .unwrap_or(0)
            } else {
                0
            };
            pending_total += pending + changed;
            failed_total += failed;
            held_total += held;
            sendable_total += (pending - held).max(0) + changed;
            println!(
                "  {:<20} {:>9} {loaded:>9} {failed:>9} {held:>9} {pending:>9} {changed:>9}",
                phase.name,
                loaded + pending
            );
        }
    } else {
        println!("  (no output tables yet: run `ferry transform`)");
    }

    let plan = crate::transform::plan::plan(&conn, &set, false)?;
    let stale = plan.rerun_from.is_some();
    println!(
        "\ntransform    {}",
        if stale {
            format!("stale: {}", plan.reasons.join("; "))
        } else {
            "up to date with its scripts".to_string()
        }
    );
    let verified = runs.iter().find(|r| r.0 == "verify").map(|r| r.2.clone());
    println!(
        "verify       {}",
        verified.unwrap_or_else(|| "not run".into())
    );

    let next = if extracted_total == 0 {
        "ferry extract".to_string()
    } else if !transformed || stale {
        "ferry transform".to_string()
    } else if failed_total > 0 {
        format!("{failed_total} rows failed to load: see `ferry sql \"SELECT * FROM ferry_load_errors\"`, fix data or seeds, then `ferry load --retry`")
    } else if pending_total > 0 && sendable_total == 0 && held_total > 0 {
        // Another load would hold them again: the fix is elsewhere.
        format!(
            "{held_total} rows are held back, each waiting on something a load cannot do (an agent without a seat, a person the destination already has, a missing reference): \
             `ferry sql \"SELECT object, source_id, error_body FROM ferry_load_errors WHERE http_status IS NULL\"` says what each needs; act there (in the destination's admin screens, or the source data), then `ferry load`"
        )
    } else if pending_total > 0 {
        "ferry load   (or `ferry load --dry-run` first)".to_string()
    } else if !last_ok("verify") {
        "ferry verify".to_string()
    } else {
        "done: keep an archive with `ferry archive --set archive` and `--set excluded`".to_string()
    };
    if let Some(report) = latest_report(&ws.dir) {
        println!("report       {}", report.display());
    }
    println!("\nnext         {next}");
    Ok(0)
}

/// The newest verify report (HTML) of the workspace, if any.
fn latest_report(dir: &Path) -> Option<std::path::PathBuf> {
    std::fs::read_dir(dir.join("reports"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "html")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("verify-"))
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}
