//! `ferry bench load --route kustomer-enchant`: a generated org loaded into
//! an Enchant simulator process that counts credits the way the API
//! announces them (a fixed window per minute, a per-second burst cap).
//! Prints the share of each full credit window ferry used, requests per
//! conversation against the API's minimum, 429s, peak RSS, and the ETA
//! `ferry load --dry-run` printed against the measured time.

use std::process::Command;
use std::time::Instant;

use super::{figure, generate_raw_org, route_workspace, run_child, sim_stats, Sim, KEY};

const ROUTE: &str = "kustomer-enchant";
/// The simulator's seeded admin: the fallback agent.
const ADMIN: &str = "admin@enchant.test";

/// Starts `ferry sim enchant` with the users and labels an admin would have
/// set up for the generated org (seed 7, as `generate_raw`).
fn start(customers: u32, credits: u32, burst: u32) -> anyhow::Result<Sim> {
    Sim::spawn(&[
        "enchant",
        "--addr",
        "127.0.0.1:0",
        "--token",
        KEY,
        "--credits",
        &credits.to_string(),
        "--burst",
        &burst.to_string(),
        "--mirror-kustomer-seed",
        "7",
        "--mirror-kustomer-customers",
        &customers.to_string(),
    ])
}

/// The estimate `ferry load --dry-run` printed: (requests, minutes).
fn dry_run_estimate(out: &str) -> Option<(f64, f64)> {
    let line = out.lines().find(|l| l.contains(" requests; at "))?;
    let requests = line
        .trim_start_matches('≈')
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    // "… that is ≈12.5 minutes." or "… ≈3.1 hours = 186 minutes."
    let before = line.split(" minutes").next()?;
    let minutes = before.rsplit(['≈', ' ']).next()?.parse().ok()?;
    Some((requests, minutes))
}

/// One count from the workspace's DuckDB.
fn count(conn: &duckdb::Connection, sql: &str) -> anyhow::Result<u64> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
}

