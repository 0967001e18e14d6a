//! `ferry probe`, Kustomer side: the assumptions the extractor stands on
//! that Kustomer's published spec does not settle, each checked with a
//! few read-only requests against the user's org. One place per connector:
//! every assumption the Kustomer extractor makes about the org is here.

use serde_json::{json, Value};

use super::api::parse_time;
use super::extract::PREVIEW_MAX;
use crate::connector::{ProbeCheck, ProbeOutcome as O};
use crate::error::FerryError;
use crate::http::{ApiClient, Lane};

/// Field names of a message's full content at `links.related` that ferry
/// reads (HTML first, then text). Keep in step with the macros
/// `kustomer_content_html` / `kustomer_content_text` in
/// sql/sources/kustomer/staging/001_macros.sql.
pub const CONTENT_FIELDS: &[&str] = &[
    "HtmlBody", "htmlBody", "html", "TextBody", "textBody", "text", "body",
];

/// The text ferry would take from a content record, if any field is known.
pub fn content_text(v: &Value) -> Option<String> {
    let data = if v["data"].is_object() { &v["data"] } else { v };
    CONTENT_FIELDS
        .iter()
        .find_map(|f| data["attributes"][*f].as_str().map(str::to_string))
}

const TWO_YEARS_MS: i64 = 730 * 86_400_000;

/// Runs every check; a request that fails becomes a check's evidence,
/// never an early stop.
pub async fn checks(client: &ApiClient, list_cap: u64) -> Vec<ProbeCheck> {
    let mut out = Vec::new();
    let page = client.get_json("/v1/messages?page=1&pageSize=100").await;
    match page {
        Ok(page) => {
            let msgs: Vec<Value> = page["data"].as_array().cloned().unwrap_or_default();
            out.push(email_bodies(client, &msgs).await);
            out.push(chat_previews(client, &msgs).await);
        }
        Err(e) => out.push(ProbeCheck::new(
            "message bodies",
            O::Fail,
            format!("GET /v1/messages failed: {e}"),
        )),
    }
    out.push(list_cap_check(client, list_cap).await);
    out.push(archived_in_lists(client).await);
    out.push(note_counts(client).await);
    out.push(reset_units(client).await);
    out.push(archive_sort(client).await);
    out
}

/// Assumption: an email's full HTML/text is at its `links.related`.
async fn email_bodies(client: &ApiClient, msgs: &[Value]) -> ProbeCheck {
    const NAME: &str = "email bodies at links.related";
    let Some(m) = msgs
        .iter()
        .find(|m| m["attributes"]["channel"] == "email" && m["links"]["related"].is_string())
    else {
        return ProbeCheck::new(NAME, O::Unknown, "no email message with links.related on the first page of /v1/messages: nothing to check");
    };
    let related = m["links"]["related"].as_str().unwrap_or_default();
    match client.get_json(related).await {
        Ok(v) => match content_text(&v) {
            Some(t) => ProbeCheck::new(NAME, O::Ok, format!(
                "holds: {related} has the body ({} chars; preview {}): ferry reads it for every email",
                t.chars().count(),
                m["attributes"]["preview"].as_str().map_or(0, |p| p.chars().count())
            )),
            None => ProbeCheck::new(NAME, O::Fail, format!(
                "refuted: {related} answered, but with none of the fields ferry reads ({}); its keys: {}. Every email comment would carry only its preview: report this shape so ferry can read it",
                CONTENT_FIELDS.join(", "),
                keys(&v)
            )).losing_data(),
        },
        Err(FerryError::Http { status, .. }) => ProbeCheck::new(NAME, O::Fail, format!(
            "refuted: {related} answered HTTP {status}: email comments would carry only their preview (a plain-text snippet); they are listed in stg_preview_only_messages"
        )).losing_data(),
        Err(e) => ProbeCheck::new(NAME, O::Unknown, format!("{related}: {e}")),
    }
}

