//! `ferry bench extract`: the extractor against a simulator in a separate
//! process, so its figures (peak RSS above all) are the extractor's own.
//! Prints (a) share of a rate tier used and 429s received, (b) records/s
//! and peak RSS with the limit off, (c) requests per 1,000 conversations.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::cli::{BenchAllArgs, BenchExtractArgs, BenchLoadArgs, BenchTransformArgs};

mod enchant;
mod intercom;
mod salesforce;
mod zendesk;
use crate::config::InitOptions;

const KEY: &str = "bench-key";

/// One measured run, for the combined report of `ferry bench all`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    pub stage: String,
    pub run: String,
    pub records: u64,
    pub seconds: f64,
    pub records_per_s: f64,
    /// Requests per minute as a share of the rate tier (budget runs).
    pub budget_pct: Option<f64>,
    pub throttled: Option<u64>,
    pub peak_rss_mb: f64,
}

thread_local! {
    /// Figures of the runs so far (each bench pushes what it printed).
    static FIGURES: std::cell::RefCell<Vec<Figure>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[allow(clippy::too_many_arguments)]
fn figure(
    stage: &str,
    run: String,
    records: u64,
    seconds: f64,
    budget_pct: Option<f64>,
    throttled: Option<u64>,
    peak_rss_mb: f64,
) {
    FIGURES.with(|f| {
        f.borrow_mut().push(Figure {
            stage: stage.into(),
            run,
            records,
            seconds,
            records_per_s: records as f64 / seconds.max(1e-9),
            budget_pct,
            throttled,
            peak_rss_mb,
        })
    });
}

struct Sim {
    child: Child,
    url: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    /// Starts `ferry sim ARGS` as a process and reads its base URL, the
    /// first line it prints.
    fn spawn(args: &[&str]) -> anyhow::Result<Sim> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("sim")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
        Ok(Sim {
            child,
            url: line.trim().to_string(),
        })
    }
}

fn start_sim(customers: u32, rate: u32, search_rate: u32, latency_ms: u64) -> anyhow::Result<Sim> {
    Sim::spawn(&[
        "kustomer",
        "--addr",
        "127.0.0.1:0",
        "--seed",
        "7",
        "--api-key",
        KEY,
        "--customers",
        &customers.to_string(),
        "--rate-limit",
        &rate.to_string(),
        "--search-rate-limit",
        &search_rate.to_string(),
        "--latency-ms",
        &latency_ms.to_string(),
    ])
}

struct ExtractRun {
    seconds: f64,
    max_rss_mb: f64,
    ok: bool,
    records: i64,
}

/// Runs ferry with `args` in a child process; returns seconds, peak RSS in
/// MB (from `wait4`'s rusage) and the exit code.
fn run_child(dir: &Path, args: &[&str]) -> anyhow::Result<(f64, f64, i32)> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let child = Command::new(exe)
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("KUSTOMER_API_KEY", KEY)
        .env("INTERCOM_ACCESS_TOKEN", KEY)
        .env("ENCHANT_API_TOKEN", KEY)
        .env("SALESFORCE_CLIENT_ID", salesforce::CLIENT)
        .env("SALESFORCE_CLIENT_SECRET", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut status = 0i32;
    // SAFETY: plain libc call with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    anyhow::ensure!(rc > 0, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((
        started.elapsed().as_secs_f64(),
        usage.ru_maxrss as f64 / 1024.0,
        code,
    ))
}

fn run_extract(dir: &Path) -> anyhow::Result<ExtractRun> {
    let (seconds, max_rss_mb, code) = run_child(dir, &["extract", "--no-progress"])?;
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let records: i64 = conn.query_row(
        "SELECT coalesce(sum(records), 0) FROM ferry_raw_parts",
        [],
        |r| r.get(0),
    )?;
    Ok(ExtractRun {
        seconds,
        max_rss_mb,
        ok: code == 0,
        records,
    })
}

fn workspace(name: &str, url: &str, rate: u32) -> anyhow::Result<PathBuf> {
    route_workspace("kustomer-zendesk", name, url, "http://127.0.0.1:9", rate)
}

/// A fresh workspace for `route` in the temp directory.
fn route_workspace(
    route: &str,
    name: &str,
    source_url: &str,
    dest_url: &str,
    rate: u32,
) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ferry-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    crate::workspace::init(
        &dir,
        crate::routes::find(route).expect("registered route"),
        &InitOptions {
            source_url: Some(source_url.to_string()),
            dest_url: Some(dest_url.to_string()),
            rate_limit: Some(rate),
        },
    )?;
    Ok(dir)
}

