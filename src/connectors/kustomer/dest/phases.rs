//! Kustomer's load phases, in dependency order (agents, custom attribute
//! metadata and klasses before the records that use them; companies
//! before customers; conversations before their messages and notes;
//! files before the messages that name them). Each phase's payload query
//! is the route's `load/<phase>.sql`.
//!
//! Every record carries `externalId` = its source id, so an in-doubt
//! batch is found again with the spec's lookups by external id (never by
//! search: Kustomer's search index lags minutes behind writes).

use crate::load::phase::{BatchKind, Call, Changes, Phase};

/// Agents are matched to Kustomer users by email (`GET /v1/users`).
pub const USER_MATCH: &str = "kustomer_user_match";
/// Teams are found by name (`GET /v1/teams`), else created or held.
pub const TEAM: &str = "kustomer_team";
/// `PUT /v1/metadata/{resource}`: one custom attribute per row.
pub const METADATA: &str = "kustomer_metadata";
/// `POST /v1/klasses`, after looking the klass up by name.
pub const KLASS: &str = "kustomer_klass";
/// `PUT /v1/conversations/{id}` with `status: snoozed` and a scheduled
/// `snooze` (the update schema's fields; a create takes open or done only).
pub const SNOOZE: &str = "kustomer_snooze";
/// `POST /v1/attachments`, then the presigned POST of the bytes.
pub const UPLOAD: &str = "kustomer_upload";
/// A knowledge-base category, found by title under its parent or created.
pub const KB_CATEGORY: &str = "kustomer_kb_category";
/// A knowledge-base article with its source-language draft filled.
pub const KB_ARTICLE: &str = "kustomer_kb_article";
/// One language's version of an article, published as the source's is.
pub const KB_VERSION: &str = "kustomer_kb_version";

/// A bulk create: up to 100 records per request (spec `maxItems: 100`),
/// answered by a bulk operation polled to completion. Two in flight: the
/// org-wide budget is shared, and each batch also polls.
const BULK: BatchKind = BatchKind::BulkJob {
    size: 100,
    in_flight: 2,
    // The bulk POST, `GET /v1/bulk/{id}`, `GET /v1/bulk/{id}/batches`.
    requests: 3,
};