/// Assumption: a non-email message's `preview` under the cap is its text.
async fn chat_previews(client: &ApiClient, msgs: &[Value]) -> ProbeCheck {
    const NAME: &str = "chat previews complete";
    let Some(m) = msgs
        .iter()
        .find(|m| m["attributes"]["channel"] != "email" && m["links"]["related"].is_string())
    else {
        return ProbeCheck::new(
            NAME,
            O::Unknown,
            "no non-email message with links.related on the first page of /v1/messages",
        );
    };
    let preview = m["attributes"]["preview"].as_str().unwrap_or_default();
    let related = m["links"]["related"].as_str().unwrap_or_default();
    match client.get_json(related).await {
        Ok(v) => match content_text(&v) {
            Some(t) if t.chars().count() > preview.chars().count() && preview.chars().count() < PREVIEW_MAX => {
                ProbeCheck::new(NAME, O::Fail, format!(
                    "refuted: message {} has a {}-char preview but {} chars at {related}: ferry reads links.related only for emails and previews at {PREVIEW_MAX} chars, so such comments would be cut",
                    m["id"].as_str().unwrap_or("?"), preview.chars().count(), t.chars().count()
                )).losing_data()
            }
            Some(_) => ProbeCheck::new(NAME, O::Ok, format!("holds: the preview of message {} is its whole text", m["id"].as_str().unwrap_or("?"))),
            None => ProbeCheck::new(NAME, O::Unknown, format!("{related} has none of the fields ferry reads; the preview is taken as the text")),
        },
        Err(FerryError::Http { status, .. }) => ProbeCheck::new(NAME, O::Unknown, format!(
            "{related} answered HTTP {status}: cannot compare; the preview (≤ {PREVIEW_MAX} chars) is taken as the text"
        )),
        Err(e) => ProbeCheck::new(NAME, O::Unknown, format!("{related}: {e}")),
    }
}

/// Assumption: a list query may stop at `cap` records (a third-party
/// connector documents 10,000); ferry continues such a list by search.
async fn list_cap_check(client: &ApiClient, cap: u64) -> ProbeCheck {
    const NAME: &str = "list record cap";
    let page = cap / 100 + 1;
    match client
        .get_json(&format!("/v1/customers?page={page}&pageSize=100"))
        .await
    {
        Ok(v) => {
            let n = v["data"].as_array().map_or(0, |a| a.len());
            let total = v["meta"]["total"].as_u64();
            match (n, total) {
                (n, _) if n > 0 => ProbeCheck::new(NAME, O::Ok, format!("lists go past {cap} records (page {page} has {n}): not capped")),
                (_, Some(t)) if t > cap => ProbeCheck::new(NAME, O::Warn, format!(
                    "capped: meta.total is {t} but page {page} is empty: ferry continues a list that ends at {cap} records by keyset search"
                )),
                _ => ProbeCheck::new(NAME, O::Unknown, format!(
                    "fewer than {cap} customers in lists: a cap cannot show; ferry treats a list ending exactly at a multiple of {cap} as capped and continues by search"
                )),
            }
        }
        Err(e) => ProbeCheck::new(
            NAME,
            O::Unknown,
            format!("GET /v1/customers page {page}: {e}"),
        ),
    }
}

/// Assumption: plain lists omit records not updated in two years (ferry
/// reads those by archive search, and old notes per conversation).
async fn archived_in_lists(client: &ApiClient) -> ProbeCheck {
    const NAME: &str = "lists omit archived";
    match client.get_json("/v1/conversations?page=1&pageSize=1").await {
        Ok(v) => {
            let updated = v["data"][0]["attributes"]["updatedAt"]
                .as_str()
                .and_then(parse_time);
            let now = chrono::Utc::now().timestamp_millis();
            match updated {
                Some(t) if t < now - TWO_YEARS_MS => ProbeCheck::new(NAME, O::Warn, format!(
                    "refuted: the oldest listed conversation was last updated {}, over two years ago: plain lists hold archived records, so the archive search and per-conversation notes calls re-read what lists give (requests wasted, nothing lost)",
                    super::api::iso(t)
                )),
                Some(_) => ProbeCheck::new(NAME, O::Ok, "holds: the oldest listed conversation was updated within two years; ferry reads older ones by archive search"),
                None => ProbeCheck::new(NAME, O::Unknown, "no conversation to look at"),
            }
        }
        Err(e) => ProbeCheck::new(NAME, O::Unknown, format!("GET /v1/conversations: {e}")),
    }
}

