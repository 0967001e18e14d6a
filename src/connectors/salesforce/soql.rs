//! SOQL through the REST query resource: `GET {data}/query?q=…` answers
//! `{totalSize, done, records, nextRecordsUrl}`; the next page is the
//! `nextRecordsUrl` path, until `done` (REST API guide, "Query"; pages of
//! up to 2,000 rows).

use serde_json::Value;

use crate::error::{FerryError, Result};
use crate::http::ApiClient;

/// Every row of `soql`, following `nextRecordsUrl`.
pub async fn query_all(client: &ApiClient, data_path: &str, soql: &str) -> Result<Vec<Value>> {
    let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    let mut path = format!("{data_path}/query?q={q}");
    let mut rows = Vec::new();
    loop {
        let page = client.get_json(&path).await?;
        let Some(records) = page["records"].as_array() else {
            return Err(FerryError::Other(format!(
                "Salesforce answered a query without records: {}",
                page.to_string().chars().take(300).collect::<String>()
            )));
        };
        rows.extend(records.iter().cloned());
        match page["nextRecordsUrl"].as_str() {
            Some(next) if page["done"] == false => path = next.to_string(),
            _ => return Ok(rows),
        }
    }
}

/// Quotes a value for a SOQL string literal (backslash escapes, as the
/// SOQL reference gives for `'` and `\`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
