//! Zendesk's load phases, in dependency order. Each phase's payload query
//! is the route's `load/<phase>.sql`; here is only how Zendesk takes it:
//! the request, the bulk limits, how an in-doubt or half-created record
//! is found again.

use crate::load::phase::{BatchKind, Call, Changes, Existing, Phase, Window};

/// Users and agents: a changed record gets an Update User of its own
/// (never a role for a user ferry matched rather than created).
const USER_CHANGES: Changes = Changes {
    fields: &[],
    update: "PUT /api/v2/users/{id} (a matched user: as existing_users allows, never a role)",
    output: None,
};

/// The users and agents phases: matched against the account's users
/// first, then created (`users.rs`).
pub const USERS: &str = "users";

/// The users or agents phase: new users through `users/create_many` in
/// jobs of 100, or one `POST /api/v2/users` each when the account has no
/// bulk user imports (`bulk_user_imports = "off"`).
const fn people(name: &'static str, object: &'static str, one_by_one: bool) -> Phase {
    let call = Call {
        path: if one_by_one {
            super::users::CREATE_ONE
        } else {
            super::users::CREATE_MANY
        },
        key: "users",
        id_field: "id",
        custom: Some(USERS),
    };
    let batch = if one_by_one { BatchKind::Single } else { JOB };
    Phase {
        changes: Some(USER_CHANGES),
        resend: "each person is looked up by email before being created (`existing_users`), so one the lost answer created is found and recorded, not created again",
        ..Phase::plain(name, object, batch, call)
    }
}

/// Zendesk bulk endpoints take 100 items. How many jobs are in flight is
/// the account's (`Zendesk::in_flight`: `job_limit` less `job_headroom`);
/// this figure is only the floor a phase list states on its own.
const JOB: BatchKind = BatchKind::BulkJob {
    size: 100,
    in_flight: 8,
    // The create_many, then its share of the status polls (one
    // `show_many` serves every job in flight: well under one a job).
    requests: 2,
};

/// The ticket import endpoint (`archive_immediately` is added to it).
pub const TICKET_IMPORT: &str = "/api/v2/imports/tickets/create_many";
/// A new comment on an imported ticket: a ticket update, or a follow-up
/// when the ticket is closed (`delta::comments`).
pub const TICKET_COMMENT: &str = "ticket_comment";
/// Custom object creation (and then its fields): a step of its own.
pub const CUSTOM_OBJECT: &str = "custom_object";
/// Custom object records go in one create job per object key.
pub const CUSTOM_RECORDS: &str = "custom_object_records";
/// The second pass over custom object records: their lookups to each
/// other, an "update" job per object.
pub const CUSTOM_LINKS: &str = "custom_object_links";

/// A field-definition phase: one `POST /api/v2/{name}` per custom
/// attribute key, found again by its key after a crash.
const fn field_phase(name: &'static str, path: &'static str, item: &'static str) -> Phase {
    let mut p = Phase::plain(name, "fields", BatchKind::Single, Call::new(path, item));
    p.existing = Some(Existing {
        path,
        key: name,
        fields: &["key"],
        case_insensitive: false,
        before_create: false,
    });
    p
}

/// Every phase in load order, users in bulk jobs.
pub const PHASES: &[Phase] = &all(false);
/// Every phase in load order, users one request each (no bulk imports).
pub const PHASES_ONE_BY_ONE: &[Phase] = &all(true);

/// Phases in the list.
const COUNT: usize = 15;

