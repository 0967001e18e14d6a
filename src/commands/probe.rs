//! `ferry probe`: what each connector assumes about the real accounts and
//! no document settles, checked with read-only requests before a long run.
//! One line per check; the JSON goes to `reports/probe-<run>.json`.

use std::path::Path;

use crate::connector::{ProbeCheck, ProbeOutcome};
use crate::workspace::Workspace;

pub fn run(workspace: &Path) -> anyhow::Result<i32> {
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "probe", &super::recorded_args())?;
    let source = ws.config.source.clone();
    let dest = ws.config.destination.clone();
    let rt = super::runtime()?;
    let mut sections: Vec<(String, String, Vec<ProbeCheck>)> = Vec::new();
    // A side whose client cannot be built (secret unset) is reported, not fatal:
    // the other side can still be probed.
    let src_checks = match source.client() {
        Ok(client) => rt.block_on(async {
            let mut out = match source.check(&client).await {
                Ok(()) => vec![ProbeCheck::new(
                    "auth",
                    ProbeOutcome::Ok,
                    "the API answers and accepts the key",
                )],
                Err(e) => vec![ProbeCheck::new("auth", ProbeOutcome::Fail, e.to_string())],
            };
            out.extend(source.probe(&client, &ws.config.extract).await);
            out
        }),
        Err(e) => vec![ProbeCheck::new("client", ProbeOutcome::Fail, e.to_string())],
    };
    sections.push(("source".into(), source.kind().into(), src_checks));
    let dest_checks = match dest.client() {
        Ok(client) => rt.block_on(dest.probe(&client)),
        Err(e) => vec![ProbeCheck::new("client", ProbeOutcome::Fail, e.to_string())],
    };
    sections.push(("destination".into(), dest.kind().into(), dest_checks));

    let mut failed = 0;
    for (side, kind, checks) in &sections {
        println!("{side} ({kind})");
        for c in checks {
            let mark = match c.outcome {
                ProbeOutcome::Ok => "ok     ",
                ProbeOutcome::Warn => "WARN   ",
                ProbeOutcome::Fail => "FAIL   ",
                ProbeOutcome::Unknown => "unknown",
            };
            if c.outcome == ProbeOutcome::Fail {
                failed += 1;
            }
            println!("  {mark} {:<24} {}", c.check, c.detail);
        }
    }
    let report = serde_json::json!({
        "run_id": run_id,
        "sections": sections.iter().map(|(side, kind, checks)| serde_json::json!({
            "side": side, "kind": kind, "checks": checks,
        })).collect::<Vec<_>>(),
    });
    let path = ws.dir.join("reports").join(format!("probe-{run_id}.json"));
    crate::fsutil::write_atomic(&path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    println!("\nreport: {}", path.display());
    let msg = format!("{failed} check(s) failed");
    crate::runs::finish(&conn, &run_id, failed == 0, &msg)?;
    Ok(if failed == 0 {
        0
    } else {
        crate::error::EXIT_CHECKS
    })
}
