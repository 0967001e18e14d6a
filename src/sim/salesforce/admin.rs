//! The admin's Setup step the simulator stands in for: ferry's data API
//! calls cannot create custom objects, so the demo, the bench and the
//! tests create what the transform's field list (`out_salesforce_custom_fields`)
//! names through `POST /__sim/custom_fields`, as an admin would in
//! Object Manager.

use serde_json::{json, Value};

/// The field list of a transformed workspace, as the simulator takes it.
pub fn field_list(conn: &duckdb::Connection) -> duckdb::Result<Vec<Value>> {
    let mut stmt = conn.prepare(
        "SELECT object, field, type, length, reference_to FROM out_salesforce_custom_fields ORDER BY object, position",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(json!({
            "object": r.get::<_, String>(0)?,
            "field": r.get::<_, String>(1)?,
            "type": r.get::<_, String>(2)?,
            "length": r.get::<_, Option<i64>>(3)?,
            "reference_to": r.get::<_, Option<String>>(4)?,
        }))
    })?;
    rows.collect()
}

/// Creates the workspace's custom objects, and the custom fields of the
/// standard objects, in the simulator at `base_url`; returns how many
/// fields it created.
pub async fn create_custom_objects(
    base_url: &str,
    workspace: &std::path::Path,
) -> anyhow::Result<usize> {
    create(base_url, workspace, |_| true).await
}

/// Only the custom fields of the standard objects (Contact, Lead,
/// Account, Case): an org whose admin has not created the klasses'
/// objects yet.
pub async fn create_standard_object_fields(
    base_url: &str,
    workspace: &std::path::Path,
) -> anyhow::Result<usize> {
    create(base_url, workspace, |object| !object.ends_with("__c")).await
}

async fn create(
    base_url: &str,
    workspace: &std::path::Path,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<usize> {
    let rows: Vec<Value> = {
        let conn = duckdb::Connection::open(workspace.join("ferry.duckdb"))?;
        field_list(&conn)?
            .into_iter()
            .filter(|r| keep(r["object"].as_str().unwrap_or("")))
            .collect()
    };
    let url = format!("{}/__sim/custom_fields", base_url.trim_end_matches('/'));
    let r = reqwest::Client::new().post(&url).json(&rows).send().await?;
    anyhow::ensure!(
        r.status().is_success(),
        "the simulator refused the field list: {}",
        r.text().await?
    );
    Ok(rows.len())
}
