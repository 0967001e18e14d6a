//! `ferry init`

use std::path::Path;

use crate::cli::InitArgs;
use crate::config::InitOptions;

pub fn run(workspace: &Path, args: InitArgs) -> anyhow::Result<i32> {
    let dir = args.dir.clone().unwrap_or_else(|| workspace.to_path_buf());
    let dir = crate::workspace::init(
        &dir,
        &InitOptions {
            route: args.route.clone(),
            source_url: args.source_url,
            dest_url: args.dest_url,
            rate_limit: args.rate_limit,
        },
    )?;
    println!(
        "Initialised ferry workspace {} (route {})",
        dir.display(),
        args.route
    );
    println!("  ferry.toml    settings; secrets by env var: KUSTOMER_API_KEY, ZENDESK_EMAIL, ZENDESK_API_TOKEN");
    println!(
        "  ferry.duckdb  state and meta tables: {}",
        crate::meta::META_TABLES.join(", ")
    );
    println!(
        "Next: export KUSTOMER_API_KEY=… then `ferry -C {} extract`",
        dir.display()
    );
    Ok(0)
}
