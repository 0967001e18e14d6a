//! `ferry bench load --route kustomer-salesforce`: a generated org loaded
//! into a Salesforce simulator process. Salesforce has no per-minute
//! limit, so the figures are the load's speed (records/s), its share of
//! the daily allocation, and its requests per 1,000 conversations against
//! the API's minimum — and against sending every phase through
//! Collections, to show what Bulk API 2.0 saves.

use super::{figure, generate_raw, route_workspace, run_child, sim_stats, Sim, KEY};

const ROUTE: &str = "kustomer-salesforce";
/// The connected app's consumer key the simulator accepts (the secret is KEY).
pub const CLIENT: &str = "bench-client";

fn start(customers: u32) -> anyhow::Result<Sim> {
    Sim::spawn(&[
        "salesforce",
        "--addr",
        "127.0.0.1:0",
        "--client-id",
        CLIENT,
        "--client-secret",
        KEY,
        "--daily-requests",
        "1000000",
        "--bulk-delay-ms",
        "300",
        "--mirror-kustomer-seed",
        "7",
        "--mirror-kustomer-customers",
        &customers.to_string(),
    ])
}

pub fn load(customers: u32) -> anyhow::Result<i32> {
    let sim = start(customers)?;
    let dir = route_workspace(
        ROUTE,
        "salesforce-load",
        "http://127.0.0.1:9",
        &sim.url,
        1000,
    )?;
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg)?.replace(
        "requests_per_minute = 3000\n",
        "requests_per_minute = 100000\n",
    );
    crate::fsutil::write_atomic(&cfg, text.as_bytes())?;
    let (records, _) = generate_raw(&dir, customers)?;
    let (secs, _, code) = run_child(&dir, &["transform"])?;
    println!("== load into Salesforce: {customers} customers, {records} raw records, transformed in {secs:.1} s (exit {code}) ==");
    anyhow::ensure!(code == 0, "transform failed (exit {code})");
    super::super::runtime()?.block_on(crate::sim::salesforce::admin::create_custom_objects(
        &sim.url, &dir,
    ))?;
    let before = sim_stats(&sim.url)?["api_usage"].as_u64().unwrap_or(0);
    let (seconds, rss, code) = run_child(&dir, &["load"])?;
    let stats = sim_stats(&sim.url)?;
    let used = stats["api_usage"].as_u64().unwrap_or(0) - before;
    let daily = stats["daily_requests"].as_u64().unwrap_or(1);
    let loaded = super::loaded_by_phase(&dir, "salesforce")?;
    let n = |p: &str| loaded.get(p).copied().unwrap_or(0);
    let cases = n("cases");
    let total: u64 = loaded.values().sum();
    // The least a client needs: a Bulk job per 10,000 rows (create, upload,
    // close, one poll, two result reads) for the large objects; a
    // Collections request per 200 rows for the rest; one request per file
    // (JSON base64); one query for the Users, one token.
    let bulk_min = |rows: u64| rows.div_ceil(10_000) * 6;
    let coll = |rows: u64| rows.div_ceil(200);
    // The small setup phases (queues, their Case binding and members,
    // topics, custom records, topic assignments, file links) are one
    // Collections request per 200 in either plan; ferry adds one SOQL
    // lookup by natural key per batch of the keyed ones.
    let small = coll(n("queues"))
        + coll(n("queue_sobjects"))
        + coll(n("queue_members"))
        + coll(n("topics"))
        + coll(n("custom_records"))
        + coll(n("topic_assignments"))
        + coll(n("file_links"));
    let minimum = small
        + bulk_min(n("contacts"))
        + bulk_min(n("cases"))
        + bulk_min(n("email_messages"))
        + coll(n("accounts"))
        + coll(n("leads"))
        + coll(n("case_comments"))
        + n("files")
        + 2;
    let all_collections = small
        + coll(n("accounts"))
        + coll(n("contacts"))
        + coll(n("leads"))
        + coll(n("cases"))
        + coll(n("email_messages"))
        + coll(n("case_comments"))
        + n("files")
        + 2;
    let per_k = |x: u64| x as f64 * 1000.0 / cases.max(1) as f64;
    println!(
        "  output              {cases} cases, {} email messages, {} comments, {} contacts, {} leads, {} accounts, {} files ({} linked to emails), {} queues, {} topics on {} assignments, {} custom records",
        n("email_messages"), n("case_comments"), n("contacts"), n("leads"), n("accounts"), n("files"),
        n("file_links"), n("queues"), n("topics"), n("topic_assignments"), n("custom_records")
    );
    println!(
        "  duration            {seconds:.1} s (exit {code}), {:.0} records/s",
        total as f64 / seconds.max(1e-9)
    );
    println!(
        "  requests            {used} = {:.0} per 1,000 conversations; the API's minimum {minimum} = {:.0}; every phase by Collections {all_collections} = {:.0}",
        per_k(used), per_k(minimum), per_k(all_collections)
    );
    println!("  requests by kind    {}", stats["by_kind"]);
    println!(
        "  daily allocation    {:.2}% of {daily} used by this load",
        used as f64 / daily as f64 * 100.0
    );
    println!(
        "  bulk batches        {} of the daily 15,000",
        stats["bulk_batches"]
    );
    println!("  peak RSS loader     {rss:.1} MB");
    figure(
        "load",
        format!(
            "Salesforce: {customers} customers ({cases} cases, {} email messages)",
            n("email_messages")
        ),
        total,
        seconds,
        None,
        Some(0),
        rss,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(i32::from(code != 0))
}