const fn all(one_by_one: bool) -> [Phase; COUNT] {
    [
    field_phase(
        "organization_fields",
        "/api/v2/organization_fields",
        "organization_field",
    ),
    field_phase("user_fields", "/api/v2/user_fields", "user_field"),
    Phase {
        lookup: Some("/api/v2/organizations/show_many?external_ids="),
        changes: Some(Changes {
            fields: &[],
            update: "PUT /api/v2/organizations/{id}",
            output: None,
        }),
        ..Phase::plain(
            "organizations",
            "companies",
            JOB,
            Call::new("/api/v2/organizations/create_many", "organizations"),
        )
    },
    Phase {
        lookup: Some("/api/v2/users/show_many?external_ids="),
        ..people("users", "customers", one_by_one)
    },
    Phase {
        existing: Some(Existing {
            path: "/api/v2/users/{}/identities",
            key: "identities",
            fields: &["value"],
            case_insensitive: true,
            before_create: false,
        }),
        ..Phase::plain(
            "identities",
            "customers",
            BatchKind::Single,
            Call::new("/api/v2/users/{}/identities", "identity"),
        )
    },
    people("agents", "users", one_by_one),
    Phase {
        existing: Some(Existing {
            path: "/api/v2/groups",
            key: "groups",
            fields: &["name"],
            case_insensitive: false,
            before_create: false,
        }),
        ..Phase::plain(
            "groups",
            "teams",
            BatchKind::Single,
            Call::new("/api/v2/groups", "group"),
        )
    },
    Phase {
        existing: Some(Existing {
            path: "/api/v2/group_memberships",
            key: "group_memberships",
            fields: &["user_id", "group_id"],
            case_insensitive: false,
            before_create: false,
        }),
        ..Phase::plain(
            "group_memberships",
            "teams",
            JOB,
            Call::new("/api/v2/group_memberships/create_many", "group_memberships"),
        )
    },
    // Ticket fields have no key in Zendesk and titles may repeat: look
    // for the title before creating, so a crash never makes a second.
    Phase {
        existing: Some(Existing {
            path: "/api/v2/ticket_fields",
            key: "ticket_fields",
            fields: &["title"],
            case_insensitive: false,
            before_create: true,
        }),
        ..Phase::plain(
            "ticket_fields",
            "fields",
            BatchKind::Single,
            Call::new("/api/v2/ticket_fields", "ticket_field"),
        )
    },
    // Custom objects and their records come before the tickets: a ticket's
    // lookup field names a record by its external id, which must exist.
    Phase {
        resend: "a custom object's key is unique: one the lost answer created is answered \"already been taken\", and only its missing fields are added",
        ..Phase::plain(
            "custom_objects",
            "klasses",
            BatchKind::Single,
            Call {
                path: "/api/v2/custom_objects",
                key: "custom_object",
                id_field: "key",
                custom: Some(CUSTOM_OBJECT),
            },
        )
    },
    Phase {
        one_path_arg_per_batch: true,
        ..Phase::plain(
            "custom_object_records",
            "kobjects",
            JOB,
            Call {
                path: "/api/v2/custom_objects/{}/jobs",
                key: "job",
                id_field: "id",
                custom: Some(CUSTOM_RECORDS),
            },
        )
    },
    // Lookups between records (a KObject referencing another), once every
    // record exists: klasses may reference each other, so no creation
    // order puts every parent first. An update sets the same values
    // again, so an in-doubt batch is simply resent.
    Phase {
        one_path_arg_per_batch: true,
        resend: "an update sets the same lookup values again",
        ..Phase::plain(
            "custom_object_links",
            "kobjects",
            JOB,
            Call {
                path: "/api/v2/custom_objects/{}/jobs",
                key: "job",
                id_field: "id",
                custom: Some(CUSTOM_LINKS),
            },
        )
    },
    // Upload tokens expire: a window's files go up just before its
    // tickets, and a stale token is replaced by a new upload.
    Phase {
        window: Window::Feeder,
        replaces_ids: true,
        ..Phase::plain(
            "uploads",
            "attachments",
            BatchKind::FileUpload,
            Call {
                path: "/api/v2/uploads",
                key: "upload",
                id_field: "token",
                custom: None,
            },
        )
    },
    // In-doubt tickets are found one external id at a time, archived ones
    // by search (`send::tickets_by_external_id`), not by `lookup`.
    // An imported ticket's comments are recorded as carried by it; later
    // changes to the fields a ticket update can set are sent as updates,
    // and a ticket whose conversation left the source gets the
    // `deleted_in_source` policy.
    Phase {
        window: Window::Anchor,
        members: Some("comments"),
        changes: Some(Changes {
            fields: &[
                "status",
                "priority",
                "tags",
                "assignee_id",
                "group_id",
                "custom_fields",
            ],
            update:
                "PUT /api/v2/tickets/{id} (status, priority, tags, assignee, group, custom fields)",
            output: Some("out_zendesk_tickets"),
        }),
        ..Phase::plain(
            "tickets",
            "conversations",
            JOB,
            Call::new(TICKET_IMPORT, "tickets"),
        )
    },
    // Comments written after their ticket was imported (a cutover): one
    // ticket update each, in order, one ticket per batch; a closed ticket
    // gets a follow-up ticket holding them. A ticket not imported yet
    // carries its comments itself, so a dry run does not count them here.
    Phase {
        one_path_arg_per_batch: true,
        dry_run_projects_parents: false,
        ..Phase::plain(
            "comments",
            "messages",
            BatchKind::Single,
            Call {
                path: "/api/v2/tickets/{}",
                key: "ticket",
                id_field: "id",
                custom: Some(TICKET_COMMENT),
            },
        )
    },
]
}
