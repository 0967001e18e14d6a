//! Zendesk's two list paginations, as its documentation describes them
//! (developer.zendesk.com, "Pagination"):
//!
//! - offset: `?page=N&per_page=M` (M ≤ 100, default 100), answered with
//!   `next_page` / `previous_page` (absolute URLs or null) and `count`;
//! - cursor: `?page[size]=M` (≤ 100) and `page[after]=…`/`page[before]=…`,
//!   answered with `meta: {has_more, after_cursor, before_cursor}` and
//!   `links: {next, prev}`.
//!
//! A request that names `page[size]`, `page[after]` or `page[before]`
//! gets cursor pagination; any other gets offset pagination, as the real
//! API does for endpoints that support both.

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde_json::{json, Value};

/// Largest page Zendesk serves.
pub const MAX_PAGE: usize = 100;

/// `scheme://host` of the request, for the absolute URLs Zendesk returns
/// (`next_page`, `url`, `content_url`). Behind a proxy or a client that
/// calls the simulator under the real host name, `Host` and
/// `X-Forwarded-Proto` say which URL the client asked for, so the links
/// it follows stay on that host, as the real API's do.
pub fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|h| h.to_str().ok());
    let host = header("host").unwrap_or("127.0.0.1");
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The query string without the pagination parameters, so a next-page
/// link keeps the request's filters.
fn other_params(q: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = q
        .keys()
        .filter(|k| !matches!(k.as_str(), "page" | "per_page") && !k.starts_with("page["))
        .collect();
    keys.sort();
    keys.iter()
        .map(|k| {
            format!(
                "{}={}&",
                url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                url::form_urlencoded::byte_serialize(q[*k].as_bytes()).collect::<String>()
            )
        })
        .collect()
}

fn size(q: &HashMap<String, String>, key: &str) -> usize {
    size_up_to(q, key, MAX_PAGE)
}

/// A page size parameter: `max` when absent or unreadable, else 1..=max.
/// (Lists serve 100 at most, incremental exports 1,000.)
pub fn size_up_to(q: &HashMap<String, String>, key: &str, max: usize) -> usize {
    q.get(key)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(max)
        .clamp(1, max)
}

/// One page of `items` (already in the endpoint's order) under `key`.
/// `path` is the endpoint's path without `.json`.
pub fn page(
    items: Vec<Value>,
    key: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    path: &str,
) -> Value {
    let base = format!("{}{path}.json?{}", base_url(headers), other_params(q));
    let cursor = q.keys().any(|k| k.starts_with("page["));
    let total = items.len();
    if cursor {
        let n = size(q, "page[size]");
        // Cursors are opaque to clients; here they are the position.
        let start = match (q.get("page[after]"), q.get("page[before]")) {
            (Some(a), _) => a.parse::<usize>().unwrap_or(0),
            (None, Some(b)) => b.parse::<usize>().unwrap_or(0).saturating_sub(n),
            _ => 0,
        }
        .min(total);
        let end = (start + n).min(total);
        let has_more = end < total;
        let page: Vec<Value> = items[start..end].to_vec();
        let after = (end > start).then(|| end.to_string());
        let before = (end > start).then(|| start.to_string());
        return json!({
            key: page,
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": has_more.then(|| format!("{base}page[size]={n}&page[after]={end}")),
                "prev": (start > 0).then(|| format!("{base}page[size]={n}&page[before]={start}")),
            },
        });
    }
    let per = size(q, "per_page");
    let number = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let start = ((number - 1) * per).min(total);
    let end = (start + per).min(total);
    json!({
        key: items[start..end].to_vec(),
        "next_page": (end < total).then(|| format!("{base}page={}&per_page={per}", number + 1)),
        "previous_page": (number > 1).then(|| format!("{base}page={}&per_page={per}", number - 1)),
        "count": total,
    })
}
