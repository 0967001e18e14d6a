//! `ferry archive`

use std::io::IsTerminal;
use std::path::Path;

use crate::archive::{self, ExportRequest};
use crate::cli::ArchiveArgs;
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: ArchiveArgs) -> anyhow::Result<i32> {
    if let Some(dir) = &args.verify {
        let problems = archive::verify(dir)?;
        if problems.is_empty() {
            println!(
                "{}: intact (checksums and row counts match the manifest)",
                dir.display()
            );
            return Ok(0);
        }
        for p in &problems {
            eprintln!("archive: {p}");
        }
        eprintln!("{}: {} problems", dir.display(), problems.len());
        return Ok(crate::error::EXIT_CHECKS);
    }
    let ws = Workspace::open(workspace)?;
    let conn = ws.connect()?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let (name, datasets) = if let Some(t) = &args.table {
        // Identifiers are quoted, so a table name cannot smuggle SQL in.
        let q = format!("SELECT * FROM \"{}\"", t.replace('"', "\"\""));
        (
            args.name.clone().unwrap_or_else(|| t.clone()),
            vec![(t.clone(), q)],
        )
    } else if let Some(q) = &args.query {
        let name = args
            .name
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--query needs --name NAME (the export directory)"))?;
        (name.clone(), vec![(name, q.clone())])
    } else {
        let set = args.set.clone().unwrap_or_default();
        let route = ws.config.route_def;
        let sql = crate::transform::scripts::ScriptSet::load(&ws.dir, route)?;
        let (list, warnings) = archive::set_datasets(&conn, &set, &sql.files)?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        (args.name.clone().unwrap_or_else(|| set.clone()), list)
    };
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "archive", &super::recorded_args())?;
    crate::live::start(&ws.dir, &run_id, "archive", datasets.len());
    let req = ExportRequest {
        name,
        datasets,
        format: args.format,
        attachments: args.attachments,
        replace: args.replace,
    };
    match archive::export(&conn, &ws.dir, &req, std::io::stderr().is_terminal()) {
        Ok((dir, m)) => {
            if m.datasets.is_empty() {
                println!("(nothing to export: no record is in this set)");
            }
            for d in &m.datasets {
                println!("{:<16} {:>9} rows  {}", d.name, d.rows, d.file);
            }
            if args.attachments {
                println!(
                    "{:<16} {:>9} files attachments/",
                    "attachments", m.attachments
                );
            }
            println!("Exported to {} (manifest.json, SHA256SUMS). Check it any time: ferry archive --verify {}", dir.display(), dir.display());
            crate::runs::finish(&conn, &run_id, true, &format!("exported {}", dir.display()))?;
            crate::live::finish("ok");
            Ok(0)
        }
        Err(e) => {
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            crate::live::finish("failed");
            Err(e.into())
        }
    }
}