pub fn load(customers: u32, credits: u32, burst: u32, giant: bool) -> anyhow::Result<i32> {
    let sim = start(customers, credits, burst)?;
    let root = sim.url.trim_end_matches("/api/v1").to_string();
    let dir = route_workspace(ROUTE, "enchant-load", "http://127.0.0.1:9", &sim.url, 1000)?;
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg)?
        .replace(
            "credits_per_minute = 100\n",
            &format!("credits_per_minute = {credits}\n"),
        )
        .replace(
            "burst_per_second = 6\n",
            &format!("burst_per_second = {burst}\n"),
        )
        .replace(
            "fallback_agent_email = \"admin@example.com\"",
            &format!("fallback_agent_email = \"{ADMIN}\""),
        );
    crate::fsutil::write_atomic(&cfg, text.as_bytes())?;
    let rt = super::super::runtime()?;
    let dump: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{root}/__sim/dump"))
            .await?
            .json()
            .await
    })?;
    let route = crate::routes::find(ROUTE).expect("registered route");
    crate::commands::demo::write_label_map(&dir, route, &dump)?;
    let (records, _) = generate_raw_org(&dir, customers, giant)?;
    let (secs, _, code) = run_child(&dir, &["transform"])?;
    println!(
        "== load into Enchant: {customers} customers, {records} raw records, transformed in {secs:.1} s (exit {code}) =="
    );
    anyhow::ensure!(code == 0, "transform failed (exit {code})");

    let dry = Command::new(std::env::current_exe()?)
        .arg("-C")
        .arg(&dir)
        .args(["load", "--dry-run"])
        .env("ENCHANT_API_TOKEN", KEY)
        .output()?;
    let dry_text = String::from_utf8_lossy(&dry.stdout).to_string();
    let estimate = dry_run_estimate(&dry_text);
    let windows_before = sim_stats(&root)?["credit_windows"]
        .as_array()
        .map_or(0, Vec::len);

    let started = Instant::now();
    let (seconds, rss, code) = run_child(&dir, &["load"])?;
    let measured_min = started.elapsed().as_secs_f64() / 60.0;
    let stats = sim_stats(&root)?;
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let loaded = |phase: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM ferry_id_map WHERE dest = 'enchant' AND dest_object = '{phase}'"),
        )
    };
    let tickets = loaded("tickets")?;
    // The least any client needs: one create per customer, upload, ticket
    // and message, one PATCH per ticket for its state and labels (the
    // create takes neither), and the pages of GET /users to match agents.
    let users = dump["users"].as_array().map_or(0, Vec::len) as u64;
    let minimum = loaded("customers")?
        + loaded("attachments")?
        + tickets
        + loaded("messages")?
        + loaded("kobject_notes")?
        + loaded("ticket_state")?
        + users.div_ceil(100);
    let mut per_phase = conn.prepare(
        "SELECT phase, sum(requests) FROM ferry_load_phases GROUP BY phase ORDER BY min(finished_at)",
    )?;
    let phases: Vec<(String, i64)> = per_phase
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop(per_phase);
    drop(conn);

    let requests = stats["requests"].as_f64().unwrap_or(0.0);
    let credits_used = stats["credits_used"].as_f64().unwrap_or(0.0);
    // Full windows only: the one running when the load began also held
    // the dry run's reads, the last one ends with the work.
    let windows: Vec<f64> = stats["credit_windows"]
        .as_array()
        .map(|w| w.iter().filter_map(|c| c.as_f64()).collect())
        .unwrap_or_default();
    let full = if windows.len() > windows_before + 1 {
        &windows[windows_before..windows.len() - 1]
    } else {
        &[][..]
    };
    let share = (!full.is_empty())
        .then(|| full.iter().sum::<f64>() / (full.len() as f64 * credits as f64) * 100.0);
    let per_conv = |n: f64| n / tickets.max(1) as f64;
    println!(
        "  output              {tickets} tickets, {} messages, {} customers, {} uploads",
        stats["messages"], stats["customers"], stats["attachments"]
    );
    println!("  duration            {seconds:.1} s (exit {code})");
    println!("  credits             {credits_used:.0} used at {credits}/min, burst {burst}/s");
    match share {
        Some(s) => println!(
            "  budget used         {s:.1}% of each full window ({} windows: {:?})",
            full.len(),
            full
        ),
        None => println!(
            "  budget used         - (the load ended within two windows: use more --customers)"
        ),
    }
    println!("  429s received       {}", stats["throttled"]);
    println!(
        "  requests            {requests:.0} = {:.1} per conversation; the API's minimum {minimum} = {:.1} per conversation (+{:.1}%)",
        per_conv(requests),
        per_conv(minimum as f64),
        (requests / minimum.max(1) as f64 - 1.0) * 100.0
    );
    let by_phase: Vec<String> = phases.iter().map(|(p, n)| format!("{p} {n}")).collect();
    println!("  requests by phase   {}", by_phase.join(", "));
    println!("  emails sent         {}", stats["emails_sent"]);
    match estimate {
        Some((req, min)) => println!(
            "  dry-run estimate    {req:.0} requests, {min:.1} min; measured {requests:.0} requests, {measured_min:.1} min ({:+.1}% time)",
            (measured_min / min.max(1e-9) - 1.0) * 100.0
        ),
        None => println!("  dry-run estimate    not found in its output:\n{dry_text}"),
    }
    println!("  peak RSS loader     {rss:.1} MB");
    figure(
        "load",
        format!(
            "Enchant: {customers} customers{} at {credits} credits/min, burst {burst}/s ({tickets} tickets)",
            if giant { " and the 5,050-message thread" } else { "" }
        ),
        tickets,
        seconds,
        share,
        stats["throttled"].as_u64(),
        rss,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(i32::from(code != 0))
}

#[cfg(test)]
mod tests {
    use super::dry_run_estimate;

    #[test]
    fn reads_the_dry_run_estimate_in_minutes_hours_and_days() {
        let m = "≈420 requests; at 100/min and with the destination's job queue that is ≈4.2 minutes. Nothing was sent.";
        assert_eq!(dry_run_estimate(m), Some((420.0, 4.2)));
        let h = "≈30000 requests; at 100/min and with the destination's job queue that is ≈5.0 hours = 300 minutes. Nothing was sent.";
        assert_eq!(dry_run_estimate(h), Some((30000.0, 300.0)));
        assert_eq!(dry_run_estimate("no estimate"), None);
    }
}