/// Records a load put in the destination, per load phase (`ferry_id_map`).
fn loaded_by_phase(
    dir: &Path,
    dest: &str,
) -> anyhow::Result<std::collections::HashMap<String, u64>> {
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let mut stmt =
        conn.prepare("SELECT dest_object, count(*) FROM ferry_id_map WHERE dest = ? GROUP BY ALL")?;
    let loaded = stmt
        .query_map([dest], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(loaded)
}

fn sim_stats(url: &str) -> anyhow::Result<serde_json::Value> {
    let rt = super::runtime()?;
    rt.block_on(async {
        Ok(reqwest::get(format!("{url}/__sim/stats"))
            .await?
            .json()
            .await?)
    })
}

pub fn extract(args: BenchExtractArgs) -> anyhow::Result<i32> {
    if !args.skip_budget {
        // ≈4.5 requests per customer (lists, searches, one body read per
        // email, attachments): size the org so the run lasts at least the
        // requested time at the tier.
        let customers = args
            .budget_customers
            .unwrap_or((args.rate_limit as u64 * args.budget_seconds / 60 * 2 / 9) as u32);
        for &latency in &args.latency_ms {
            let sim = start_sim(customers, args.rate_limit, 100, latency)?;
            let dir = workspace("budget", &sim.url, args.rate_limit)?;
            let run = run_extract(&dir)?;
            let stats = sim_stats(&sim.url)?;
            let requests = stats["requests"].as_f64().unwrap_or(0.0);
            let per_min = requests / run.seconds * 60.0;
            println!(
                "== budget: tier {} req/min, {customers} customers, {latency} ms latency ==",
                args.rate_limit
            );
            println!(
                "  duration            {:.1} s ({})",
                run.seconds,
                if run.ok { "ok" } else { "FAILED" }
            );
            println!("  requests            {requests:.0}");
            println!(
                "  achieved            {per_min:.0} req/min = {:.1}% of the tier",
                per_min / args.rate_limit as f64 * 100.0
            );
            println!("  429s received       {}", stats["throttled"]);
            figure(
                "extract",
                format!(
                    "budget at {}/min, {customers} customers, {latency} ms latency",
                    args.rate_limit
                ),
                run.records as u64,
                run.seconds,
                Some(per_min / args.rate_limit as f64 * 100.0),
                stats["throttled"].as_u64(),
                run.max_rss_mb,
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    if !args.skip_speed {
        let mut sizes = Vec::new();
        if let Some(s) = args.scale_customers {
            sizes.push(s);
        }
        sizes.push(args.customers);
        for customers in sizes {
            let sim = start_sim(customers, 0, 0, 0)?;
            let dir = workspace("speed", &sim.url, 10_000_000)?;
            let run = run_extract(&dir)?;
            let stats = sim_stats(&sim.url)?;
            let requests = stats["requests"].as_f64().unwrap_or(0.0);
            let convs = stats["objects"]["conversations"].as_f64().unwrap_or(1.0);
            println!("== raw speed: limit off, {customers} customers ==");
            println!("  objects             {}", stats["objects"]);
            println!(
                "  duration            {:.1} s ({})",
                run.seconds,
                if run.ok { "ok" } else { "FAILED" }
            );
            println!(
                "  records landed      {} ({:.0} records/s)",
                run.records,
                run.records as f64 / run.seconds
            );
            println!("  peak RSS extractor  {:.1} MB", run.max_rss_mb);
            println!(
                "  requests            {requests:.0} = {:.1} per 1,000 conversations",
                requests / convs * 1000.0
            );
            figure(
                "extract",
                format!("limit off, {customers} customers"),
                run.records as u64,
                run.seconds,
                None,
                stats["throttled"].as_u64(),
                run.max_rss_mb,
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    Ok(0)
}

/// Writes a generated org straight to raw Parquet parts (no HTTP), the same
/// records the simulator would serve.
fn generate_raw(dir: &Path, customers: u32) -> anyhow::Result<(u64, u64)> {
    generate_raw_org(dir, customers, true)
}

/// The generated org as raw Parquet; without `giant`, the bulk-imported
/// 5,050-message thread is left out (one request per message makes it
/// ~51 minutes on its own at 100 credits/min, saying nothing new).
fn generate_raw_org(dir: &Path, customers: u32, giant: bool) -> anyhow::Result<(u64, u64)> {
    use crate::sim::kustomer::{data, records};
    let org = data::Org::generate(7, customers, chrono::Utc::now().timestamp_millis());
    let left_out = |kind: data::Kind, i: u32| {
        !giant
            && match kind {
                data::Kind::Conversations => i == org.giant,
                data::Kind::Messages => org.message_conv(i) == org.giant,
                data::Kind::Notes => org.note_conv(i) == org.giant,
                _ => false,
            }
    };
    let mut total = 0u64;
    for kind in data::KINDS {
        let out = dir.join("raw/kustomer").join(kind.plural());
        let n = org.count(kind);
        let mut seq = 0;
        let mut start = 0u32;
        while start < n {
            let end = (start + 20_000).min(n);
            let recs: Vec<crate::land::RawRecord> = (start..end)
                .filter(|&i| !left_out(kind, i))
                .map(|i| {
                    let m = org.meta[&kind][i as usize];
                    // Attachment bytes land content-addressed, as extract does.
                    let (sha256, size_bytes) = if kind == data::Kind::Attachments {
                        let (_, _, bytes) = records::attachment_file(&org, i);
                        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                        let path = crate::land::attachment_path(dir, &sha);
                        if !path.exists() {
                            std::fs::write(&path, &bytes)?;
                        }
                        (Some(sha), Some(bytes.len() as i64))
                    } else {
                        (None, None)
                    };
                    Ok(crate::land::RawRecord {
                        id: records::id(&org, kind, i),
                        created_at: Some(m.created),
                        updated_at: Some(m.updated),
                        origin: "generated",
                        sha256,
                        size_bytes,
                        json: records::record(&org, kind, i).to_string(),
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            if recs.is_empty() {
                start = end;
                continue;
            }
            crate::land::write_part(dir, &out, "bench", seq, &recs)?;
            seq += 1;
            total += recs.len() as u64;
            start = end;
        }
    }
    let messages = (0..org.count(data::Kind::Messages))
        .filter(|&i| !left_out(data::Kind::Messages, i))
        .count();
    Ok((total, messages as u64))
}

pub fn transform(args: BenchTransformArgs) -> anyhow::Result<i32> {
    let mut sizes = Vec::new();
    if let Some(s) = args.scale_customers {
        sizes.push(s);
    }
    sizes.push(args.customers);
    let mut failed = false;
    for customers in sizes {
        let dir = workspace(
            &format!("transform-{customers}"),
            "http://127.0.0.1:9",
            1000,
        )?;
        if let Some(limit) = &args.memory_limit {
            let cfg = dir.join("ferry.toml");
            let text = std::fs::read_to_string(&cfg)?;
            let set = format!("memory_limit = {limit:?}");
            anyhow::ensure!(
                text.contains("memory_limit = "),
                "ferry.toml template has no memory_limit"
            );
            // Only the [transform] section's limit ([destination] has one too).
            let mut section = String::new();
            let text: String = text
                .lines()
                .map(|l| {
                    if l.starts_with('[') {
                        section = l.to_string();
                    }
                    if section == "[transform]" && l.starts_with("memory_limit = ") {
                        set.clone()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(&cfg, text + "\n")?;
        }
        let started = Instant::now();
        let (records, messages) = generate_raw(&dir, customers)?;
        println!("== transform: {customers} customers, {records} raw records ({messages} messages), generated in {:.1} s ==", started.elapsed().as_secs_f64());
        let (seconds, rss, code) = run_child(&dir, &["transform", "--rebuild"])?;
        let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
        let mut stmt = conn.prepare(
            "SELECT name, rows, duration_ms FROM ferry_sql_ledger WHERE version > 0 AND status = 'applied' ORDER BY version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for r in rows {
            let (name, n, ms) = r?;
            println!(
                "  {name:<18} {n:>10} rows {ms:>8} ms {:>12.0} rows/s",
                n as f64 / (ms.max(1) as f64 / 1000.0)
            );
        }
        println!("  total               {seconds:.1} s (exit {code}; 3 = a check found rows), peak RSS {rss:.0} MB");
        // A failed transform (not a failing check) is no figure to compare.
        let ok = code == 0 || code == 3;
        failed |= !ok;
        figure(
            "transform",
            format!(
                "--rebuild, {customers} customers{}",
                if ok { "" } else { " (FAILED)" }
            ),
            records,
            seconds,
            None,
            None,
            rss,
        );
        if args.keep {
            println!("  workspace kept: {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    Ok(i32::from(failed))
}

/// Loads a generated, transformed org into the route's destination
/// simulator.
pub fn load(args: BenchLoadArgs) -> anyhow::Result<i32> {
    let route = args
        .route
        .clone()
        .unwrap_or_else(|| crate::routes::ROUTES[0].name.to_string());
    match route.as_str() {
        "kustomer-zendesk" => zendesk::load(
            args.customers.unwrap_or(1_500),
            args.rate_limit.unwrap_or(700),
            &args.job_seconds,
        ),
        "kustomer-enchant" => enchant::load(
            args.customers.unwrap_or(20),
            args.rate_limit.unwrap_or(100),
            args.burst,
            args.giant,
        ),
        "kustomer-salesforce" => salesforce::load(args.customers.unwrap_or(2000)),
        "intercom-kustomer" => intercom::load(
            args.customers.unwrap_or(2000),
            args.rate_limit.unwrap_or(1000),
        ),
        other => anyhow::bail!(
            "ferry bench load --route {other}: not measured yet (kustomer-zendesk, kustomer-enchant, kustomer-salesforce, intercom-kustomer)"
        ),
    }
}

/// `ferry bench all`: every stage, 1× and 10× where it scales, one table
/// and one JSON report.
pub fn all(workspace: &Path, args: BenchAllArgs) -> anyhow::Result<i32> {
    let (small, big, budget_s, load_customers) = if args.quick {
        (300, 3_000, 60, 150)
    } else {
        (5_000, 50_000, 120, 1_500)
    };
    extract(BenchExtractArgs {
        customers: big,
        rate_limit: 1000,
        budget_seconds: budget_s,
        scale_customers: Some(small),
        skip_budget: false,
        skip_speed: false,
        latency_ms: vec![0],
        budget_customers: None,
    })?;
    transform(BenchTransformArgs {
        customers: big,
        scale_customers: Some(small),
        memory_limit: None,
        keep: false,
    })?;
    zendesk::load(load_customers, 700, &[1.0, 10.0])?;
    // Enchant's real budget: 100 credits a minute, 6 requests a second.
    enchant::load(if args.quick { 6 } else { 20 }, 100, 6, false)?;
    salesforce::load(if args.quick { 300 } else { 2000 })?;
    let figures = FIGURES.with(|f| f.borrow().clone());
    println!(
        "\n{:<10} {:<58} {:>10} {:>9} {:>11} {:>8} {:>6} {:>9}",
        "stage", "run", "records", "seconds", "records/s", "budget", "429s", "peak RSS"
    );
    for f in &figures {
        println!(
            "{:<10} {:<58} {:>10} {:>9.1} {:>11.0} {:>8} {:>6} {:>6.0} MB",
            f.stage,
            f.run,
            f.records,
            f.seconds,
            f.records_per_s,
            f.budget_pct
                .map(|p| format!("{p:.1} %"))
                .unwrap_or_else(|| "-".into()),
            f.throttled
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            f.peak_rss_mb
        );
    }
    // Scaling: time should grow with the data, memory should not.
    let mut scaling = Vec::new();
    for stage in ["extract", "transform"] {
        let runs: Vec<&Figure> = figures
            .iter()
            .filter(|f| f.stage == stage && f.budget_pct.is_none())
            .collect();
        if let [a, b] = runs[..] {
            let s = serde_json::json!({
                "stage": stage,
                "data": b.records as f64 / a.records.max(1) as f64,
                "time": b.seconds / a.seconds.max(1e-9),
                "memory": b.peak_rss_mb / a.peak_rss_mb.max(1e-9),
            });
            println!(
                "scaling {stage:<10} {:.1}× the records: {:.1}× the time, {:.2}× the peak memory",
                s["data"].as_f64().unwrap(),
                s["time"].as_f64().unwrap(),
                s["memory"].as_f64().unwrap()
            );
            scaling.push(s);
        }
    }
    let dir = crate::workspace::absolute(workspace)?.join("reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!(
        "bench-{}.json",
        chrono::Utc::now().format("%Y-%m-%dT%H%M%SZ")
    ));
    let machine = serde_json::json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    });
    let report = serde_json::json!({
        "created_at": chrono::Utc::now().to_rfc3339(),
        "ferry_version": env!("CARGO_PKG_VERSION"),
        "quick": args.quick,
        "machine": machine,
        "figures": figures,
        "scaling": scaling,
    });
    crate::fsutil::write_atomic(&path, &serde_json::to_vec_pretty(&report)?)?;
    println!("Report: {}", path.display());
    Ok(0)
}
