//! `ferry serve`: the dashboard (crate::dashboard) on 127.0.0.1. It reads
//! only what runs publish outside the database (`state/live.json`, the
//! reports), never `ferry.duckdb`, so it works while a load holds the
//! workspace lock, and it never writes.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::cli::ServeArgs;

pub fn run(workspace: &Path, args: ServeArgs) -> anyhow::Result<i32> {
    if !workspace.join("ferry.toml").exists() {
        return Err(crate::error::FerryError::NoWorkspace {
            dir: workspace.to_path_buf(),
        }
        .into());
    }
    let dir = std::fs::canonicalize(workspace)?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        // Loopback only: the page shows record counts and error texts.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on 127.0.0.1:{}: {e} (choose another with --port, or --port 0 for any free one)",
                    args.port
                )
            })?;
        let addr = listener.local_addr()?;
        println!("ferry dashboard for {}: http://{addr}/  (Ctrl-C to stop)", dir.display());
        let app = axum::Router::new()
            .route("/", get(index))
            .route("/state.json", get(state_json))
            .with_state(dir);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}

async fn index(State(dir): State<PathBuf>) -> impl IntoResponse {
    let state = crate::live::read(&dir);
    let report = latest_verify(&dir);
    Html(crate::dashboard::page(
        &dir.display().to_string(),
        state.as_ref(),
        report.as_ref(),
    ))
}

/// The live state as published, for scripts.
async fn state_json(State(dir): State<PathBuf>) -> impl IntoResponse {
    match crate::live::read(&dir) {
        Some(s) => axum::Json(serde_json::to_value(s).unwrap_or_default()).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "no run has published its state yet",
        )
            .into_response(),
    }
}

/// The newest `reports/verify-<run>.json` (run ids start with a UTC
/// timestamp, so the names sort by time).
fn latest_verify(dir: &Path) -> Option<serde_json::Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("reports"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("verify-") && n.ends_with(".json"))
        })
        .collect();
    names.sort();
    let body = std::fs::read(names.pop()?).ok()?;
    serde_json::from_slice(&body).ok()
}
