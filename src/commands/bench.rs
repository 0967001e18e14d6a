//! `ferry bench extract`: the extractor against a simulator in a separate
//! process, so its figures (peak RSS above all) are the extractor's own.
//! Prints (a) share of a rate tier used and 429s received, (b) records/s
//! and peak RSS with the limit off, (c) requests per 1,000 conversations.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::cli::{BenchExtractArgs, BenchLoadArgs, BenchTransformArgs};
use crate::config::InitOptions;

const KEY: &str = "bench-key";

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

fn start_sim(customers: u32, rate: u32, search_rate: u32) -> anyhow::Result<Sim> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args([
            "sim",
            "kustomer",
            "--addr",
            "127.0.0.1:0",
            "--seed",
            "7",
            "--api-key",
            KEY,
        ])
        .args([
            "--customers",
            &customers.to_string(),
            "--rate-limit",
            &rate.to_string(),
        ])
        .args(["--search-rate-limit", &search_rate.to_string()])
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
    let dir = std::env::temp_dir().join(format!("ferry-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    crate::workspace::init(
        &dir,
        &InitOptions {
            route: "kustomer-zendesk".into(),
            source_url: Some(url.to_string()),
            dest_url: Some("http://127.0.0.1:9".into()),
            rate_limit: Some(rate),
        },
    )?;
    Ok(dir)
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
        // ≈0.25 list requests per customer: size the org so the run lasts
        // at least the requested time at the tier.
        let customers = (args.rate_limit as u64 * args.budget_seconds / 60 * 4) as u32;
        let sim = start_sim(customers, args.rate_limit, 100)?;
        let dir = workspace("budget", &sim.url, args.rate_limit)?;
        let run = run_extract(&dir)?;
        let stats = sim_stats(&sim.url)?;
        let requests = stats["requests"].as_f64().unwrap_or(0.0);
        let per_min = requests / run.seconds * 60.0;
        println!(
            "== budget: tier {} req/min, {customers} customers ==",
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
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !args.skip_speed {
        let mut sizes = Vec::new();
        if let Some(s) = args.scale_customers {
            sizes.push(s);
        }
        sizes.push(args.customers);
        for customers in sizes {
            let sim = start_sim(customers, 0, 0)?;
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
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    Ok(0)
}

/// Writes a generated org straight to raw Parquet parts (no HTTP), the same
/// records the simulator would serve.
fn generate_raw(dir: &Path, customers: u32) -> anyhow::Result<(u64, u64)> {
    use crate::connectors::kustomer::sim::{data, records};
    let org = data::Org::generate(7, customers, chrono::Utc::now().timestamp_millis());
    let mut total = 0u64;
    for kind in data::KINDS {
        let out = dir.join("raw/kustomer").join(kind.plural());
        let n = org.count(kind);
        let mut seq = 0;
        let mut start = 0u32;
        while start < n {
            let end = (start + 20_000).min(n);
            let recs: Vec<crate::land::RawRecord> = (start..end)
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
            crate::land::write_part(dir, &out, "bench", seq, &recs)?;
            seq += 1;
            total += recs.len() as u64;
            start = end;
        }
    }
    Ok((total, org.count(data::Kind::Messages) as u64))
}

pub fn transform(args: BenchTransformArgs) -> anyhow::Result<i32> {
    let mut sizes = Vec::new();
    if let Some(s) = args.scale_customers {
        sizes.push(s);
    }
    sizes.push(args.customers);
    for customers in sizes {
        let dir = workspace("transform", "http://127.0.0.1:9", 1000)?;
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
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(0)
}

/// Loads a generated, transformed org into a Zendesk simulator process.
pub fn load(args: BenchLoadArgs) -> anyhow::Result<i32> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(&exe)
        .args([
            "sim",
            "zendesk",
            "--addr",
            "127.0.0.1:0",
            "--email",
            "bench@zd.test",
            "--token",
            KEY,
        ])
        .args(["--rate-limit", &args.rate_limit.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
    let zd = Sim {
        child,
        url: line.trim().to_string(),
    };
    let dir = workspace("load", "http://127.0.0.1:9", 1000)?;
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg)?
        .replace("YOUR-SUBDOMAIN", "unused")
        .replace("https://unused.zendesk.com", &zd.url)
        .replace("http://127.0.0.1:9", &zd.url)
        .replace(
            "rate_limit_per_minute = 700",
            &format!("rate_limit_per_minute = {}", args.rate_limit),
        );
    std::fs::write(&cfg, text)?;
    let (records, _) = generate_raw(&dir, args.customers)?;
    let (secs, _, code) = run_child(&dir, &["transform"])?;
    println!(
        "== load: {} customers, {records} raw records, transformed in {secs:.1} s (exit {code}) ==",
        args.customers
    );
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let tickets: i64 =
        conn.query_row("SELECT count(*) FROM out_zendesk_tickets", [], |r| r.get(0))?;
    let comments: i64 = conn.query_row("SELECT count(*) FROM out_zendesk_comments", [], |r| {
        r.get(0)
    })?;
    drop(conn);
    let exe_env = Command::new(&exe)
        .arg("-C")
        .arg(&dir)
        .args(["load"])
        .env("ZENDESK_EMAIL", "bench@zd.test")
        .env("ZENDESK_API_TOKEN", KEY)
        // The per-phase table of `ferry load` is part of the figures.
        .stdout(Stdio::inherit())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    let mut status = 0i32;
    // SAFETY: plain libc call with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(exe_env.id() as i32, &mut status, 0, &mut usage) };
    anyhow::ensure!(rc > 0, "wait4 failed");
    let seconds = started.elapsed().as_secs_f64();
    let stats = sim_stats(&zd.url)?;
    let requests = stats["requests"].as_f64().unwrap_or(0.0);
    let per_min = requests / seconds * 60.0;
    println!("  output              {tickets} tickets, {comments} comments");
    println!(
        "  duration            {seconds:.1} s (exit {})",
        libc::WEXITSTATUS(status)
    );
    println!(
        "  requests            {requests:.0} = {per_min:.0}/min = {:.1}% of the {} tier",
        per_min / args.rate_limit as f64 * 100.0,
        args.rate_limit
    );
    println!(
        "  tickets/min         {:.0}",
        stats["objects"]["tickets"].as_f64().unwrap_or(0.0) / seconds * 60.0
    );
    println!("  429s received       {}", stats["throttled"]);
    println!(
        "  peak RSS loader     {:.1} MB",
        usage.ru_maxrss as f64 / 1024.0
    );
    println!("  destination         {}", stats["objects"]);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(0)
}