/// Every phase in load order.
pub const PHASES: &[Phase] = &[
    Phase {
        resend: "an agent is matched to a Kustomer user by email, which writes nothing",
        ..Phase::plain(
            "users",
            "admins",
            BatchKind::Single,
            Call {
                path: "/v1/users",
                key: "",
                id_field: "id",
                custom: Some(USER_MATCH),
            },
        )
    },
    // After users: a created team takes the matched agents as members.
    Phase {
        resend: "a team is looked for by name before one is created",
        ..Phase::plain(
            "teams",
            "teams",
            BatchKind::Single,
            Call {
                path: "/v1/teams",
                key: "",
                id_field: "id",
                custom: Some(TEAM),
            },
        )
    },
    Phase {
        resend: "a PUT of the same attribute definitions sets the same values again",
        ..Phase::plain(
            "metadata",
            "data_attributes",
            BatchKind::Single,
            Call {
                path: "/v1/metadata/{}",
                key: "properties",
                id_field: "",
                custom: Some(METADATA),
            },
        )
    },
    Phase {
        resend: "a klass is looked for by name before it is created",
        ..Phase::plain(
            "klasses",
            "ticket_types",
            BatchKind::Single,
            Call {
                path: "/v1/klasses",
                key: "",
                id_field: "id",
                custom: Some(KLASS),
            },
        )
    },
    Phase {
        lookup: Some("/v1/companies?externalId={}"),
        changes: Some(Changes {
            fields: &["name", "domains", "custom"],
            update: "PUT /v1/companies/{id} (name, domains, custom attributes)",
            output: None,
        }),
        ..Phase::plain(
            "companies",
            "companies",
            BULK,
            Call::new("/v1/companies/bulk", ""),
        )
    },
    Phase {
        lookup: Some("/v1/customers/externalId={}"),
        changes: Some(Changes {
            fields: &["name", "emails", "phones", "company", "custom"],
            update: "PUT /v1/customers/{id} (name, emails, phones, company, custom attributes)",
            output: None,
        }),
        ..Phase::plain(
            "customers",
            "contacts",
            BULK,
            Call::new("/v1/customers/bulk", ""),
        )
    },
    Phase {
        lookup: Some("/v1/conversations/externalId={}"),
        changes: Some(Changes {
            fields: &["status", "tags", "assignedUsers", "custom"],
            update: "PUT /v1/conversations/{id} (status, tags, assignee, custom attributes)",
            output: Some("out_kustomer_conversations"),
        }),
        ..Phase::plain(
            "conversations",
            "conversations",
            BULK,
            Call::new("/v1/conversations/bulk", ""),
        )
    },
    Phase {
        resend: crate::load::phase::RESEND_UPLOAD,
        ..Phase::plain(
            "attachments",
            "attachments",
            BatchKind::FileUpload,
            Call {
                path: "/v1/attachments",
                key: "",
                id_field: "id",
                custom: Some(UPLOAD),
            },
        )
    },
    // A new message on a conversation loaded earlier (a cutover) is just
    // a message not loaded yet: this phase sends it to its conversation.
    Phase {
        lookup: Some("/v1/messages/externalid={}"),
        ..Phase::plain(
            "messages",
            "conversation_parts",
            BULK,
            Call::new("/v1/messages/bulk", ""),
        )
    },
    // Notes have no lookup by external id: an in-doubt note is found in
    // its conversation's notes (external_id = the conversation's id).
    Phase::plain(
        "notes",
        "conversation_parts",
        BULK,
        Call::new("/v1/notes/bulk", ""),
    ),
    Phase {
        lookup: Some("/v1/klasses/{}/externalId={}"),
        one_path_arg_per_batch: true,
        ..Phase::plain(
            "kobjects",
            "tickets",
            BULK,
            Call::new("/v1/klasses/{}/bulk", ""),
        )
    },
    // Last: a conversation snoozed in Intercom until a time still ahead
    // is snoozed until then in Kustomer.
    Phase {
        resend: "a snooze sets the same time on the conversation again",
        ..Phase::plain(
            "snoozes",
            "conversations",
            BatchKind::Single,
            Call {
                path: "/v1/conversations/{}",
                key: "",
                id_field: "",
                custom: Some(SNOOZE),
            },
        )
    },
    // The Help Center (the guide "Publish help content with the knowledge
    // base API"): categories parents first, one at a time in the query's
    // order (a child names the parent created just before it).
    Phase {
        resend: "a category is looked for by its title under its parent before one is created",
        ..Phase::plain(
            "kb_categories",
            "collections",
            BatchKind::Ordered,
            Call {
                path: "/v1/kb/categories",
                key: "",
                id_field: "id",
                custom: Some(KB_CATEGORY),
            },
        )
    },
    Phase {
        resend: "an article is looked for by its title in its category (or as the untitled article a lost answer left) before one is created",
        ..Phase::plain(
            "kb_articles",
            "articles",
            BatchKind::Single,
            Call {
                path: "/v1/kb/articles",
                key: "",
                id_field: "id",
                custom: Some(KB_ARTICLE),
            },
        )
    },
    // An article edited in Intercom after the first load: a new draft of
    // each changed language, published as Intercom's is.
    Phase {
        resend: "a version's draft is filled again with the same content (an open draft is reused, not opened twice)",
        changes: Some(Changes {
            // The whole payload: its keys are the version's content and
            // whether it is published (images named by their bytes).
            fields: &[],
            update: "POST + PUT /v1/kb/articles/{id}/versions/{lang} (a new draft, published)",
            output: None,
        }),
        ..Phase::plain(
            "kb_versions",
            "articles",
            BatchKind::Single,
            Call {
                path: "/v1/kb/articles/{}/versions",
                key: "",
                id_field: "",
                custom: Some(KB_VERSION),
            },
        )
    },
];
