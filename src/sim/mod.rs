//! Local, seeded fakes of the APIs ferry talks to, one directory each,
//! written from the vendors' specs and documentation (not from what ferry
//! sends). Behind the cargo feature `sim` (on by default): `ferry demo`,
//! `ferry sim` and `ferry bench` need them; a production build can leave
//! them and axum out with `--no-default-features`.

pub mod cli;
pub mod enchant;
pub mod intercom;
pub mod kustomer;
pub mod salesforce;
pub mod zendesk;

/// Binds `addr` and serves a simulator's router in the background; returns
/// its base URL (the port is the real one when `addr` asked for port 0).
pub async fn serve(
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

/// Rewrites a request's path (query kept) before routing, where `f`
/// returns a new path.
pub fn rewrite_path(req: &mut axum::extract::Request, f: impl Fn(&str) -> Option<String>) {
    let rewritten = f(req.uri().path()).map(|p| match req.uri().query() {
        Some(q) => format!("{p}?{q}"),
        None => p,
    });
    if let Some(Ok(uri)) = rewritten.map(|u| u.parse()) {
        *req.uri_mut() = uri;
    }
}

/// A processed answer whose connection drops mid-body: the declared
/// length is never reached, as when a proxy or network fails late. The
/// client cannot know whether its write happened.
pub async fn cut_off(resp: axum::response::Response) -> axum::response::Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts
        .headers
        .insert("content-length", axum::http::HeaderValue::from(bytes.len()));
    let half = bytes.slice(..bytes.len() / 2);
    // The pause lets the headers and the first half reach the client
    // before the drop (an error at once would send nothing at all).
    let chunks = futures::stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok(half), None)),
            None => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let e: std::result::Result<bytes::Bytes, std::io::Error> =
                    Err(std::io::Error::other("connection dropped"));
                Some((e, None))
            }
        }
    });
    axum::response::Response::from_parts(parts, axum::body::Body::from_stream(chunks))
}

/// The parts of a `multipart/form-data` body as (lower-case name, bytes);
/// `params` is what follows `multipart/form-data` in its content type.
/// Salesforce's ContentVersion uploads and S3's presigned POSTs use it.
pub fn multipart_parts(params: &str, body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or("multipart/form-data needs a boundary")?;
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delim.as_bytes()) {
        rest = &rest[at + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest2 = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let end = find(rest2, delim.as_bytes())
            .ok_or("multipart body ends without its closing boundary")?;
        let part = &rest2[..end];
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n").ok_or("a multipart part has no headers")?;
        let head = String::from_utf8_lossy(&part[..split]).to_lowercase();
        let name = head
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))
            .map(|n| {
                n.split(['\r', '\n'])
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_default();
        parts.push((name, part[split + 4..].to_vec()));
        rest = rest2;
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
