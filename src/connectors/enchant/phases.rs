//! Enchant's load phases, in dependency order. Each phase's payload query
//! is the route's `load/<phase>.sql`. Enchant has no bulk endpoint and no
//! external id on any object (community spec, dev.enchant.com/api/v1):
//! every phase is one request per row, and an in-doubt row is found again
//! by what ferry wrote into it (a contact email, a `[ferry <id>]` marker).

use crate::load::phase::{BatchKind, Call, Changes, Existing, Phase};

/// Agents are matched to existing Enchant users by email (`GET /users`):
/// the API cannot create users.
pub const USER_MATCH: &str = "enchant_user_match";
/// `PATCH /tickets/{id}`: state and labels after the ticket exists, as
/// `TicketCreate` takes neither.
pub const TICKET_PATCH: &str = "enchant_ticket_patch";

/// Every phase in load order.
pub const PHASES: &[Phase] = &[
    Phase {
        resend: "an agent is matched to an Enchant user by email, which writes nothing",
        ..Phase::plain(
            "agents",
            "users",
            BatchKind::Single,
            Call {
                path: "/users",
                key: "user",
                id_field: "id",
                custom: Some(USER_MATCH),
            },
        )
    },
    // Found by contact email before creating (the spec's
    // `contacts.type=email&contacts.value=` filter): a rerun or an
    // in-doubt create never makes a second customer.
    Phase {
        existing: Some(Existing {
            path: "/customers?contacts.type=email&contacts.value={}",
            key: "",
            fields: &["email"],
            case_insensitive: true,
            before_create: true,
        }),
        changes: Some(Changes {
            fields: &["first_name", "last_name", "summary"],
            update: "PATCH /customers/{id} (names, summary)",
            output: None,
        }),
        ..Phase::plain(
            "customers",
            "customers",
            BatchKind::Single,
            Call::new("/customers", "customer"),
        )
    },
    Phase {
        resend: crate::load::phase::RESEND_UPLOAD,
        ..Phase::plain(
            "attachments",
            "attachments",
            BatchKind::FileUpload,
            Call::new("/attachments", "attachment"),
        )
    },
    // The ticket with its header note (channel, original times, Kustomer
    // id and marker); its messages follow one request each.
    Phase::plain(
        "tickets",
        "conversations",
        BatchKind::Single,
        Call::new("/tickets", "ticket"),
    ),
    // One ticket per batch, sent in order: Enchant stamps each message
    // with the time it arrives, so arrival order is the thread's order.
    Phase {
        one_path_arg_per_batch: true,
        ..Phase::plain(
            "messages",
            "messages",
            BatchKind::Single,
            Call::new("/tickets/{}/messages", "message"),
        )
    },
    // After the messages, so a reply does not reopen a closed ticket.
    Phase {
        resend: "a PATCH sets the same state, labels and assignee again",
        changes: Some(Changes {
            fields: &[],
            update: "PATCH /tickets/{id} (state, labels, assignee)",
            output: Some("out_enchant_tickets"),
        }),
        ..Phase::plain(
            "ticket_state",
            "conversations",
            BatchKind::Single,
            Call {
                path: "/tickets/{}",
                key: "ticket",
                id_field: "id",
                custom: Some(TICKET_PATCH),
            },
        )
    },
    Phase {
        one_path_arg_per_batch: true,
        ..Phase::plain(
            "kobject_notes",
            "kobjects",
            BatchKind::Single,
            Call::new("/tickets/{}/messages", "message"),
        )
    },
];
