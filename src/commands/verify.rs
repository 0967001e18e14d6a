//! `ferry verify`

use std::path::Path;
use std::sync::Mutex;

use crate::cli::VerifyArgs;
use crate::verify::{self, report::Report};
use crate::workspace::Workspace;

pub fn run(workspace: &Path, args: VerifyArgs) -> anyhow::Result<i32> {
    // Verify writes only its own tables and report, so a read-only copy
    // of a workspace (how an auditor receives one) can be verified too.
    let ws = Workspace::open_for_reading(workspace)?;
    let conn = ws.connect()?;
    crate::views::ensure_raw_views(&conn, &ws.dir, ws.config.source.as_ref())?;
    let run_id = crate::runs::new_run_id();
    crate::runs::start(&conn, &run_id, "verify", &super::recorded_args())?;
    let db = Mutex::new(conn);
    // Each step said as it starts, and published for `ferry status` and
    // `ferry serve` (crate::live): a read-back can take minutes.
    crate::live::start(&ws.dir, &run_id, "verify", if args.offline { 2 } else { 4 });
    let outcome = (|| -> anyhow::Result<Report> {
        let set = crate::transform::scripts::ScriptSet::load(&ws.dir, ws.config.route_def)?;
        let sql = set.load_sql();
        crate::live::step(
            "accounting",
            "verify: accounting for every source record (extracted → output → loaded or why not)…",
        );
        let (funnel, reasons) =
            verify::funnel(&db.lock().unwrap(), &sql, ws.config.destination.kind())?;
        let phases = verify::phase_timings(&db.lock().unwrap())?;
        let manual_rules = verify::manual_rules(
            &db.lock().unwrap(),
            ws.config.source.as_ref(),
            ws.config.destination.as_ref(),
        )?;
        let unavailable = verify::unavailable(&db.lock().unwrap(), ws.config.source.as_ref())?;
        let (incomplete_total, incomplete) =
            verify::incomplete(&db.lock().unwrap(), ws.config.source.as_ref(), 200)?;
        crate::live::step_done("accounting");
        // A comparison of an earlier verify must not pass for this one's.
        db.lock()
            .unwrap()
            .execute_batch("DROP TABLE IF EXISTS verify_field_values")?;
        // A destination that does not answer fails in seconds, not after
        // the HTTP client's retries: the offline part still makes a report.
        let unreachable = if args.offline {
            None
        } else {
            reachable(ws.config.destination.base_url()).err()
        };
        let (destination, mut sample) = if args.offline || unreachable.is_some() {
            (Vec::new(), Default::default())
        } else {
            let dest = ws.config.destination.clone();
            let client = std::sync::Arc::new(dest.client()?);
            let rt = super::runtime()?;
            let publisher = {
                let _in_rt = rt.enter();
                crate::live::Publisher::start(vec![client.clone()])
            };
            let tmp = ws.db_path().with_file_name("tmp");
            std::fs::create_dir_all(&tmp)?;
            let created: i64 = db.lock().unwrap().query_row(
                "SELECT count(*) FROM ferry_id_map WHERE dest = ?",
                [dest.kind()],
                |r| r.get(0),
            )?;
            crate::live::step(
                "read back",
                &format!(
                    "verify: reading back the {created} records ferry created in {} and a sample of {} field by field…",
                    dest.base_url(),
                    args.sample
                ),
            );
            // Requests as they go, on a terminal: a read-back of a large
            // org takes minutes.
            let spinner = rt.spawn(reading_back(client.clone()));
            let (checks, mut sample) =
                rt.block_on(dest.verify(&db, &client, &tmp, args.sample, &sql))?;
            spinner.abort();
            crate::live::step_done("read back");
            crate::live::step(
                "fields",
                "verify: comparing every carried field of the sampled records with the source…",
            );
            // Every carried field of the sampled records, when the route
            // says what to compare (verify/fields.sql).
            if let Ok(fields_sql) = sql.get("verify/fields.sql") {
                db.lock().unwrap().execute_batch(fields_sql).map_err(|e| {
                    anyhow::anyhow!(
                        "verify/fields.sql: {e} (an ejected copy out of date? eject it again)"
                    )
                })?;
                if let Some(content) =
                    rt.block_on(verify::content::compare(&db, dest.as_ref(), &client))?
                {
                    sample.fields_checked = content.compared;
                    sample.field_records_checked = content.records;
                    sample.mismatches.extend(content.mismatches);
                    sample
                        .rules
                        .extend(verify::content::rules(&db.lock().unwrap())?);
                }
            }
            crate::live::step_done("fields");
            publisher.stop();
            (checks, sample)
        };
        crate::live::step("ledger", "verify: the field ledger and the changes…");
        let changes = verify::changes(&db.lock().unwrap(), &sql, ws.config.destination.as_ref())?;
        let mut fields = verify::fields::ledger(&db.lock().unwrap(), &sample.mismatches)?;
        fields.set_aside_declared_gaps(&mut sample.mismatches);
        crate::live::step_done("ledger");
        let mut problems = verify::problems(
            &db.lock().unwrap(),
            &funnel,
            &destination,
            &sample,
            &changes,
        );
        if let Some(why) = &unreachable {
            problems.push(format!(
                "the destination at {} did not answer ({why}): nothing was read back; start it (or fix `base_url` in ferry.toml) and rerun, or run `ferry verify --offline` to account without it",
                ws.config.destination.base_url()
            ));
        }
        if !fields.unaccounted.is_empty() {
            let first = &fields.unaccounted[0];
            problems.push(format!(
                "{} attribute paths with values are declared nowhere, e.g. {} {} ({} records); declare each in seeds/field_map.csv (table verify_fields WHERE unaccounted)",
                fields.unaccounted.len(),
                first.object,
                first.path,
                first.values
            ));
        }
        Ok(Report {
            run_id: run_id.clone(),
            created_at: chrono::Utc::now().to_rfc3339(),
            ferry_version: env!("CARGO_PKG_VERSION").into(),
            workspace: ws.dir.display().to_string(),
            route: ws.config.route.clone(),
            ok: problems.is_empty(),
            problems,
            funnel,
            reasons,
            destination,
            sample,
            phases,
            manual_rules,
            unavailable,
            incomplete_total,
            incomplete,
            changes,
            fields,
        })
    })();
    let conn = db.into_inner().unwrap();
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            crate::runs::finish(&conn, &run_id, false, &e.to_string())?;
            crate::live::finish("failed");
            return Err(e);
        }
    };
    crate::live::finish(if report.ok { "ok" } else { "failed" });
    print_summary(&report);
    let (json, html) = verify::write(&ws.reports_dir(), &report)?;
    println!("Report: {}\n        {}", html.display(), json.display());
    let msg = if report.ok {
        "every record accounted for".to_string()
    } else {
        report.problems.join("; ")
    };
    crate::runs::finish(&conn, &run_id, report.ok, &msg)?;
    if report.ok {
        Ok(0)
    } else {
        for p in &report.problems {
            eprintln!("verify: {p}");
        }
        Ok(crate::error::EXIT_CHECKS)
    }
}

