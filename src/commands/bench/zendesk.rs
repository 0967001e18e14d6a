//! `ferry bench load --route kustomer-zendesk`: a generated org into a
//! Zendesk simulator whose bulk jobs each take a set time, once per job
//! duration. A Zendesk account runs at most 30 jobs at once ("Job limit"),
//! so the tickets phase can go no faster than
//! ceil(jobs / 30) × the job duration, nor faster than its requests allow
//! at the plan's budget (one create a job, at least one status poll): its
//! ceiling is the larger of the two, and the figure is the share of it
//! ferry reached. The bench account has no other integration, so ferry
//! leaves no headroom (`job_headroom = 0`).

use std::process::{Command, Stdio};
use std::time::Instant;

use super::{figure, generate_raw, run_child, sim_stats, workspace, Sim, KEY};

/// Loads `customers` at `rate_limit` once per entry of `job_seconds`.
pub fn load(customers: u32, rate_limit: u32, job_seconds: &[f64]) -> anyhow::Result<i32> {
    println!(
        "== load into Zendesk: {customers} customers at {rate_limit}/min, jobs of {job_seconds:?} s =="
    );
    println!(
        "{:>8} {:>8} {:>6} {:>10} {:>11} {:>11} {:>12} {:>10} {:>8}",
        "job s",
        "tickets",
        "jobs",
        "phase s",
        "ceiling s",
        "of ceiling",
        "tickets/min",
        "req/1000",
        "429s"
    );
    for secs in job_seconds {
        one(customers, rate_limit, *secs)?;
    }
    Ok(0)
}

fn one(customers: u32, rate_limit: u32, job_secs: f64) -> anyhow::Result<()> {
    let job_ms = ((job_secs * 1000.0).round() as u64).max(1).to_string();
    let zd = Sim::spawn(&[
        "zendesk",
        "--addr",
        "127.0.0.1:0",
        "--email",
        "bench@zd.test",
        "--token",
        KEY,
        "--rate-limit",
        &rate_limit.to_string(),
        "--bulk-user-imports",
        "--job-ms",
        &job_ms,
    ])?;
    let dir = workspace("load", "http://127.0.0.1:9", 1000)?;
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg)?
        .replace("YOUR-SUBDOMAIN", "unused")
        .replace("https://unused.zendesk.com", &zd.url)
        .replace("http://127.0.0.1:9", &zd.url)
        .replace(
            "rate_limit_per_minute = 700",
            &format!("rate_limit_per_minute = {rate_limit}"),
        )
        .replace("bulk_user_imports = \"auto\"", "bulk_user_imports = \"on\"")
        .replace("job_headroom = 5", "job_headroom = 0");
    std::fs::write(&cfg, text)?;
    generate_raw(&dir, customers)?;
    let (_, _, code) = run_child(&dir, &["transform"])?;
    anyhow::ensure!(code == 0, "transform failed (exit {code})");
    let exe = std::env::current_exe()?;
    let child = Command::new(&exe)
        .arg("-C")
        .arg(&dir)
        .args(["load"])
        .env("ZENDESK_EMAIL", "bench@zd.test")
        .env("ZENDESK_API_TOKEN", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    let mut status = 0i32;
    // SAFETY: plain libc call with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    anyhow::ensure!(rc > 0, "wait4 failed");
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "load failed (status {status}); workspace kept at {}",
        dir.display()
    );
    let stats = sim_stats(&zd.url)?;
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let (phase_secs, phase_requests, created): (f64, i64, i64) = conn.query_row(
        "SELECT sum(seconds), sum(requests)::BIGINT, sum(created)::BIGINT FROM ferry_load_phases WHERE phase = 'tickets'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    drop(conn);
    let jobs = (created as f64 / 100.0).ceil();
    // The least time the tickets phase can take: its jobs in rounds of 30,
    // each the job's duration; or its least requests (a create a job and
    // one poll) at the budget, whichever is longer.
    let by_jobs = (jobs / f64::from(crate::sim::zendesk::MAX_JOBS as u32)).ceil() * job_secs;
    let by_budget = (jobs + 1.0) / (f64::from(rate_limit) / 60.0);
    let ceiling = by_jobs.max(by_budget);
    let share = ceiling / phase_secs.max(1e-9) * 100.0;
    println!(
        "{:>8.1} {:>8} {:>6} {:>10.1} {:>11.1} {:>10.1}% {:>12.0} {:>10.1} {:>8}",
        job_secs,
        created,
        jobs,
        phase_secs,
        ceiling,
        share,
        created as f64 / phase_secs.max(1e-9) * 60.0,
        phase_requests as f64 / (created.max(1) as f64) * 1000.0,
        stats["throttled"]
    );
    figure(
        "load",
        format!("Zendesk tickets, jobs of {job_secs} s, {customers} customers at {rate_limit}/min ({share:.1}% of the job ceiling)"),
        created as u64,
        phase_secs,
        Some(share),
        stats["throttled"].as_u64(),
        usage.ru_maxrss as f64 / 1024.0,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = seconds;
    Ok(())
}
