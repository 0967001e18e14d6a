//! `ferry demo`: the README's first command. Seeded Kustomer and Zendesk
//! simulators run in-process on loopback; the real pipeline runs against
//! them into a fresh workspace the user can explore afterwards.

use std::path::{Path, PathBuf};

use crate::cli::{DemoArgs, ExtractArgs, LoadArgs, TransformArgs, VerifyArgs};
use crate::config::InitOptions;

/// Credentials of the in-process simulators (they never leave loopback).
const DEMO_KEY: &str = "demo-kustomer-key";
const DEMO_EMAIL: &str = "demo@ferry.invalid";
const DEMO_TOKEN: &str = "demo-zendesk-token";
const DEMO_ENCHANT_TOKEN: &str = "demo-enchant-token";
const DEMO_SF_CLIENT: &str = "demo-salesforce-client";
const DEMO_SF_SECRET: &str = "demo-salesforce-secret";
/// The Enchant simulator's seeded admin: the demo's fallback agent.
const DEMO_INTERCOM_TOKEN: &str = "demo-intercom-token";
const DEMO_ENCHANT_ADMIN: &str = "admin@enchant.test";

fn target_dir(workspace: &Path, args: &DemoArgs) -> PathBuf {
    match &args.dir {
        Some(d) => d.clone(),
        None if workspace != Path::new(".") => workspace.to_path_buf(),
        None => PathBuf::from("ferry-demo"),
    }
}

fn step(n: usize, what: &str) {
    println!("\n━━ {n}/5 {what} ━━");
}

