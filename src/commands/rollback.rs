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
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "rollback", &super::recorded_args())?;
    let db = Arc::new(Mutex::new(conn));
    let res = (|| -> anyhow::Result<Vec<(String, usize)>> {
        let dest = ws.config.destination.clone();
        let client = Arc::new(dest.client()?);
        Ok(super::runtime()?.block_on(dest.rollback(client, db.clone(), scope))?)
    })();
    let conn = db.lock().unwrap();
    match res {
        Ok(done) => {
            for (phase, n) in &done {
                if phase.starts_with("matched ") {
                    // The account's own users, linked rather than created.
                    println!("{phase:<22} {n:>8} forgotten, not deleted (the account had them before the migration)");
                } else {
                    println!("{phase:<22} {n:>8} deleted");
                }
            }
            if done.is_empty() {
                println!("Nothing in ferry_id_map matches; nothing was deleted.");
            }
            crate::runs::finish(&conn, &run_id, true, "rollback complete")?;
            Ok(0)
        }
        Err(e) => {
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            eprintln!("Rolled-back records are already out of ferry_id_map; rerun the same rollback to finish.");
            Err(e)
        }
    }
}
