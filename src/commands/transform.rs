//! `ferry transform`

use std::path::Path;

use crate::cli::TransformArgs;
use crate::transform::{self, plan::StepState, scripts::ScriptSet};
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: TransformArgs) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let set = ScriptSet::load(&ws.dir, ws.config.route_def)?;
    let plan = transform::plan::plan(&conn, &set, args.rebuild)?;
    println!("Transform {} using the {}", ws.config.route, set.origin());
    let mut layer = usize::MAX;
    for (s, (state, runs)) in set.scripts.iter().zip(&plan.steps) {
        let rank = (s.version / 1000) as usize;
        if rank != layer {
            layer = rank;
            let name = crate::transform::scripts::LAYERS
                .get(rank)
                .copied()
                .unwrap_or("route");
            let of = match name {
                "shared" => "every source".to_string(),
                "staging" | "intermediate" => format!("source {}", ws.config.source.kind()),
                _ => format!("route {}", ws.config.route),
            };
            println!("  {name} layer ({of})");
        }
        let what = match state {
            StepState::Unchanged => "unchanged",
            StepState::New => "new",
            StepState::Changed => "CHANGED",
            StepState::Dirty => "did not finish last time",
            StepState::Downstream => "after a changed script",
        };
        println!(
            "    {} {:<34} {:<26} {}",
            if *runs { "▶" } else { " " },
            s.file,
            what,
            if *runs { "will run" } else { "skip" }
        );
    }
    for (f, layer) in &set.overrides {
        println!("  note: the {layer} layer's {f} replaces the built-in file of an earlier layer");
    }
    for f in &set.differs {
        println!(
            "  note: the workspace copy of {f} differs from today's built-in file (yours is used)"
        );
    }
    if plan.rerun_from.is_none() {
        println!("Nothing changed since the last transform.");
    } else {
        println!("Why: {}", plan.reasons.join("; "));
    }
    if args.plan {
        return Ok(0);
    }
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "transform", &super::recorded_args())?;
    transform::configure(
        &conn,
        &ws.dir,
        &ws.config.transform.memory_limit,
        ws.config.transform.threads,
    )?;
    let result = transform::run(&conn, &ws.dir, &set, &plan, &run_id, |a| {
        println!(
            "  ✓ {:<44} {:>10} rows {:>8} ms",
            a.file, a.rows, a.duration_ms
        );
    });
    if let Err(e) = result {
        crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
        return Err(e.into());
    }
    let dropped = transform::renamed::drop_stale(&conn)?;
    if !dropped.is_empty() {
        let list: Vec<String> = dropped.iter().map(|(o, n)| format!("{o} → {n}")).collect();
        println!(
            "Renamed since this workspace's last transform (the old tables are dropped; update queries that name them): {}",
            list.join(", ")
        );
    }
    let failures = transform::checks::run(&conn, &set.checks)?;
    if failures.is_empty() {
        println!("All {} checks passed.", set.checks.len());
        crate::runs::finish(&conn, &run_id, true, "transform complete, checks passed")?;
        return Ok(0);
    }
    for f in &failures {
        println!("\nCHECK FAILED: {} ({} rows)\n{}", f.name, f.rows, f.table);
    }
    let names: Vec<_> = failures.iter().map(|f| f.name.as_str()).collect();
    let msg = format!("checks failed: {}", names.join(", "));
    crate::runs::finish(&conn, &run_id, false, &msg)?;
    eprintln!("error: {msg} (fix the data or the scripts/seeds, then rerun `ferry transform`)");
    Ok(crate::error::EXIT_CHECKS)
}
