//! Salesforce's load phases, in dependency order. Each phase's payload
//! query is the route's `load/<phase>.sql`; `Call::path` names the sObject.
//! Large phases go through Bulk API 2.0 upserts (2,000 rows a job here;
//! Salesforce takes 10,000 per internal batch and 150 MB per upload), small
//! ones through sObject Collections (200 records a request). Every object
//! but CaseComment carries the Kustomer id in the external-id field, so a
//! rerun upserts instead of duplicating, and an in-doubt batch is found
//! again by a SOQL query on that field.

use crate::load::phase::{BatchKind, Call, Changes, Phase};

/// Kustomer users → Salesforce Users by email (SOQL); never created.
pub const USER_MATCH: &str = "sf_user_match";
/// Upsert through sObject Collections by the external id.
pub const UPSERT: &str = "sf_upsert";
/// Upsert through a Bulk API 2.0 ingest job by the external id.
pub const BULK_UPSERT: &str = "sf_bulk_upsert";
/// Create through sObject Collections (CaseComment: no custom fields).
pub const INSERT: &str = "sf_insert";

const fn call(object: &'static str, custom: &'static str) -> Call {
    Call {
        path: object,
        key: object,
        id_field: "id",
        custom: Some(custom),
    }
}

const COLLECTION: BatchKind = BatchKind::Collection {
    size: 200,
    in_flight: 2,
};
const BULK: BatchKind = BatchKind::BulkJob {
    size: 2000,
    in_flight: 2,
};

/// Every phase in load order.
pub const PHASES: &[Phase] = &[
    Phase::plain("agents", "users", COLLECTION, call("User", USER_MATCH)),
    Phase {
        changes: Some(Changes {
            fields: &[],
            update: "upsert Account by external id",
            output: None,
        }),
        ..Phase::plain("accounts", "companies", COLLECTION, call("Account", UPSERT))
    },
    Phase {
        changes: Some(Changes {
            fields: &[],
            update: "upsert Contact by external id",
            output: None,
        }),
        ..Phase::plain("contacts", "customers", BULK, call("Contact", BULK_UPSERT))
    },
    Phase {
        changes: Some(Changes {
            fields: &[],
            update: "upsert Lead by external id",
            output: None,
        }),
        ..Phase::plain("leads", "customers", COLLECTION, call("Lead", UPSERT))
    },
    // A Case's original times are fields only an insert may set: they stay
    // out of what a cutover compares and sends.
    Phase {
        changes: Some(Changes {
            fields: &[
                "Subject",
                "Status",
                "Priority",
                "Origin",
                "OwnerId",
                "Kustomer_Tags__c",
            ],
            update: "upsert Case by external id (subject, status, priority, owner, tags)",
            output: Some("out_sf_cases"),
        }),
        ..Phase::plain("cases", "conversations", BULK, call("Case", BULK_UPSERT))
    },
    // Thread order comes from MessageDate, not from arrival: batches may
    // run side by side. EmailMessage is never updated after insert.
    Phase::plain(
        "email_messages",
        "messages",
        BULK,
        call("EmailMessage", BULK_UPSERT),
    ),
    Phase::plain(
        "case_comments",
        "notes",
        COLLECTION,
        call("CaseComment", INSERT),
    ),
    Phase::plain(
        "files",
        "attachments",
        BatchKind::FileUpload,
        call("ContentVersion", UPSERT),
    ),
];
