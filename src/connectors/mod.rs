//! Source and destination connectors, one directory each.

pub mod kustomer;
pub mod zendesk;

/// Binds `addr` and serves a simulator's router in the background; returns
/// its base URL (the port is the real one when `addr` asked for port 0).
pub async fn serve_sim(
    addr: std::net::SocketAddr,
    app: axum::Router,
) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{local}"), handle))
}
