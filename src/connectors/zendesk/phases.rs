//! The load phases, in dependency order. Each phase is a SQL query over an
//! `out_zendesk_*` table that resolves references through `ferry_id_map`
//! and yields, per record not yet loaded: `source_id`, `external_id`,
//! `hold` (why it cannot be sent yet, or NULL), `payload` (the JSON body
//! item) and `path_arg` (a user id or object key the path needs).
//! Payloads are built in SQL so a data engineer can read and audit them.

/// How a phase talks to the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST path {key: [≤100 items]}` → job_status with per-item results.
    Bulk {
        path: &'static str,
        key: &'static str,
    },
    /// One `POST path {key: item}` per record; the id is at `/key/id_field`.
    Single {
        path: &'static str,
        key: &'static str,
        id_field: &'static str,
    },
    /// Raw bytes to `POST /api/v2/uploads?filename=…`; the id is the token.
    Upload,
    /// A custom object and then each of its fields.
    CustomObject,
    /// `POST /api/v2/custom_objects/{key}/jobs` create jobs, grouped by key.
    CustomRecords,
}

/// One load phase.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub name: &'static str,
    /// Source object recorded in `ferry_id_map.object`.
    pub object: &'static str,
    pub mode: Mode,
    /// Lookup path for in-doubt reconciliation by external id.
    pub lookup: Option<&'static str>,
    pub sql: &'static str,
}

/// Id map rows of one destination object, as a relation named `m`.
macro_rules! idm {
    ($obj:literal) => {
        concat!("(SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = '", $obj, "')")
    };
}

/// Not failed (failed rows wait for `--retry`), and in the pilot set when
/// `--sample` is on.
macro_rules! wanted {
    ($obj:literal, $col:literal) => {
        concat!(
            $col,
            " NOT IN (SELECT source_id FROM ferry_load_errors WHERE object = '",
            $obj,
            "' AND http_status IS NOT NULL AND NOT getvariable('ferry_retry')) AND ",
            "(NOT getvariable('ferry_sample') OR ",
            $col,
            " IN (SELECT source_id FROM load_sample WHERE phase = '",
            $obj,
            "'))"
        )
    };
}

/// Not yet loaded, and wanted.
macro_rules! pending {
    ($obj:literal, $col:literal) => {
        concat!(
            $col, " NOT IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = '", $obj, "') AND ",
            wanted!($obj, $col)
        )
    };
}

/// Upload tokens still fresh enough to use: issued after
/// `ferry_token_cutoff` (now minus `upload_token_minutes`; Zendesk's
/// expire after about an hour).
macro_rules! fresh_uploads {
    () => {
        "(SELECT source_id, dest_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'uploads' AND loaded_at > getvariable('ferry_token_cutoff'))"
    };
}

/// Files that can never be uploaded, when `[destination] missing_files =
/// "skip"` lets a ticket go without them (`ferry_skip_missing_files`): no
/// bytes were downloaded (or the attachment record was never extracted),
/// or Zendesk refused the upload for good (a 4xx such as 413 too large;
/// not 408/429, which are worth retrying). Used as a predicate on `x.aid`.
macro_rules! unsendable_file {
    () => {
        concat!(
            "(coalesce(getvariable('ferry_skip_missing_files'), false) AND ",
            "(x.aid NOT IN (SELECT attachment_id FROM stg_attachments WHERE sha256 IS NOT NULL) ",
            "OR x.aid IN (SELECT source_id FROM ferry_load_errors WHERE object = 'uploads' ",
            "AND http_status BETWEEN 400 AND 499 AND http_status NOT IN (408, 429))))"
        )
    };
}

/// In the current upload window (`ferry_window`), or no window is set.
macro_rules! in_window {
    ($col:literal) => {
        concat!(
            "(getvariable('ferry_window') IS NULL OR ",
            $col,
            " IN (SELECT source_id FROM load_window WHERE win = getvariable('ferry_window')))"
        )
    };
}

/// The order tickets are sent in: `--order open-first` puts live tickets
/// first, then the history. Windows follow the same order.
macro_rules! ticket_order {
    () => {
        "CASE WHEN getvariable('ferry_open_first') AND t.status NOT IN ('new', 'open', 'pending', 'hold') THEN 1 ELSE 0 END, t.source_id"
    };
}

/// A field-definition phase: one `POST {path}` per custom attribute key of
/// `table`, created before the records that carry values for it.
macro_rules! field_phase {
    ($name:literal, $table:literal, $item:literal, $json:literal) => {
        Phase {
            name: $name,
            object: "fields",
            mode: Mode::Single {
                path: concat!("/api/v2/", $name),
                key: $item,
                id_field: "id",
            },
            lookup: None,
            sql: concat!(
                "SELECT f.key AS source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold, ",
                "to_json(",
                $json,
                ")::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
                "FROM ",
                $table,
                " f WHERE ",
                pending!($name, "f.key"),
                " ORDER BY f.key"
            ),
        }
    };
}