pub fn run(workspace: &Path, args: DemoArgs) -> anyhow::Result<i32> {
    let dir = target_dir(workspace, &args);
    if dir.join("ferry.toml").exists() {
        anyhow::bail!(
            "{} is already a ferry workspace; pick another directory (`ferry demo DIR`) or remove it",
            dir.display()
        );
    }
    // Secrets are read from the environment, as in a real migration. Set
    // before any thread starts.
    std::env::set_var("KUSTOMER_API_KEY", DEMO_KEY);
    std::env::set_var("INTERCOM_ACCESS_TOKEN", DEMO_INTERCOM_TOKEN);
    std::env::set_var("ZENDESK_EMAIL", DEMO_EMAIL);
    std::env::set_var("ZENDESK_API_TOKEN", DEMO_TOKEN);
    std::env::set_var("ENCHANT_API_TOKEN", DEMO_ENCHANT_TOKEN);
    std::env::set_var("SALESFORCE_CLIENT_ID", DEMO_SF_CLIENT);
    std::env::set_var("SALESFORCE_CLIENT_SECRET", DEMO_SF_SECRET);
    let route = match &args.route {
        Some(name) => crate::routes::find(name).ok_or_else(|| {
            anyhow::anyhow!(
                "--route {name}: unknown (routes: {})",
                crate::routes::names().join(", ")
            )
        })?,
        None => &crate::routes::ROUTES[0],
    };
    let enchant = route.destination.kind == crate::connectors::enchant::KIND;
    let salesforce = route.destination.kind == crate::connectors::salesforce::KIND;
    let intercom = route.source.kind == crate::connectors::intercom::SOURCE.kind;
    if intercom {
        return run_intercom(&dir, route, &args);
    }

    // The simulators get their own runtime, so each pipeline command can
    // run its own as it does from the command line.
    let sims = super::runtime()?;
    let (k_url, z_url) = sims.block_on(async {
        use crate::sim::{kustomer, zendesk};
        let k = kustomer::spawn(
            "127.0.0.1:0".parse().unwrap(),
            kustomer::SimOptions {
                seed: args.seed,
                customers: args.scale,
                api_key: DEMO_KEY.into(),
                rate_limit: 0,
                search_rate_limit: 0,
                latency_ms: 0,
                fault_rate: 0.0,
                mutate_rate: 0.0,
                ..Default::default()
            },
        )
        .await?;
        let z_url = if salesforce {
            // As an admin prepares the org: agents given seats, the
            // external-id and original-date fields created.
            let opts = crate::sim::salesforce::SimOptions {
                seed: args.seed,
                client_id: DEMO_SF_CLIENT.into(),
                client_secret: DEMO_SF_SECRET.into(),
                bulk_delay_ms: 50,
                ..Default::default()
            }
            .mirror_kustomer(args.seed, args.scale);
            crate::sim::salesforce::spawn("127.0.0.1:0".parse().unwrap(), opts)
                .await?
                .base_url
        } else if enchant {
            // As an admin prepares Enchant: agents invited, a label per tag.
            let opts = crate::sim::enchant::SimOptions {
                seed: args.seed,
                token: DEMO_ENCHANT_TOKEN.into(),
                credits_per_minute: 0,
                burst_per_second: 0,
                ..Default::default()
            }
            .mirror_kustomer(args.seed, args.scale);
            crate::sim::enchant::spawn("127.0.0.1:0".parse().unwrap(), opts)
                .await?
                .base_url
        } else {
            zendesk::spawn(
                "127.0.0.1:0".parse().unwrap(),
                // As the account really is: its admins and agents, end users
                // of an earlier tool, bulk user imports off.
                zendesk::SimOptions {
                    seed: args.seed,
                    email: DEMO_EMAIL.into(),
                    token: DEMO_TOKEN.into(),
                    ..Default::default()
                }
                .mirror_kustomer(args.seed, args.scale),
            )
            .await?
            .base_url
        };
        anyhow::Ok((k.base_url, z_url))
    })?;
    let dest_name = if salesforce {
        "Salesforce"
    } else if enchant {
        "Enchant"
    } else {
        "Zendesk"
    };
    println!("ferry demo: Kustomer simulator at {k_url} ({} customers, seed {}), {dest_name} simulator at {z_url}", args.scale, args.seed);

    step(1, "init");
    let dir = crate::workspace::init(
        &dir,
        route,
        &InitOptions {
            source_url: Some(k_url.clone()),
            dest_url: Some(z_url.clone()),
            rate_limit: Some(60_000),
        },
    )?;
    // Simulators have no plan tier: let the limiter run fast.
    let cfg = dir.join("ferry.toml");
    let text = std::fs::read_to_string(&cfg)?
        .replace(
            "search_rate_limit_per_minute = 100\n",
            "search_rate_limit_per_minute = 60000\n",
        )
        .replace(
            "rate_limit_per_minute = 700\n",
            "rate_limit_per_minute = 60000\n",
        )
        .replace("credits_per_minute = 100\n", "credits_per_minute = 60000\n")
        .replace("burst_per_second = 6\n", "burst_per_second = 1000\n")
        .replace(
            "fallback_agent_email = \"admin@example.com\"",
            &format!("fallback_agent_email = \"{DEMO_ENCHANT_ADMIN}\""),
        );
    crate::fsutil::write_atomic(&cfg, text.as_bytes())?;
    if enchant {
        // What a user copies from Enchant's UI: the API cannot list labels.
        let dump: serde_json::Value = sims.block_on(async {
            reqwest::get(format!("{}/__sim/dump", z_url.trim_end_matches("/api/v1")))
                .await?
                .json()
                .await
        })?;
        let path = write_label_map(&dir, route, &dump)?;
        println!(
            "labels: {} (each Kustomer tag's Enchant label id)",
            path.display()
        );
    }
    println!("workspace {}", dir.display());

    let out = if salesforce {
        "out_salesforce_*"
    } else if enchant {
        "out_enchant_*"
    } else {
        "out_zendesk_*"
    };
    extract_and_transform(&dir, &args, "Kustomer", out)?;
    if salesforce {
        // What an admin does in Setup before the load: the custom objects
        // for Kustomer's klasses, from the transform's field list.
        let n = sims.block_on(crate::sim::salesforce::admin::create_custom_objects(
            &z_url, &dir,
        ))?;
        println!(
            "admin step: {n} custom fields created in the org, as out_salesforce_custom_fields lists them"
        );
    }
    load_and_verify(&dir, out, dest_name)?;

    let ws = dir.display();
    println!("\nDone. The workspace {ws} holds everything; open the report above in a browser.");
    println!("Try:");
    println!("  ferry -C {ws} sql \"SELECT object, extracted, loaded, merged, archived, excluded FROM verify_funnel\"");
    if salesforce {
        println!("  ferry -C {ws} sql \"SELECT status, count(*) AS cases FROM out_salesforce_cases GROUP BY ALL ORDER BY 2 DESC\"");
        println!("  ferry -C {ws} sql \"SELECT kind, n_parts, count(*) FROM out_salesforce_messages GROUP BY ALL ORDER BY ALL\"");
    } else if enchant {
        println!("  ferry -C {ws} sql \"SELECT state, count(*) AS tickets FROM out_enchant_tickets GROUP BY ALL ORDER BY 2 DESC\"");
        println!("  ferry -C {ws} sql \"SELECT author_kind, kind, count(*) FROM out_enchant_messages GROUP BY ALL\"");
    } else {
        println!("  ferry -C {ws} sql \"SELECT status, count(*) AS tickets FROM out_zendesk_tickets GROUP BY ALL ORDER BY 2 DESC\"");
        println!("  ferry -C {ws} sql \"SELECT conversation_id, count(*) AS parts FROM out_zendesk_tickets GROUP BY ALL HAVING count(*) > 1\"");
        // The account had people before: who was linked, never changed.
        println!("  ferry -C {ws} sql \"SELECT dest_object, dest_role, action, differs FROM ferry_matched\"");
    }
    println!("  ferry -C {ws} status");
    if args.keep_sims {
        println!(
            "\nSimulators still up (Ctrl-C to stop): Kustomer {k_url} (key {DEMO_KEY}), {dest_name} {z_url} (Zendesk {DEMO_EMAIL} / token {DEMO_TOKEN}; Enchant token {DEMO_ENCHANT_TOKEN})"
        );
        sims.block_on(async { tokio::signal::ctrl_c().await })?;
    } else {
        println!("{SIMS_GONE}");
    }
    Ok(0)
}