/// Assumption: a conversation's `noteCount` is never below the notes it
/// has. The extract reads an old conversation's notes one by one only
/// where the list gave fewer than its `noteCount`; a count below the real
/// number would leave notes behind.
async fn note_counts(client: &ApiClient) -> ProbeCheck {
    const NAME: &str = "noteCount counts every note";
    let convs = match client
        .get_json("/v1/conversations?page=1&pageSize=100")
        .await
    {
        Ok(v) => v["data"].as_array().cloned().unwrap_or_default(),
        Err(e) => return ProbeCheck::new(NAME, O::Unknown, format!("GET /v1/conversations: {e}")),
    };
    let with_notes: Vec<&Value> = convs
        .iter()
        .filter(|c| c["attributes"]["noteCount"].as_u64().unwrap_or(0) > 0)
        .take(5)
        .collect();
    if with_notes.is_empty() {
        return ProbeCheck::new(
            NAME,
            O::Unknown,
            "no conversation with notes among the first 100: the extract reads the notes of every old conversation without a noteCount",
        );
    }
    let mut looked = 0;
    for c in with_notes {
        let id = c["id"].as_str().unwrap_or("");
        let count = c["attributes"]["noteCount"].as_u64().unwrap_or(0);
        let mut seen = 0u64;
        let mut next = Some(format!("/v1/conversations/{id}/notes?page=1&pageSize=100"));
        while let Some(path) = next.take() {
            match client.get_json(&path).await {
                Ok(v) => {
                    let n = v["data"].as_array().map_or(0, Vec::len) as u64;
                    seen += n;
                    next = v["links"]["next"]
                        .as_str()
                        .filter(|_| n > 0)
                        .map(str::to_string);
                }
                Err(e) => return ProbeCheck::new(NAME, O::Unknown, format!("GET {path}: {e}")),
            }
        }
        if seen > count {
            return ProbeCheck::new(NAME, O::Fail, format!(
                "refuted: conversation {id} has {seen} notes but a noteCount of {count}: the extract would skip notes of old conversations whose count is low"
            )).losing_data();
        }
        looked += 1;
    }
    ProbeCheck::new(
        NAME,
        O::Ok,
        format!("holds: {looked} conversations' noteCount covers their notes; old conversations are read one by one only where the list gave fewer"),
    )
}

/// `x-ratelimit-reset`: epoch seconds or seconds until reset? ferry reads
/// a value above 10^9 as an epoch and anything else as a delta.
async fn reset_units(client: &ApiClient) -> ProbeCheck {
    const NAME: &str = "x-ratelimit-reset units";
    match client.probe("/v1/users/current").await {
        Ok(r) => {
            let reset = r
                .headers
                .get("x-ratelimit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            match reset {
                Some(v) if v > 1_000_000_000 => ProbeCheck::new(
                    NAME,
                    O::Ok,
                    format!("epoch seconds ({v}); ferry waits until then when throttled"),
                ),
                Some(v) => ProbeCheck::new(
                    NAME,
                    O::Ok,
                    format!("seconds until reset ({v}); ferry waits that long when throttled"),
                ),
                None => ProbeCheck::new(
                    NAME,
                    O::Unknown,
                    "no x-ratelimit-reset header: ferry backs off exponentially when throttled",
                ),
            }
        }
        Err(e) => ProbeCheck::new(NAME, O::Unknown, e.to_string()),
    }
}

/// Assumption: the archive search accepts `<context>_updated_at` sorting,
/// which ferry's keyset walk over it needs.
async fn archive_sort(client: &ApiClient) -> ProbeCheck {
    const NAME: &str = "archive search sort";
    let body = json!({"queryContext": "conversation", "and": [],
                      "sort": [{"conversation_updated_at": "asc"}]});
    let res = client
        .fetch_parsed(
            reqwest::Method::POST,
            "/v1/customers/archive/search?page=1&pageSize=5",
            Some(&body),
            Lane::Search,
            |b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string()),
        )
        .await;
    match res {
        Ok(v) => {
            let times: Vec<i64> = v["data"]
                .as_array()
                .map(|a| a.iter().filter_map(|r| r["attributes"]["updatedAt"].as_str().and_then(parse_time)).collect())
                .unwrap_or_default();
            if times.windows(2).all(|w| w[0] <= w[1]) {
                ProbeCheck::new(NAME, O::Ok, format!("holds: sorted by conversation_updated_at ascending ({} records looked at)", times.len()))
            } else {
                ProbeCheck::new(NAME, O::Fail, "refuted: the archive search ignored the updated_at sort: ferry's keyset walk over archived records could skip some").losing_data()
            }
        }
        Err(FerryError::Http { status, body, .. }) => ProbeCheck::new(NAME, O::Fail, format!(
            "refuted: HTTP {status} ({body}): ferry reads archived records by an updated_at keyset; without it they would be missed"
        )).losing_data(),
        Err(e) => ProbeCheck::new(NAME, O::Unknown, e.to_string()),
    }
}

fn keys(v: &Value) -> String {
    let data = if v["data"].is_object() { &v["data"] } else { v };
    let obj = if data["attributes"].is_object() {
        &data["attributes"]
    } else {
        data
    };
    obj.as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}
