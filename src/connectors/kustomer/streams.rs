//! The Kustomer streams ferry extracts and the cheapest complete path for
//! each: org-wide lists (100 per page) for a full pass, search (500 per
//! page, keyset on updated_at) for deltas and catch-up, the archive search
//! for records not updated in two years, and per-parent calls only where
//! the API offers nothing else (notes of archived conversations).

/// How a stream is reached.
#[derive(Debug, Clone, Copy)]
pub struct StreamDef {
    /// ferry's object name: `raw_kustomer_<object>`.
    pub object: &'static str,
    /// Org-wide list endpoint, if any.
    pub list: Option<&'static str>,
    /// Search `queryContext`, if the object is searchable.
    pub context: Option<&'static str>,
    /// Whether the archive search holds its records older than two years.
    pub archive: bool,
    /// Streams of wave 2 read what wave 1 landed.
    pub wave: u8,
    /// Query strings of the list, walked one after the other (klasses by
    /// every `status`; messages with their attachments side-loaded).
    pub list_queries: &'static [&'static str],
    /// Feeds only the "rebuild by hand" lists: a 404 (feature absent) or
    /// 403 (key without the role) makes it unavailable, not a failure.
    pub optional: bool,
}

/// Every stream, in report order.
pub const STREAMS: &[StreamDef] = &[
    StreamDef {
        object: "users",
        list: Some("/v1/users"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "teams",
        list: Some("/v1/teams"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "shortcuts",
        list: Some("/v1/shortcuts"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: true,
    },
    StreamDef {
        object: "slas",
        list: Some("/v1/slas"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: true,
    },
    StreamDef {
        object: "tags",
        list: Some("/v1/tags"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "klasses",
        list: Some("/v1/klasses"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &["status=enabled", "status=disabled", "status=existing_only"],
        optional: false,
    },
    StreamDef {
        object: "companies",
        list: Some("/v1/companies"),
        context: Some("company"),
        archive: true,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "customers",
        list: Some("/v1/customers"),
        context: Some("customer"),
        archive: true,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "conversations",
        list: Some("/v1/conversations"),
        context: Some("conversation"),
        archive: true,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "messages",
        list: Some("/v1/messages"),
        context: Some("message"),
        archive: true,
        wave: 1,
        list_queries: &["include=attachments"],
        optional: false,
    },
    // The archive search does not cover notes: old notes come per archived
    // conversation (`parents` phase).
    StreamDef {
        object: "notes",
        list: Some("/v1/notes"),
        context: Some("note"),
        archive: false,
        wave: 2,
        list_queries: &[""],
        optional: false,
    },
    // No org-wide KObject list exists (only per klass): search covers them.
    StreamDef {
        object: "kobjects",
        list: None,
        context: Some("kobject"),
        archive: true,
        wave: 1,
        list_queries: &[""],
        optional: false,
    },
    // Full bodies: a message record has only `preview`; the full content
    // is at its `links.related` (e.g. `/v1/postmark/messages/{id}`).
    StreamDef {
        object: "message_contents",
        list: None,
        context: None,
        archive: false,
        wave: 2,
        list_queries: &[""],
        optional: false,
    },
    StreamDef {
        object: "attachments",
        list: None,
        context: None,
        archive: false,
        wave: 2,
        list_queries: &[""],
        optional: false,
    },
    // The org's audit log ("Query events associated with your
    // organization", `GET /v1/audit-logs`, role
    // org.permission.audit_logs.read): what happened to records and who
    // did it, kept for the archive (no destination takes it). Paged by
    // `count` and `after` (an entry id; kustomer-api.md). A key without
    // the role makes it unavailable, not a failure.
    StreamDef {
        object: "audit_logs",
        list: Some("/v1/audit-logs"),
        context: None,
        archive: false,
        wave: 1,
        list_queries: &[""],
        optional: true,
    },
    // Each customer's tracking events, for the archive (a tracking event
    // cannot be created with its original time): the customer's sessions
    // ("Get all customer sessions", `GET /v1/customers/{id}/sessions`),
    // then each session's events ("Get all events by customer for
    // session", `GET /v1/customers/{id}/sessions/{sessionId}/events`; role
    // org.permission.event.read). After the customers are landed; one
    // request per customer and one per session.
    StreamDef {
        object: "customer_events",
        list: None,
        context: None,
        archive: false,
        wave: 2,
        list_queries: &[""],
        optional: true,
    },
    // The images inside the full bodies (`<img src>` on Kustomer's CDN):
    // read from the landed contents, so after them.
    StreamDef {
        object: "inline_images",
        list: None,
        context: None,
        archive: false,
        wave: 2,
        list_queries: &[""],
        optional: false,
    },
];

/// Phases of a pass, in the order they run. Stored in
/// `ferry_extract_state.phase` so an interrupted pass resumes where it was.
pub mod phase {
    pub const ARCHIVE: &str = "archive";
    pub const LIST: &str = "list";
    pub const LIVE_SEARCH: &str = "live_search";
    pub const PARENTS: &str = "parents";
    pub const CATCHUP: &str = "catchup";
    pub const DELTA: &str = "delta";
    pub const RELIST: &str = "relist";
    pub const ATTACHMENTS: &str = "attachments";
    pub const CONTENTS: &str = "contents";
    pub const INLINE_IMAGES: &str = "inline_images";
    /// A list walked by its `links.next` (the audit log's `after` cursor).
    pub const FOLLOW: &str = "follow";
    /// Lists per landed customer (their sessions' events).
    pub const PER_CUSTOMER: &str = "per_customer";
    pub const DONE: &str = "done";
}

impl StreamDef {
    /// Phases of a full pass.
    pub fn full_plan(&self) -> Vec<&'static str> {
        if self.object == "attachments" {
            return vec![phase::ATTACHMENTS];
        }
        if self.object == "message_contents" {
            return vec![phase::CONTENTS];
        }
        if self.object == "inline_images" {
            return vec![phase::INLINE_IMAGES];
        }
        if self.object == "audit_logs" {
            return vec![phase::FOLLOW];
        }
        if self.object == "customer_events" {
            return vec![phase::PER_CUSTOMER];
        }
        let mut p = Vec::new();
        if self.context.is_none() {
            p.push(phase::LIST);
            return p;
        }
        if self.archive {
            p.push(phase::ARCHIVE);
        }
        p.push(if self.list.is_some() {
            phase::LIST
        } else {
            phase::LIVE_SEARCH
        });
        if self.object == "notes" {
            p.push(phase::PARENTS);
        }
        // Records updated while the pass ran: lists are id-ordered, so a
        // record changed behind the cursor is only caught by this search.
        p.push(phase::CATCHUP);
        p
    }

    /// Phases of a delta pass.
    pub fn delta_plan(&self) -> Vec<&'static str> {
        if self.object == "attachments" {
            vec![phase::ATTACHMENTS]
        } else if self.object == "message_contents" {
            vec![phase::CONTENTS]
        } else if self.object == "inline_images" {
            vec![phase::INLINE_IMAGES]
        } else if self.object == "audit_logs" {
            vec![phase::FOLLOW]
        } else if self.object == "customer_events" {
            vec![phase::PER_CUSTOMER]
        } else if self.context.is_none() {
            vec![phase::RELIST]
        } else {
            vec![phase::DELTA]
        }
    }

    /// The stream whose landed records this one reads (wave 2): it starts
    /// as soon as that one is done, not when every wave-1 stream is, so
    /// the budget does not idle behind the slowest stream.
    pub fn after(&self) -> Option<&'static str> {
        match self.object {
            "notes" => Some("conversations"),
            "message_contents" | "attachments" => Some("messages"),
            "inline_images" => Some("message_contents"),
            "customer_events" => Some("customers"),
            _ if self.wave == 2 => Some("messages"),
            _ => None,
        }
    }

    /// Looks a stream up by object name.
    pub fn find(object: &str) -> Option<&'static StreamDef> {
        STREAMS.iter().find(|s| s.object == object)
    }
}