/// What the user is told when the demo's simulators stop with it.
const SIMS_GONE: &str = "\nThe simulators stop with the demo: `ferry verify --offline` accounts without them; `ferry demo --keep-sims` keeps them up to verify against.";

/// Writes the workspace's `seeds/label_map.csv` (Kustomer tag name →
/// Enchant label id) from an Enchant help desk's labels of the same
/// names, as a user fills it from Enchant's UI.
pub fn write_label_map(
    ws: &Path,
    route: &crate::routes::Route,
    dump: &serde_json::Value,
) -> anyhow::Result<PathBuf> {
    let dir = crate::transform::scripts::eject_dir(ws, route).join("seeds");
    std::fs::create_dir_all(&dir)?;
    let mut csv = String::from("kustomer_tag,enchant_label_id\n");
    for l in dump["labels"].as_array().into_iter().flatten() {
        let name = l["name"].as_str().unwrap_or("").replace('"', "\"\"");
        csv.push_str(&format!("\"{name}\",{}\n", l["id"].as_str().unwrap_or("")));
    }
    let path = dir.join("label_map.csv");
    crate::fsutil::write_atomic(&path, csv.as_bytes())?;
    Ok(path)
}

/// The demo of a route out of Intercom into Kustomer: an Intercom
/// workspace simulator as the source, a Kustomer org simulator (the
/// write side) as the destination, its agents invited as an admin would.
fn run_intercom(
    dir: &Path,
    route: &'static crate::routes::Route,
    args: &DemoArgs,
) -> anyhow::Result<i32> {
    let sims = super::runtime()?;
    let (i_url, k_url) = sims.block_on(async {
        let i = crate::sim::intercom::spawn(
            "127.0.0.1:0".parse().unwrap(),
            crate::sim::intercom::SimOptions {
                seed: args.seed,
                token: DEMO_INTERCOM_TOKEN.into(),
                contacts: args.scale,
                per_minute: 0,
                ..Default::default()
            },
        )
        .await?;
        let k = crate::sim::kustomer::spawn(
            "127.0.0.1:0".parse().unwrap(),
            crate::sim::kustomer::SimOptions {
                api_key: DEMO_KEY.into(),
                destination: true,
                users: crate::sim::intercom::invited_agents(args.seed),
                // The Help Center is in English and French: an admin turned
                // French on for the knowledge base, as a move needs.
                kb_languages: vec!["en_us".into(), "fr".into()],
                ..Default::default()
            },
        )
        .await?;
        anyhow::Ok((i.base_url, k.base_url))
    })?;
    println!(
        "ferry demo: Intercom simulator at {i_url} ({} contacts, seed {}), Kustomer simulator at {k_url} (an org to import into)",
        args.scale, args.seed
    );
    step(1, "init");
    let dir = crate::workspace::init(
        dir,
        route,
        &InitOptions {
            source_url: Some(i_url.clone()),
            dest_url: Some(k_url.clone()),
            rate_limit: Some(60_000),
        },
    )?;
    // Simulators have no plan tier, and answer bulk polls at once.
    let cfg = dir.join("ferry.toml");
    let text =
        std::fs::read_to_string(&cfg)?.replace("bulk_poll_ms = 1000\n", "bulk_poll_ms = 20\n");
    crate::fsutil::write_atomic(&cfg, text.as_bytes())?;
    println!("workspace {}", dir.display());
    extract_and_transform(&dir, args, "Intercom", "out_kustomer_*")?;
    load_and_verify(&dir, "out_kustomer_*", "Kustomer")?;
    let ws = dir.display();
    println!("\nDone. The workspace {ws} holds everything; open the report above in a browser.");
    println!("Try:");
    println!("  ferry -C {ws} sql \"SELECT object, extracted, loaded, merged, archived, excluded FROM verify_funnel\"");
    println!("  ferry -C {ws} sql \"SELECT status, count(*) AS conversations FROM out_kustomer_conversations GROUP BY ALL\"");
    println!("  ferry -C {ws} sql \"SELECT source_id, reason FROM ferry_accounting WHERE object = 'contacts' AND bucket = 'merged'\"");
    println!("  ferry -C {ws} status");
    if args.keep_sims {
        println!("\nSimulators still up (Ctrl-C to stop): Intercom {i_url} (token {DEMO_INTERCOM_TOKEN}), Kustomer {k_url} (key {DEMO_KEY})");
        sims.block_on(async { tokio::signal::ctrl_c().await })?;
    } else {
        println!("{SIMS_GONE}");
    }
    Ok(0)
}

