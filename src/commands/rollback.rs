//! `ferry rollback`

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::cli::RollbackArgs;
use crate::connector::RollbackScope;
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: RollbackArgs) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    let scope = match (&args.batch, &args.run) {
        (Some(b), _) => RollbackScope::Batch(b.clone()),
        (_, Some(r)) => RollbackScope::Run(r.clone()),
        _ => RollbackScope::All,
    };
    if args.dry_run {
        if !show(&conn, &ws, &scope)? {
            println!("Nothing in ferry_id_map matches this scope.");
        }
        println!("Nothing was deleted (--dry-run).");
        return Ok(0);
    }
    if !confirmed(&conn, &ws, &scope, args.yes)? {
        println!("Nothing was deleted.");
        return Ok(crate::error::EXIT_FAILURE);
    }
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "rollback", &super::recorded_args())?;
    let todo = counts(&conn, &ws, &scope)?;
    // Published for `ferry status`/`ferry serve` and drawn as a bar: what
    // is deleted is counted by what leaves the id map.
    crate::live::start(&ws.dir, &run_id, "rollback", todo.len());
    for (phase, n) in &todo {
        crate::live::phase(phase, *n as u64);
    }
    let db = Arc::new(Mutex::new(conn));
    let res = (|| -> anyhow::Result<Vec<(String, usize)>> {
        let dest = ws.config.destination.clone();
        let client = Arc::new(dest.client()?);
        let rt = super::runtime()?;
        let publisher = {
            let _in_rt = rt.enter();
            crate::live::Publisher::start(vec![client.clone()])
        };
        let ticker = rt.spawn(count_down(
            db.clone(),
            ws.config.destination.kind(),
            scope.clone(),
            todo.clone(),
        ));
        let out = rt.block_on(dest.rollback(client, db.clone(), scope))?;
        ticker.abort();
        publisher.stop();
        Ok(out)
    })();
    let conn = db.lock().unwrap();
    match res {
        Ok(done) => {
            for (phase, n) in &done {
                if phase.starts_with("matched ") {
                    // The account's own users, linked rather than created.
                    println!("{phase:<22} {n:>8} forgotten, not deleted (the account had them before the migration)");
                } else if phase.contains(" kept") || phase.contains(" deleted") {
                    // The destination's line says what became of them.
                    println!("{n:>8} {phase}");
                } else {
                    println!("{phase:<22} {n:>8} deleted");
                }
            }
            if done.is_empty() {
                println!("Nothing in ferry_id_map matches; nothing was deleted.");
            }
            for (phase, n) in &todo {
                crate::live::set_done(phase, *n as u64);
                crate::live::phase_done(phase);
            }
            crate::runs::finish(&conn, &run_id, true, "rollback complete")?;
            crate::live::finish("ok");
            Ok(0)
        }
        Err(e) => {
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            crate::live::finish("failed");
            eprintln!("Rolled-back records are already out of ferry_id_map; rerun the same rollback to finish.");
            Err(e)
        }
    }
}

/// Shows what the rollback will delete (records ferry created, per phase,
/// in the scope) and asks on the terminal. Without a terminal it needs
/// `--yes`: a script must say it means it.
fn confirmed(
    conn: &duckdb::Connection,
    ws: &Workspace,
    scope: &RollbackScope,
    yes: bool,
) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !show(conn, ws, scope)? {
        // Nothing to delete: the connector says so (and a rerun of an
        // interrupted rollback finds its job done).
        return Ok(true);
    }
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("rollback deletes records in the destination: rerun with --yes to confirm, or --dry-run to see it only (nothing was deleted)");
    }
    print!("Type yes to delete them: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// Records in the id map in `scope`, per phase, oldest first.
fn counts(
    conn: &duckdb::Connection,
    ws: &Workspace,
    scope: &RollbackScope,
) -> anyhow::Result<Vec<(String, i64)>> {
    Ok(remaining(conn, ws.config.destination.kind(), scope)?)
}

fn remaining(
    conn: &duckdb::Connection,
    kind: &str,
    scope: &RollbackScope,
) -> duckdb::Result<Vec<(String, i64)>> {
    let (filter, param) = scope.filter();
    let mut stmt = conn.prepare(&format!(
        "SELECT dest_object, count(*) FROM ferry_id_map WHERE dest = ? AND {filter}
         GROUP BY ALL ORDER BY min(loaded_at)"
    ))?;
    let rows = stmt
        .query_map(duckdb::params![kind, param], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>();
    rows
}

/// Every second: what has left the id map, per phase, as the live state
/// and a bar (hidden without a terminal).
async fn count_down(
    db: Arc<Mutex<duckdb::Connection>>,
    kind: &'static str,
    scope: RollbackScope,
    todo: Vec<(String, i64)>,
) {
    let total: i64 = todo.iter().map(|t| t.1).sum();
    let bar =
        indicatif::ProgressBar::new(total as u64).with_finish(indicatif::ProgressFinish::AndClear);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "rolling back [{bar:30}] {pos}/{len} deleted, {msg}",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    let mut finished = std::collections::HashSet::new();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let left = {
            let db = db.lock().unwrap();
            remaining(&db, kind, &scope).unwrap_or_default()
        };
        let mut done_all = 0;
        for (phase, n) in &todo {
            let l = left.iter().find(|x| &x.0 == phase).map_or(0, |x| x.1);
            let done = (n - l).max(0);
            done_all += done;
            crate::live::set_done(phase, done as u64);
            if l == 0 && finished.insert(phase.clone()) {
                crate::live::phase_done(phase);
            }
        }
        bar.set_position(done_all as u64);
        bar.set_message(
            crate::live::snapshot()
                .and_then(|s| crate::live::overall_eta(&s))
                .map_or("ETA -".to_string(), |e| {
                    format!("ETA {}", crate::live::duration(e))
                }),
        );
    }
}

/// Prints what the rollback would delete, per phase; false when nothing.
fn show(conn: &duckdb::Connection, ws: &Workspace, scope: &RollbackScope) -> anyhow::Result<bool> {
    let dest = ws.config.destination.as_ref();
    let counts = counts(conn, ws, scope)?;
    if counts.is_empty() {
        return Ok(false);
    }
    println!(
        "ferry rollback deletes from {} what ferry created there{}:",
        dest.base_url(),
        match scope {
            RollbackScope::Batch(b) => format!(" in batch {b}"),
            RollbackScope::Run(r) => format!(" in run {r}"),
            RollbackScope::All => String::new(),
        }
    );
    for (phase, n) in &counts {
        println!("  {phase:<24} {n:>8}");
    }
    println!("(each destination deletes what its API allows and says what it keeps; records the account had before, like matched users, are only forgotten)");
    Ok(true)
}