/// A spinner with the read-back's requests so far and what it waits for
/// (hidden when stderr is not a terminal: the log has the lines).
async fn reading_back(client: std::sync::Arc<crate::http::ApiClient>) {
    let bar =
        indicatif::ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
    bar.set_style(indicatif::ProgressStyle::with_template("  {spinner} {msg}").unwrap());
    let started = std::time::Instant::now();
    loop {
        let p = crate::live::Pulse::of(std::slice::from_ref(&client));
        bar.set_message(format!(
            "{} requests to {} in {}{}",
            p.requests,
            client.api(),
            crate::live::duration(started.elapsed().as_secs()),
            p.waiting.map_or(String::new(), |w| format!(" · {w}"))
        ));
        bar.tick();
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

fn print_summary(r: &Report) {
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>7} {:>6} {:>7} {:>8} {:>8} {:>8} {:>11}",
        "object",
        "extracted",
        "output",
        "loaded",
        "failed",
        "held",
        "merged",
        "archived",
        "excluded",
        "pending",
        "unaccounted"
    );
    for f in &r.funnel {
        println!(
            "{:<14} {:>9} {:>9} {:>9} {:>7} {:>6} {:>7} {:>8} {:>8} {:>8} {:>11}",
            f.object,
            f.extracted,
            f.output,
            f.loaded,
            f.failed,
            f.held,
            f.merged,
            f.archived,
            f.excluded,
            f.pending,
            f.unaccounted
        );
    }
    for d in &r.destination {
        println!(
            "destination {:<14} created {:>7}, count {:>7}, missing {}",
            d.phase,
            d.created_by_ferry,
            d.destination_count
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            d.missing.len()
        );
    }
    let s = &r.sample;
    if s.requested > 0 {
        println!(
            "sample: {} conversations, {} messages, {} attachments, {} people read back from the destination, {} carried field values of {} records compared; {} mismatches",
            s.tickets_checked,
            s.comments_checked,
            s.attachments_checked,
            s.users_checked,
            s.fields_checked,
            s.field_records_checked,
            s.mismatches.len()
        );
        for m in s.mismatches.iter().take(20) {
            println!(
                "  {} → {} {}: expected {:?}, found {:?}",
                m.source_id, m.dest_id, m.field, m.expected, m.actual
            );
        }
    }
    if !r.manual_rules.is_empty() {
        // Named by what the source really had, not by another route's kinds.
        let mut kinds: Vec<&str> = r.manual_rules.iter().map(|m| m.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        println!(
            "{} rules to rebuild by hand ({}): see the report",
            r.manual_rules.len(),
            kinds.join(", ")
        );
    }
    for u in &r.unavailable {
        println!(
            "unavailable in the source: {} (HTTP {}): {}",
            u.object, u.status, u.reason
        );
    }
    for c in &r.changes {
        println!(
            "changes {:<14} {:>6} {:<8} {:<12} {}{}",
            c.phase,
            c.records,
            c.kind,
            c.status,
            c.action,
            c.detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    if !r.fields.inline_images_left.is_empty() {
        let m = &r.fields.inline_images_left[0];
        println!(
            "{} sampled messages still link their inline images to the source (not carried yet), e.g. {}: {}",
            r.fields.inline_images_left.len(),
            m.field,
            m.actual
        );
    }
    if !r.fields.not_carried_yet.is_empty() {
        let values: i64 = r.fields.not_carried_yet.iter().map(|f| f.values).sum();
        println!(
            "{} attribute paths ({} values) are not carried yet, e.g. {} {}: see the report's fields (verify_fields WHERE not_carried_yet)",
            r.fields.not_carried_yet.len(),
            values,
            r.fields.not_carried_yet[0].object,
            r.fields.not_carried_yet[0].path
        );
    }
    if r.incomplete_total > 0 {
        println!(
            "{} source records read only in part (e.g. {} {}: {}); all in the report",
            r.incomplete_total,
            r.incomplete[0].object,
            r.incomplete[0].source_id,
            r.incomplete[0].reason
        );
    }
}

/// Whether the destination's host takes a connection, within 5 seconds
/// (no request, no credential): a refused or silent host is named at once.
fn reachable(base_url: &str) -> Result<(), String> {
    let url = url::Url::parse(base_url).map_err(|e| format!("base_url {base_url}: {e}"))?;
    let host = url.host_str().ok_or("base_url has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("base_url has no port")?;
    let addrs: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map_err(|e| format!("{host}: {e}"))?
            .collect();
    let mut last = format!("{host} has no address");
    for a in addrs {
        match std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(last)
}