/// Every phase in load order.
pub const PHASES: &[Phase] = &[
    field_phase!("organization_fields", "out_zendesk_organization_fields", "organization_field", "{key: f.key, type: f.type, title: f.kustomer_key}"),
    field_phase!("user_fields", "out_zendesk_user_fields", "user_field", "{key: f.key, type: f.type, title: f.kustomer_key}"),
    Phase {
        name: "organizations",
        object: "companies",
        mode: Mode::Bulk { path: "/api/v2/organizations/create_many", key: "organizations" },
        lookup: Some("/api/v2/organizations/show_many?external_ids="),
        sql: concat!(
            "SELECT o.source_id, o.external_id, NULL::VARCHAR AS hold, ",
            "to_json({name: o.name, external_id: o.external_id, domain_names: o.domain_names, organization_fields: o.organization_fields})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_organizations o WHERE ", pending!("organizations", "o.source_id"), " ORDER BY o.source_id"
        ),
    },
    Phase {
        name: "users",
        object: "customers",
        mode: Mode::Bulk { path: "/api/v2/users/create_or_update_many", key: "users" },
        lookup: Some("/api/v2/users/show_many?external_ids="),
        sql: concat!(
            "SELECT u.source_id, u.external_id, ",
            "CASE WHEN u.organization_source_id IS NOT NULL AND o.dest_id IS NULL THEN 'organization ' || u.organization_source_id || ' is not loaded' END AS hold, ",
            "to_json({name: u.name, email: u.email, phone: u.phone, role: 'end-user', external_id: u.external_id, ",
            "organization_id: TRY_CAST(o.dest_id AS UBIGINT), user_fields: u.user_fields, tags: u.tags, locale: u.locale, ",
            // No verification or welcome email goes out for imported users.
            "verified: true, skip_verify_email: true})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_users u LEFT JOIN ", idm!("organizations"), " o ON o.source_id = u.organization_source_id ",
            "WHERE ", pending!("users", "u.source_id"), " ORDER BY u.source_id"
        ),
    },
    Phase {
        name: "identities",
        object: "customers",
        mode: Mode::Single { path: "/api/v2/users/{}/identities", key: "identity", id_field: "id" },
        lookup: None,
        sql: concat!(
            "SELECT i.source_id, NULL::VARCHAR AS external_id, ",
            "CASE WHEN u.dest_id IS NULL THEN 'user ' || i.user_source_id || ' is not loaded' END AS hold, ",
            "to_json({type: i.type, value: i.value, verified: true})::VARCHAR AS payload, u.dest_id AS path_arg ",
            "FROM out_zendesk_user_identities i LEFT JOIN ", idm!("users"), " u ON u.source_id = i.user_source_id ",
            "WHERE ", pending!("identities", "i.source_id"), " ORDER BY i.source_id"
        ),
    },
    Phase {
        name: "agents",
        object: "users",
        mode: Mode::Bulk { path: "/api/v2/users/create_or_update_many", key: "users" },
        lookup: None,
        sql: concat!(
            "SELECT a.source_id, NULL::VARCHAR AS external_id, CASE WHEN a.email IS NULL THEN 'agent has no email to match' END AS hold, ",
            "to_json({name: a.name, email: a.email, role: 'agent', verified: true, skip_verify_email: true})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_agents a WHERE ", pending!("agents", "a.source_id"), " ORDER BY a.source_id"
        ),
    },
    Phase {
        name: "groups",
        object: "teams",
        mode: Mode::Single { path: "/api/v2/groups", key: "group", id_field: "id" },
        lookup: None,
        sql: concat!(
            "SELECT g.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold, to_json({name: g.name})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_groups g WHERE ", pending!("groups", "g.source_id"), " ORDER BY g.source_id"
        ),
    },
    Phase {
        name: "group_memberships",
        object: "teams",
        mode: Mode::Bulk { path: "/api/v2/group_memberships/create_many", key: "group_memberships" },
        lookup: None,
        sql: concat!(
            "SELECT m.source_id, NULL::VARCHAR AS external_id, ",
            "CASE WHEN g.dest_id IS NULL THEN 'group ' || m.group_source_id || ' is not loaded' ",
            "WHEN a.dest_id IS NULL THEN 'agent ' || m.agent_source_id || ' is not loaded' END AS hold, ",
            "to_json({user_id: TRY_CAST(a.dest_id AS UBIGINT), group_id: TRY_CAST(g.dest_id AS UBIGINT)})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_group_memberships m LEFT JOIN ", idm!("groups"), " g ON g.source_id = m.group_source_id ",
            "LEFT JOIN ", idm!("agents"), " a ON a.source_id = m.agent_source_id ",
            "WHERE ", pending!("group_memberships", "m.source_id"), " ORDER BY m.source_id"
        ),
    },
    // Ticket fields have no key in Zendesk: tickets reference them by id.
    field_phase!("ticket_fields", "out_zendesk_ticket_fields", "ticket_field", "{type: f.type, title: f.kustomer_key}"),
    Phase {
        name: "uploads",
        object: "attachments",
        mode: Mode::Upload,
        lookup: None,
        // Attachments of tickets not loaded yet (of the current window when
        // windowed) whose bytes were downloaded (sha256 known) and that have
        // no fresh token: a token past `upload_token_minutes` is uploaded again.
        sql: concat!(
            "SELECT a.attachment_id AS source_id, NULL::VARCHAR AS external_id, ",
            "CASE WHEN a.sha256 IS NULL THEN 'attachment bytes were not downloaded' END AS hold, ",
            "to_json({file_name: regexp_replace(coalesce(a.file_name, 'attachment'), '[/\\\\]', '_', 'g'), content_type: a.content_type, sha256: a.sha256})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM stg_attachments a WHERE a.attachment_id IN (SELECT unnest(c.attachment_ids) FROM out_zendesk_comments c ",
            "  WHERE c.ticket_source_id NOT IN (SELECT source_id FROM ferry_id_map WHERE dest = 'zendesk' AND dest_object = 'tickets') ",
            "  AND ", in_window!("c.ticket_source_id"), ") ",
            "AND a.attachment_id NOT IN (SELECT source_id FROM ", fresh_uploads!(), ") ",
            "AND ", wanted!("uploads", "a.attachment_id"), " ORDER BY a.attachment_id"
        ),
    },
    Phase {
        name: "tickets",
        object: "conversations",
        mode: Mode::Bulk { path: "/api/v2/imports/tickets/create_many", key: "tickets" },
        lookup: Some("/api/v2/tickets?external_id="),
        sql: concat!(
            "WITH c AS (SELECT c.ticket_source_id, ",
            "bool_or(c.author_kind = 'customer' AND c.author_source_id IS NOT NULL AND cu.dest_id IS NULL) AS missing_author, ",
            "bool_or(len(c.attachment_ids) > coalesce(up.n, 0) + coalesce(up.skipped, 0)) AS missing_upload, ",
            "list({author_id: TRY_CAST(CASE WHEN c.author_kind = 'customer' THEN cu.dest_id ELSE ag.dest_id END AS UBIGINT), ",
            "body: c.body, html_body: c.html_body, public: c.public, ",
            "created_at: strftime(CAST(c.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'), uploads: coalesce(up.tokens, [])} ORDER BY c.position) AS comments ",
            "FROM out_zendesk_comments c ",
            "LEFT JOIN ", idm!("users"), " cu ON cu.source_id = c.author_source_id ",
            "LEFT JOIN ", idm!("agents"), " ag ON ag.source_id = c.author_source_id ",
            "LEFT JOIN (SELECT c2.source_id, count(u.dest_id) AS n, list(u.dest_id) FILTER (WHERE u.dest_id IS NOT NULL) AS tokens, ",
            "  count(*) FILTER (WHERE u.dest_id IS NULL AND ", unsendable_file!(), ") AS skipped ",
            "  FROM out_zendesk_comments c2, unnest(c2.attachment_ids) AS x(aid) LEFT JOIN ", fresh_uploads!(), " u ON u.source_id = x.aid ",
            "  WHERE ", in_window!("c2.ticket_source_id"), " GROUP BY c2.source_id) up ON up.source_id = c.source_id ",
            "WHERE ", in_window!("c.ticket_source_id"), " GROUP BY c.ticket_source_id) ",
            "SELECT t.source_id, t.external_id, ",
            "CASE WHEN t.requester_source_id IS NULL THEN 'ticket has no requester' ",
            "WHEN r.dest_id IS NULL THEN 'requester ' || t.requester_source_id || ' is not loaded' ",
            "WHEN c.missing_author THEN 'a comment author (customer) is not loaded' ",
            "WHEN c.missing_upload THEN 'an attachment upload is missing' END AS hold, ",
            "to_json({external_id: t.external_id, requester_id: TRY_CAST(r.dest_id AS UBIGINT), submitter_id: TRY_CAST(r.dest_id AS UBIGINT), ",
            "assignee_id: TRY_CAST(a.dest_id AS UBIGINT), group_id: TRY_CAST(g.dest_id AS UBIGINT), organization_id: TRY_CAST(o.dest_id AS UBIGINT), ",
            "subject: t.subject, status: t.status, priority: t.priority, tags: t.tags, ",
            "created_at: strftime(CAST(t.created_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'), ",
            "updated_at: strftime(CAST(t.updated_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'), ",
            "solved_at: strftime(CAST(t.solved_at AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ'), comments: c.comments, ",
            // Custom attributes go to the ticket fields created for them, by id.
            "custom_fields: coalesce((SELECT list({id: TRY_CAST(f.dest_id AS UBIGINT), value: json_extract(t.custom_fields, '$.\"' || f.source_id || '\"')} ORDER BY f.source_id) ",
            "  FROM ", idm!("ticket_fields"), " f WHERE list_contains(json_keys(coalesce(t.custom_fields, '{}'::JSON)), f.source_id)), [])})::VARCHAR AS payload, NULL::VARCHAR AS path_arg ",
            "FROM out_zendesk_tickets t JOIN c ON c.ticket_source_id = t.source_id ",
            "LEFT JOIN ", idm!("users"), " r ON r.source_id = t.requester_source_id ",
            "LEFT JOIN ", idm!("agents"), " a ON a.source_id = t.assignee_source_id ",
            "LEFT JOIN ", idm!("groups"), " g ON g.source_id = t.group_source_id ",
            "LEFT JOIN ", idm!("organizations"), " o ON o.source_id = t.organization_source_id ",
            "WHERE ", pending!("tickets", "t.source_id"), " AND ", in_window!("t.source_id"),
            " ORDER BY ", ticket_order!()
        ),
    },
    Phase {
        name: "custom_objects",
        object: "klasses",
        mode: Mode::CustomObject,
        lookup: None,
        sql: concat!(
            "SELECT o.source_id, NULL::VARCHAR AS external_id, NULL::VARCHAR AS hold, ",
            "to_json({key: o.key, title: o.title, title_pluralized: o.title || 's', ",
            "fields: coalesce((SELECT list({key: f.key, type: f.type, title: f.title} ORDER BY f.position) FROM out_zendesk_custom_object_fields f WHERE f.object_key = o.key), [])})::VARCHAR AS payload, ",
            "NULL::VARCHAR AS path_arg FROM out_zendesk_custom_objects o WHERE ", pending!("custom_objects", "o.source_id"), " ORDER BY o.source_id"
        ),
    },
    Phase {
        name: "custom_object_records",
        object: "kobjects",
        mode: Mode::CustomRecords,
        lookup: None,
        sql: concat!(
            "SELECT r.source_id, r.external_id, ",
            "CASE WHEN co.dest_id IS NULL THEN 'custom object ' || r.object_key || ' is not loaded' END AS hold, ",
            "to_json({name: r.name, external_id: r.external_id, custom_object_fields: r.fields})::VARCHAR AS payload, r.object_key AS path_arg ",
            "FROM out_zendesk_custom_object_records r ",
            "LEFT JOIN (SELECT m.dest_id FROM ferry_id_map m WHERE dest = 'zendesk' AND dest_object = 'custom_objects') co ON co.dest_id = r.object_key ",
            "WHERE ", pending!("custom_object_records", "r.source_id"), " ORDER BY r.object_key, r.source_id"
        ),
    },
];