/// An error when a pipeline command of the demo did not succeed.
fn check(dir: &Path, what: &str, code: i32) -> anyhow::Result<()> {
    if code != 0 {
        anyhow::bail!("demo stopped: `ferry {what}` exited with {code} (the workspace {} keeps everything so far)", dir.display());
    }
    Ok(())
}

/// Steps 2 and 3: extract from `source`, transform into `out`.
fn extract_and_transform(
    dir: &Path,
    args: &DemoArgs,
    source: &str,
    out: &str,
) -> anyhow::Result<()> {
    step(2, &format!("extract ({source} → raw/ Parquet)"));
    let code = super::extract::run(
        dir,
        ExtractArgs {
            only: None,
            since: None,
            full: false,
            no_progress: args.no_progress,
            accept_refuted: false,
        },
    )?;
    check(dir, "extract", code)?;
    step(3, &format!("transform (versioned DuckDB SQL → {out})"));
    let code = super::transform::run(
        dir,
        TransformArgs {
            plan: false,
            rebuild: false,
        },
    )?;
    check(dir, "transform", code)
}

/// Steps 4 and 5: load `out` into `dest`, verify.
fn load_and_verify(dir: &Path, out: &str, dest: &str) -> anyhow::Result<()> {
    step(4, &format!("load ({out} → {dest}, ids into ferry_id_map)"));
    let code = super::load::run(
        dir,
        LoadArgs {
            only: None,
            dry_run: false,
            retry: false,
            sample: None,
            order: "source".into(),
        },
    )?;
    check(dir, "load", code)?;
    step(
        5,
        "verify (every record accounted for, read back, spot-checked)",
    );
    let code = super::verify::run(
        dir,
        VerifyArgs {
            sample: 100,
            offline: false,
        },
    )?;
    check(dir, "verify", code)
}
