//! Kustomer's wire format as ferry reads it: JSON:API-style envelopes whose
//! records are kept verbatim (`RawValue`), with only the key fields parsed.

use serde::Deserialize;
use serde_json::value::RawValue;

/// A page of a list or search response.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
    #[serde(default)]
    pub links: Option<Links>,
    /// Side-loaded records (`include=attachments`), kept verbatim.
    #[serde(default, borrow)]
    pub included: Option<Vec<&'a RawValue>>,
}

/// Pagination links; `next` is a relative path, absent or null at the end.
#[derive(Deserialize, Default)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}

/// One parsed page: its records (verbatim) and the next link.
pub struct Page {
    pub records: Vec<String>,
    pub next: Option<String>,
    /// `included[]`: side-loaded records (attachments of messages).
    pub included: Vec<String>,
}

/// Parses a list/search page. `data` may be an array or (for single-record
/// endpoints) an object. Fails on anything that is not such an envelope, so
/// the HTTP layer can retry a truncated or garbled body.
pub fn parse_page(body: &[u8]) -> Result<Page, String> {
    // Bytes that are not UTF-8 spoil only the records that carry them: the
    // page is read with U+FFFD in their place and those records are
    // wrapped so `record_keys` quarantines them with the reason.
    let lossy;
    let (text, not_utf8) = match std::str::from_utf8(body) {
        Ok(t) => (t, false),
        Err(_) => {
            lossy = String::from_utf8_lossy(body).into_owned();
            (lossy.as_str(), true)
        }
    };
    let env: Envelope = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let data = env.data.ok_or("response has no `data` member")?;
    let raw = data.get().trim_start();
    let records = if raw.starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(raw).map_err(|e| format!("invalid `data` array: {e}"))?;
        items
            .into_iter()
            .map(|r| {
                let rec = r.get().to_string();
                if not_utf8 && rec.contains('\u{FFFD}') {
                    serde_json::json!({ NOT_UTF8: rec }).to_string()
                } else {
                    rec
                }
            })
            .collect()
    } else if raw.starts_with('{') {
        vec![raw.to_string()]
    } else {
        return Err("`data` is neither an array nor an object".into());
    };
    let included = env
        .included
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.get().to_string())
        .collect();
    Ok(Page {
        records,
        next: env.links.and_then(|l| l.next).filter(|n| !n.is_empty()),
        included,
    })
}

#[derive(Deserialize)]
struct KeyFields<'a> {
    id: Option<serde_json::Value>,
    /// Borrowed, so the (possibly huge) attributes are not copied; only
    /// their timestamps are read.
    #[serde(default, borrow)]
    attributes: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct KeyAttributes {
    #[serde(rename = "createdAt", default)]
    created_at: Option<serde_json::Value>,
    #[serde(rename = "updatedAt", default)]
    updated_at: Option<serde_json::Value>,
}

/// The typed keys ferry lands beside the verbatim JSON.
#[derive(Debug, Clone)]
pub struct Keys {
    pub id: String,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

/// Why a record cannot be landed as-is; it goes to `ferry_quarantine`.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub id: Option<String>,
    pub reason: String,
}

/// Reads a record's keys, or says precisely what is wrong with it.
/// Marks a record whose bytes were not UTF-8 (see `parse_page`).
const NOT_UTF8: &str = "__ferry_not_utf8";

pub fn record_keys(json: &str) -> Result<Keys, Quarantined> {
    if json.starts_with(&format!("{{\"{NOT_UTF8}\"")) {
        let inner: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        let rec: serde_json::Value =
            serde_json::from_str(inner[NOT_UTF8].as_str().unwrap_or("")).unwrap_or_default();
        return Err(Quarantined {
            id: rec["id"].as_str().map(str::to_string),
            reason: "record contains bytes that are not valid UTF-8 (shown as U+FFFD in the quarantined JSON); fix it in the source or accept the replacement character".into(),
        });
    }
    let k: KeyFields = serde_json::from_str(json).map_err(|e| Quarantined {
        id: None,
        reason: format!("record is not a JSON object with attributes: {e}"),
    })?;
    let id = match k.id {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s,
        Some(serde_json::Value::String(_)) => {
            return Err(Quarantined {
                id: None,
                reason: "record has an empty `id`".into(),
            })
        }
        None | Some(serde_json::Value::Null) => {
            return Err(Quarantined {
                id: None,
                reason: "record has no `id`".into(),
            })
        }
        Some(other) => {
            return Err(Quarantined {
                id: Some(other.to_string()),
                reason: format!("`id` must be a string, got {other}"),
            })
        }
    };
    let (mut created_at, mut updated_at) = (None, None);
    if let Some(raw) = k.attributes.filter(|r| r.get() != "null") {
        if !raw.get().trim_start().starts_with('{') {
            return Err(Quarantined {
                id: Some(id),
                reason: "`attributes` must be a JSON object".into(),
            });
        }
        let a: KeyAttributes = serde_json::from_str(raw.get()).map_err(|e| Quarantined {
            id: Some(id.clone()),
            reason: format!("`attributes` is unreadable: {e}"),
        })?;
        created_at = timestamp(&id, "createdAt", a.created_at)?;
        updated_at = timestamp(&id, "updatedAt", a.updated_at)?;
    }
    Ok(Keys {
        id,
        created_at,
        updated_at,
    })
}

fn timestamp(
    id: &str,
    field: &str,
    v: Option<serde_json::Value>,
) -> Result<Option<i64>, Quarantined> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => parse_time(&s).map(Some).ok_or_else(|| Quarantined {
            id: Some(id.to_string()),
            reason: format!("attributes.{field} is not an ISO-8601 timestamp: {s:?}"),
        }),
        Some(other) => Err(Quarantined {
            id: Some(id.to_string()),
            reason: format!("attributes.{field} must be a timestamp string, got {other}"),
        }),
    }
}

/// Parses Kustomer timestamps (RFC 3339, also without a zone = UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// ISO-8601 UTC with milliseconds, the format search filters take.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_array_and_object_pages() {
        let p = parse_page(br#"{"data":[{"id":"a"},{"id":"b"}],"links":{"next":"/v1/x?page=2"}}"#)
            .unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.next.as_deref(), Some("/v1/x?page=2"));
        let p = parse_page(br#"{"data":{"id":"a"}}"#).unwrap();
        assert_eq!(p.records, vec![r#"{"id":"a"}"#.to_string()]);
        assert!(parse_page(br#"{"data":[{"id":"a"#).is_err());
        assert!(parse_page(br#"{"errors":[]}"#).is_err());
    }

    #[test]
    fn quarantines_bad_keys() {
        assert_eq!(
            record_keys(r#"{"id":"x","attributes":{"updatedAt":"2020-05-19T18:55:54.390Z"}}"#)
                .unwrap()
                .updated_at,
            Some(1589914554390)
        );
        assert!(record_keys(r#"{"attributes":{}}"#)
            .unwrap_err()
            .reason
            .contains("no `id`"));
        assert!(record_keys(r#"{"id":12345}"#)
            .unwrap_err()
            .reason
            .contains("must be a string"));
        let e = record_keys(r#"{"id":"x","attributes":{"updatedAt":true}}"#).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("x"));
        assert!(e.reason.contains("updatedAt"));
    }
}
