//! Tables an earlier ferry built under another name. When the SQL moved
//! into layers (one file per model, `int_` for intermediate tables, one
//! `out_<destination>_` spelling), these tables were renamed; a workspace
//! transformed before keeps the old copies, and a user's query of an old
//! name would read stale rows without any error. Once the new table
//! exists, the old one is dropped and the rename is said out loud.

use duckdb::Connection;

use crate::error::Result;

/// (old name, new name).
pub const RENAMED: &[(&str, &str)] = &[
    ("customer_merge", "int_customer_merge"),
    ("customer_canonical", "int_customer_canonical"),
    ("company_merge", "int_company_merge"),
    ("company_canonical", "int_company_canonical"),
    ("conversation_disposition", "int_conversation_disposition"),
    ("excluded_conversations", "int_excluded_conversations"),
    ("archive_conversations", "int_archive_conversations"),
    (
        "customer_identity_candidates",
        "int_customer_identity_candidates",
    ),
    ("customer_identities", "int_customer_identities"),
    ("customer_tags", "int_customer_tags"),
    ("excluded_users", "int_excluded_users"),
    ("excluded_teams", "int_excluded_teams"),
    ("comment_source", "int_comment_source"),
    ("comment_chunks", "int_comment_chunks"),
    ("long_body_attachments", "int_long_body_attachments"),
    ("comment_order", "int_comment_order"),
    ("ticket_parts", "int_ticket_parts"),
    (
        "excluded_empty_conversations",
        "int_excluded_empty_conversations",
    ),
    ("klass_fields", "int_klass_fields"),
    ("kobject_parts", "int_kobject_parts"),
    ("archive_kobjects", "int_archive_kobjects"),
    ("customer_people", "int_customer_people"),
    ("sf_thread", "int_case_thread"),
    ("sf_klass_fields", "int_klass_fields"),
    ("kobject_lines", "int_kobject_lines"),
    ("contact_merge", "int_contact_merge"),
    ("contact_canonical", "int_contact_canonical"),
    ("excluded_attributes", "int_excluded_attributes"),
    ("custom_values", "int_custom_values"),
    ("part_files", "int_part_files"),
    ("out_sf_users", "out_salesforce_users"),
    ("out_sf_accounts", "out_salesforce_accounts"),
    ("out_sf_contacts", "out_salesforce_contacts"),
    ("out_sf_leads", "out_salesforce_leads"),
    ("out_sf_queues", "out_salesforce_queues"),
    ("out_sf_queue_members", "out_salesforce_queue_members"),
    ("out_sf_topics", "out_salesforce_topics"),
    ("out_sf_cases", "out_salesforce_cases"),
    ("out_sf_messages", "out_salesforce_messages"),
    (
        "out_sf_topic_assignments",
        "out_salesforce_topic_assignments",
    ),
    ("out_sf_file_links", "out_salesforce_file_links"),
    ("out_sf_custom_objects", "out_salesforce_custom_objects"),
    ("out_sf_custom_fields", "out_salesforce_custom_fields"),
    ("out_sf_custom_records", "out_salesforce_custom_records"),
    ("out_kus_users", "out_kustomer_users"),
    ("out_kus_teams", "out_kustomer_teams"),
    ("out_kus_metadata", "out_kustomer_metadata"),
    ("out_kus_companies", "out_kustomer_companies"),
    ("out_kus_customers", "out_kustomer_customers"),
    ("out_kus_conversations", "out_kustomer_conversations"),
    ("out_kus_messages", "out_kustomer_messages"),
    ("out_kus_notes", "out_kustomer_notes"),
    ("out_kus_klasses", "out_kustomer_klasses"),
    ("out_kus_kobjects", "out_kustomer_kobjects"),
];

/// Drops each old table whose new one exists; returns (old, new) of
/// those dropped.
pub fn drop_stale(conn: &Connection) -> Result<Vec<(&'static str, &'static str)>> {
    let tables: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let mut dropped = Vec::new();
    for (old, new) in RENAMED {
        if tables.iter().any(|t| t == old) && tables.iter().any(|t| t == new) {
            conn.execute_batch(&format!("DROP TABLE {old}"))?;
            dropped.push((*old, *new));
        }
    }
    Ok(dropped)
}
