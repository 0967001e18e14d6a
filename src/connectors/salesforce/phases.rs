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
/// Setup and junction objects that take no custom field (Group,
/// QueueSobject, GroupMember, Topic, TopicAssignment,
/// ContentDocumentLink): matched by their natural key (`natural_key`)
/// before anything is created, so a rerun, an in-doubt batch or a record
/// an admin made by hand is adopted, never duplicated.
pub const KEYED: &str = "sf_keyed";

/// The natural key of a keyed object: the fields that make a record
/// unique (Salesforce refuses a second Group with the same DeveloperName,
/// a second Topic with the same name in any case), and a SOQL condition
/// every match must meet.
pub fn natural_key(object: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match object {
        "Group" => (&["DeveloperName"], "Type = 'Queue'"),
        "QueueSobject" => (&["QueueId", "SobjectType"], ""),
        "GroupMember" => (&["GroupId", "UserOrGroupId"], ""),
        "Topic" => (&["Name"], ""),
        "TopicAssignment" => (&["EntityId", "TopicId"], ""),
        "ContentDocumentLink" => (&["LinkedEntityId", "ContentDocumentId"], ""),
        // (Salesforce may have made the relation itself from the email's
        // addresses: it is adopted, not made twice.)
        "EmailMessageRelation" => (&["EmailMessageId", "RelationType", "RelationAddress"], ""),
        _ => return None,
    })
}

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
    // Create, upload, close, poll, successfulResults, failedResults
    // (bulk.rs; unprocessedrecords only when some are missing).
    requests: 6,
};

/// Every phase in load order.
pub const PHASES: &[Phase] = &[
    Phase {
        resend: "matching an agent to a Salesforce User by email writes nothing",
        ..Phase::plain("agents", "users", COLLECTION, call("User", USER_MATCH))
    },
    // Teams → Queues for Cases, with their members.
    Phase::plain("queues", "teams", COLLECTION, call("Group", KEYED)),
    Phase::plain(
        "queue_sobjects",
        "teams",
        COLLECTION,
        call("QueueSobject", KEYED),
    ),
    Phase::plain(
        "queue_members",
        "team_members",
        COLLECTION,
        call("GroupMember", KEYED),
    ),
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
    Phase::plain("topics", "tags", COLLECTION, call("Topic", KEYED)),
    // KObjects → records of the klass's custom object (`path_arg` names
    // it; the payload's `attributes.type` too, for a cutover's PATCH).
    Phase {
        changes: Some(Changes {
            fields: &[],
            update: "upsert the custom object record by external id",
            output: None,
        }),
        one_path_arg_per_batch: true,
        ..Phase::plain("custom_records", "kobjects", COLLECTION, call("{}", UPSERT))
    },
    // Lookups between records (a KObject referencing another), upserted
    // by external id once every record exists: klasses may reference each
    // other, so no creation order puts every parent first. An upsert sets
    // the same values again, so an in-doubt batch is simply resent.
    Phase {
        one_path_arg_per_batch: true,
        ..Phase::plain(
            "custom_record_links",
            "kobjects",
            COLLECTION,
            call("{}", UPSERT),
        )
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
            output: Some("out_salesforce_cases"),
        }),
        ..Phase::plain("cases", "conversations", BULK, call("Case", BULK_UPSERT))
    },
    // A Case's Lookups to custom object records, upserted by external id
    // once both exist (a Case may load while its record waits for the
    // admin to create the object).
    Phase::plain(
        "case_record_links",
        "conversations",
        COLLECTION,
        call("Case", UPSERT),
    ),
    Phase::plain(
        "topic_assignments",
        "conversation_tags",
        COLLECTION,
        call("TopicAssignment", KEYED),
    ),
    // Thread order comes from MessageDate, not from arrival: batches may
    // run side by side. EmailMessage is never updated after insert.
    Phase::plain(
        "email_messages",
        "messages",
        BULK,
        call("EmailMessage", BULK_UPSERT),
    ),
    // Each email's sender and, for an agent's email, the customer it went
    // to: EmailMessageRelation to the Contact, Lead or User, so the email
    // shows on their record (an agent with no User is named by address).
    Phase::plain(
        "email_relations",
        "messages",
        COLLECTION,
        call("EmailMessageRelation", KEYED),
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
    // A file of an email also shows on that EmailMessage (it was
    // published to the Case).
    Phase::plain(
        "file_links",
        "attachments",
        COLLECTION,
        call("ContentDocumentLink", KEYED),
    ),
];
