//! `ferry bench load --route intercom-kustomer`: a generated Intercom
//! workspace extracted from an Intercom simulator process (its 10-second
//! windows at 10,000 requests a minute) and loaded into a Kustomer org
//! simulator at a plan budget. Figures: extract records/s and the share of
//! the 10-second budget used; load records/s, the share of Kustomer's
//! per-minute budget, requests per 1,000 conversations against the API's
//! minimum; peak RSS of each stage.

use super::{figure, route_workspace, run_child, sim_stats, Sim, KEY};

const ROUTE: &str = "intercom-kustomer";
/// Intercom's budget for a private app (its docs: 10,000 a minute, in
/// 10-second windows).
const INTERCOM_PER_MINUTE: u32 = 10_000;
/// Milliseconds between bulk polls in the bench (ferry's default is 1,000).
const POLL_MS: u64 = 250;

pub fn load(contacts: u32, rate_limit: u32) -> anyhow::Result<i32> {
    let source = Sim::spawn(&[
        "intercom",
        "--addr",
        "127.0.0.1:0",
        "--seed",
        "7",
        "--token",
        KEY,
        "--contacts",
        &contacts.to_string(),
        "--per-minute",
        &INTERCOM_PER_MINUTE.to_string(),
    ])?;
    let dest = Sim::spawn(&[
        "kustomer",
        "--addr",
        "127.0.0.1:0",
        "--api-key",
        KEY,
        "--destination",
        "--mirror-intercom-seed",
        "7",
        "--kb-languages",
        "en_us,fr",
        "--rate-limit",
        &rate_limit.to_string(),
    ])?;
    let dir = route_workspace(
        ROUTE,
        "intercom-kustomer",
        &source.url,
        &dest.url,
        rate_limit,
    )?;
    let cfg = dir.join("ferry.toml");
    let mut text = std::fs::read_to_string(&cfg)?;
    // The source keeps Intercom's own budget; `--rate-limit` is Kustomer's.
    text = text.replacen(
        &format!("rate_limit_per_minute = {rate_limit}\nper_page"),
        &format!("rate_limit_per_minute = {INTERCOM_PER_MINUTE}\nper_page"),
        1,
    );
    text = text.replace("bulk_poll_ms = 1000", &format!("bulk_poll_ms = {POLL_MS}"));
    crate::fsutil::write_atomic(&cfg, text.as_bytes())?;

    let (secs, rss, code) = run_child(&dir, &["extract", "--no-progress"])?;
    anyhow::ensure!(code == 0, "extract failed (exit {code})");
    let conn = duckdb::Connection::open(dir.join("ferry.duckdb"))?;
    let records: i64 = conn.query_row(
        "SELECT coalesce(sum(records), 0) FROM ferry_raw_parts",
        [],
        |r| r.get(0),
    )?;
    drop(conn);
    let s = sim_stats(&source.url)?;
    let requests = s["requests"].as_u64().unwrap_or(0);
    let per_window = s["per_window"].as_u64().unwrap_or(1);
    let windows = (secs / 10.0).max(1.0);
    let share = requests as f64 / (windows * per_window as f64) * 100.0;
    println!("== extract from Intercom: {contacts} contacts ==");
    println!(
        "  duration            {secs:.1} s, {records} records, {:.0} records/s",
        records as f64 / secs.max(1e-9)
    );
    println!(
        "  requests            {requests} ({} throttled): {share:.1}% of the 10-second windows' budget ({per_window} a window)",
        s["throttled"]
    );
    println!("  peak RSS            {rss:.0} MB");
    figure(
        "extract",
        format!("intercom {contacts} contacts"),
        records as u64,
        secs,
        Some(share),
        s["throttled"].as_u64(),
        rss,
    );

    let (tsecs, _, code) = run_child(&dir, &["transform"])?;
    anyhow::ensure!(code == 0, "transform failed (exit {code})");
    let (seconds, rss, code) = run_child(&dir, &["load"])?;
    let stats = sim_stats(&dest.url)?;
    let used = stats["requests"].as_u64().unwrap_or(0);
    let loaded = super::loaded_by_phase(&dir, "kustomer")?;
    let n = |p: &str| loaded.get(p).copied().unwrap_or(0);
    let total: u64 = loaded.values().sum();
    let conversations = n("conversations");
    // The least a client needs: per bulk of 100, the POST, one poll that
    // finds it complete, the batch read; one request per attachment record
    // (the bytes go to storage, outside the budget), per declared
    // attribute, per klass and per snooze (a PUT each); one page of users;
    // one page of teams and a create per team.
    let bulk = |rows: u64| rows.div_ceil(100) * 3;
    let minimum = bulk(n("companies"))
        + bulk(n("customers"))
        + bulk(n("conversations"))
        + bulk(n("messages"))
        + bulk(n("notes"))
        + bulk(n("kobjects"))
        + n("attachments")
        + n("metadata")
        + n("klasses")
        + n("snoozes")
        + 1
        + 1
        + n("teams");
    let per_k = |x: u64| x as f64 * 1000.0 / conversations.max(1) as f64;
    let budget = seconds / 60.0 * rate_limit as f64;
    let share = used as f64 / budget.max(1.0) * 100.0;
    println!("== load into Kustomer: transformed in {tsecs:.1} s ==");
    println!(
        "  output              {conversations} conversations, {} messages, {} notes, {} customers, {} companies, {} files, {} KObjects, {} attributes",
        n("messages"), n("notes"), n("customers"), n("companies"), n("attachments"), n("kobjects"), n("metadata")
    );
    println!(
        "  duration            {seconds:.1} s (exit {code}), {:.0} records/s",
        total as f64 / seconds.max(1e-9)
    );
    println!(
        "  requests            {used} = {:.0} per 1,000 conversations; the API's minimum {minimum} = {:.0} (bulk polls every {POLL_MS} ms)",
        per_k(used),
        per_k(minimum)
    );
    println!("  requests by kind    {}", stats["by_operation"]);
    println!(
        "  budget              {share:.1}% of {rate_limit}/min over the load's {seconds:.0} s, {} throttled",
        stats["throttled"]
    );
    println!("  peak RSS            {rss:.0} MB");
    figure(
        "load",
        format!("kustomer {conversations} conversations"),
        total,
        seconds,
        Some(share),
        stats["throttled"].as_u64(),
        rss,
    );
    Ok(code)
}
