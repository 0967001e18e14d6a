//! `ferry sim <api>`

use crate::sim::cli::{
    SimCommand, SimEnchantArgs, SimIntercomArgs, SimKustomerArgs, SimSalesforceArgs, SimZendeskArgs,
};

/// Runs the simulator asked for.
pub fn run(which: SimCommand) -> anyhow::Result<i32> {
    match which {
        SimCommand::Kustomer(args) => kustomer(args),
        SimCommand::Zendesk(args) => zendesk(args),
        SimCommand::Enchant(args) => enchant(args),
        SimCommand::Salesforce(args) => salesforce(args),
        SimCommand::Intercom(args) => intercom(args),
    }
}
use crate::sim::kustomer::{spawn, SimOptions};

/// Simulators serve loopback only: they are test fixtures, not services.
fn loopback_only(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() {
        anyhow::bail!(
            "the simulator only listens on loopback addresses (127.0.0.1 or [::1]); got {addr}"
        );
    }
    Ok(())
}

pub fn kustomer(args: SimKustomerArgs) -> anyhow::Result<i32> {
    loopback_only(args.addr)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        let sim = spawn(args.addr, options(&args)).await?;
        // The first stdout line is the contract: scripts read the URL from it.
        println!("{}", sim.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        let stats = sim.state.clone();
        eprintln!(
            "ferry sim kustomer: seed {} · {} customers · {} conversations · {} messages · rate limit {}",
            args.seed,
            args.customers,
            stats.org.read().unwrap().count(crate::sim::kustomer::data::Kind::Conversations),
            stats.org.read().unwrap().count(crate::sim::kustomer::data::Kind::Messages),
            if args.rate_limit == 0 { "off".to_string() } else { format!("{}/min", args.rate_limit) }
        );
        sim.handle.await?;
        anyhow::Ok(0)
    })
}

/// Simulator options from the command line.
pub fn options(args: &SimKustomerArgs) -> SimOptions {
    let mut users: Vec<(String, String)> = args
        .users
        .iter()
        .filter_map(|u| u.split_once(':'))
        .map(|(n, e)| (n.to_string(), e.to_string()))
        .collect();
    if let Some(seed) = args.mirror_intercom_seed {
        users.extend(crate::sim::intercom::invited_agents(seed));
    }
    SimOptions {
        destination: args.destination,
        users,
        teams: args.teams.clone(),
        bulk_running_polls: args.bulk_running_polls,
        kb_languages: args.kb_languages.clone(),
        seed: args.seed,
        customers: args.customers,
        api_key: args.api_key.clone(),
        rate_limit: args.rate_limit,
        search_rate_limit: args.search_rate_limit,
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        mutate_rate: args.mutate_rate,
        list_cap: args.list_cap,
        missing: args.missing.clone(),
        forbidden: args.forbidden.clone(),
        no_message_content: args.no_message_content,
        distinct_times: args.distinct_times,
    }
}

pub fn zendesk(args: SimZendeskArgs) -> anyhow::Result<i32> {
    use crate::sim::zendesk as sim;
    loopback_only(args.addr)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        let opts = sim::SimOptions {
            seed: args.seed,
            email: args.email.clone(),
            token: args.token.clone(),
            rate_limit: args.rate_limit,
            latency_ms: args.latency_ms,
            fault_rate: args.fault_rate,
            upload_ttl_secs: args.upload_ttl_secs,
            attachment_size: args.attachment_size,
            cut_post_to: args.cut_post_to.clone(),
            bulk_user_imports: args.bulk_user_imports,
            existing_users: Vec::new(),
            jobs: sim::JobTiming {
                queue_ms: args.job_queue_ms,
                per_item_ms: args.job_item_ms,
                per_comment_ms: args.job_comment_ms,
                fixed_ms: args.job_ms,
            },
            other_jobs: args.other_jobs,
        };
        let opts = match args.mirror_kustomer_seed {
            Some(seed) => opts.mirror_kustomer(seed, args.mirror_kustomer_customers),
            None => opts,
        };
        let running = sim::spawn(args.addr, opts).await?;
        println!("{}", running.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        running.handle.await?;
        anyhow::Ok(0)
    })
}

/// The Enchant simulator's options from its flags.
pub fn enchant_options(args: &SimEnchantArgs) -> crate::sim::enchant::SimOptions {
    let opts = crate::sim::enchant::SimOptions {
        seed: args.seed,
        token: args.token.clone(),
        credits_per_minute: args.credits,
        burst_per_second: args.burst,
        embed_cost: args.embed_cost,
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        max_attachment_bytes: args.max_attachment_bytes,
        cut_post_to: args.cut_post_to.clone(),
        ..Default::default()
    };
    match args.mirror_kustomer_seed {
        Some(seed) => opts.mirror_kustomer(seed, args.mirror_kustomer_customers),
        None => opts,
    }
}

pub fn enchant(args: SimEnchantArgs) -> anyhow::Result<i32> {
    loopback_only(args.addr)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        let running = crate::sim::enchant::spawn(args.addr, enchant_options(&args)).await?;
        println!("{}", running.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        running.handle.await?;
        anyhow::Ok(0)
    })
}

/// The Salesforce simulator's options from its flags.
pub fn salesforce_options(args: &SimSalesforceArgs) -> crate::sim::salesforce::SimOptions {
    let opts = crate::sim::salesforce::SimOptions {
        seed: args.seed,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        refresh_token: args.refresh_token.clone(),
        token_requests: args.token_requests,
        daily_requests: args.daily_requests,
        used_requests: args.used_requests,
        daily_batches: args.daily_batches,
        audit_fields: !args.no_audit_fields,
        case_comment_audit_fields: args.case_comment_audit_fields,
        custom_fields: !args.no_custom_fields,
        query_page: args.query_page,
        bulk_delay_ms: args.bulk_delay_ms,
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        record_lock_rate: args.record_lock_rate,
        cut_write_to: args.cut_write_to.clone(),
        ..Default::default()
    };
    match args.mirror_kustomer_seed {
        Some(seed) => opts.mirror_kustomer(seed, args.mirror_kustomer_customers),
        None => opts,
    }
}

pub fn salesforce(args: SimSalesforceArgs) -> anyhow::Result<i32> {
    loopback_only(args.addr)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        let running = crate::sim::salesforce::spawn(args.addr, salesforce_options(&args)).await?;
        println!("{}", running.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        running.handle.await?;
        anyhow::Ok(0)
    })
}

pub fn intercom(args: SimIntercomArgs) -> anyhow::Result<i32> {
    loopback_only(args.addr)?;
    let opts = crate::sim::intercom::SimOptions {
        seed: args.seed,
        token: args.token.clone(),
        contacts: args.contacts,
        per_minute: args.per_minute,
        scroll_idle_secs: args.scroll_idle_secs,
        scroll_fail_at: args.scroll_fail_at,
        attachment_ttl_secs: args.attachment_ttl_secs,
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
    };
    let rt = super::runtime()?;
    rt.block_on(async move {
        let running = crate::sim::intercom::spawn(args.addr, opts).await?;
        println!("{}", running.base_url);
        use std::io::Write;
        std::io::stdout().flush()?;
        running.handle.await?;
        anyhow::Ok(0)
    })
}
