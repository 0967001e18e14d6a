//! `ferry init`

use std::path::Path;

use crate::cli::InitArgs;
use crate::config::InitOptions;

pub fn run(workspace: &Path, args: InitArgs) -> anyhow::Result<i32> {
    let dir = args.dir.clone().unwrap_or_else(|| workspace.to_path_buf());
    let name = args
        .route
        .clone()
        .unwrap_or_else(|| crate::routes::ROUTES[0].name.to_string());
    let route = crate::routes::find(&name).ok_or_else(|| {
        anyhow::anyhow!(
            "--route {name}: no such route (routes: {})",
            crate::routes::names().join(", ")
        )
    })?;
    let dir = crate::workspace::init(
        &dir,
        route,
        &InitOptions {
            source_url: args.source_url,
            dest_url: args.dest_url,
            rate_limit: args.rate_limit,
        },
    )?;
    println!(
        "Initialised ferry workspace {} (route {}: {})",
        dir.display(),
        route.name,
        route.about
    );
    let secrets: Vec<&str> = route
        .source
        .secrets
        .iter()
        .chain(route.destination.secrets)
        .copied()
        .collect();
    println!(
        "  ferry.toml    settings; secrets by env var: {}",
        secrets.join(", ")
    );
    println!(
        "  ferry.duckdb  state and meta tables: {}",
        crate::meta::META_TABLES.join(", ")
    );
    println!(
        "Next: export {}=… then `ferry -C {} extract`",
        route
            .source
            .secrets
            .first()
            .unwrap_or(&"the source API key"),
        dir.display()
    );
    Ok(0)
}