/// Tickets per window at most: a window's tickets query aggregates only
/// its own comments, so the loader's memory does not grow with the history.
pub const WINDOW_TICKETS: u64 = 2_000;

/// Numbers the pending tickets' upload windows into `load_window`: in send
/// order, a new window starts once `per_window` attachments are behind it,
/// so each window's tokens are used minutes after they were issued, or
/// after [`WINDOW_TICKETS`] tickets. Both counts only grow along the send
/// order, so (upload part, ticket part) numbers the windows in that order.
pub fn window_sql(per_window: u64) -> String {
    format!(
        concat!(
            "CREATE OR REPLACE TABLE load_window AS ",
            "WITH n AS (SELECT ticket_source_id, sum(len(attachment_ids)) AS n FROM out_zendesk_comments GROUP BY ALL), ",
            "o AS (SELECT t.source_id, ",
            "sum(coalesce(n.n, 0)) OVER (ORDER BY ", ticket_order!(), " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before, ",
            "row_number() OVER (ORDER BY ", ticket_order!(), ") - 1 AS pos ",
            "FROM out_zendesk_tickets t LEFT JOIN n ON n.ticket_source_id = t.source_id WHERE ", pending!("tickets", "t.source_id"), ") ",
            "SELECT source_id, ((coalesce(before, 0) // {}) * 1000000000 + pos // {})::BIGINT AS win FROM o"
        ),
        per_window.max(1),
        WINDOW_TICKETS
    )
}

/// Looks a phase up by name.
pub fn find(name: &str) -> Option<&'static Phase> {
    PHASES.iter().find(|p| p.name == name)
}
