//! A load phase: one kind of record sent to the destination, in
//! dependency order. Everything that makes phases behave differently is a
//! field here, read by the engine (batching, windows, ids) or by the
//! destination (its request shapes), never a comparison of names.

/// How rows of a phase are grouped into requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// Up to `size` rows per request, answered by an asynchronous job the
    /// destination polls; `requests` per batch at the least (submit, one
    /// poll, the results: the API's flow decides), for `--dry-run`.
    BulkJob {
        size: usize,
        in_flight: usize,
        requests: u64,
    },
    /// Up to `size` rows per request, answered at once.
    Collection { size: usize, in_flight: usize },
    /// One request per row.
    Single,
    /// One request per row, one batch at a time, in the phase query's
    /// order: a row may name one sent before it in the same phase (a
    /// category's parent), which the destination resolves as it goes.
    Ordered,
    /// One file upload per row (raw bytes from `attachments/`).
    FileUpload,
}

/// Where a phase stands in the upload windows: file tokens of some
/// destinations expire, so the files of a window of records go up just
/// before those records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Sent once over everything pending.
    None,
    /// Sent window by window (`load/window.sql` numbers the windows).
    Anchor,
    /// Runs in each window before the anchor phase, when both are selected.
    Feeder,
}

/// The request a phase makes, as the destination reads it: a path (with
/// `{}` for the row's `path_arg`), the body's key, and where the created
/// id is in the answer. `custom` names a destination-specific step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub path: &'static str,
    pub key: &'static str,
    pub id_field: &'static str,
    pub custom: Option<&'static str>,
}

impl Call {
    /// A plain request.
    pub const fn new(path: &'static str, key: &'static str) -> Call {
        Call {
            path,
            key,
            id_field: "id",
            custom: None,
        }
    }
}

/// How a record that a crashed run created but never recorded is found
/// again when the destination answers "already exists": list `path`
/// (`{}` ← path_arg), take the array under `key`, match on `fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub path: &'static str,
    pub key: &'static str,
    pub fields: &'static [&'static str],
    /// Compare text case-insensitively (email addresses).
    pub case_insensitive: bool,
    /// Look before creating: the destination allows duplicates, so an
    /// "already exists" answer would never come.
    pub before_create: bool,
}

/// How a phase carries a change to a record it loaded in an earlier run
/// (a cutover's delta load). The engine finds the changes (each loaded
/// record's payload hash against the one `ferry_id_map` recorded) and the
/// deletions; the destination applies them (`Destination::send_changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    /// Payload keys compared and sent; empty: the whole payload. Keys the
    /// destination cannot change after creation (times, comments) stay
    /// out, so they never count as a change.
    pub fields: &'static [&'static str],
    /// The request a changed record needs, as `--dry-run` shows it.
    pub update: &'static str,
    /// The transform table listing every record the phase loads
    /// (`source_id`): a loaded record missing from it is gone from the
    /// source (deleted, or excluded by a rule). `None`: not looked for.
    pub output: Option<&'static str>,
}

/// One load phase.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Phase name: `ferry_id_map.dest_object`, `--only`, the SQL file
    /// `load/<name>.sql` of the route.
    pub name: &'static str,
    /// Source object recorded in `ferry_id_map.object`.
    pub object: &'static str,
    pub batch: BatchKind,
    pub call: Call,
    /// Lookup path for in-doubt reconciliation by external id (ids are
    /// appended, comma-separated).
    pub lookup: Option<&'static str>,
    pub existing: Option<Existing>,
    pub window: Window,
    /// A resend replaces the recorded destination id (expiring tokens).
    pub replaces_ids: bool,
    /// A batch holds rows of one `path_arg` only (one parent per request).
    pub one_path_arg_per_batch: bool,
    /// Children sent inside each row (a ticket's comments): the phase that
    /// sends such children on their own later. The phase's SQL lists them
    /// in a sixth column (`members`, a JSON array of source ids); the
    /// engine records them in `ferry_members` before the batch is sent.
    pub members: Option<&'static str>,
    /// How changes to loaded records are carried; `None`: never updated.
    pub changes: Option<Changes>,
    /// `--dry-run` counts this phase's rows as if the earlier phases had
    /// created what they would create (their ids stand in): a fresh dry run
    /// then counts the messages of tickets not created yet. `false` where
    /// the rows of not-yet-created parents travel inside those parents
    /// (Zendesk's comments in the ticket import), so they are not counted
    /// twice.
    pub dry_run_projects_parents: bool,
    /// Why sending an in-doubt batch of this phase again creates nothing
    /// twice, where the destination cannot find its records by external id
    /// (a person matched by email first, an update that sets the same
    /// values). Empty where `existing` or `replaces_ids` already say it.
    /// Said to the user on resume, in ferry's words.
    pub resend: &'static str,
}

/// [`Phase::resend`] of an upload nothing refers to until a later phase
/// attaches it (Kustomer's and Enchant's attachments).
pub const RESEND_UPLOAD: &str = "a file uploaded again only replaces the one recorded; the first upload, attached to nothing, stays unused";

impl Phase {
    /// How a resend of this phase's in-doubt rows avoids duplicates, in
    /// one clause for the user (`reconcile` could not find them).
    pub fn resend_safety(&self) -> String {
        if !self.resend.is_empty() {
            return self.resend.to_string();
        }
        if let Some(e) = &self.existing {
            return format!(
                "each one is looked for by its {} {} (a second would be refused as already taken), so what the lost answer created is recorded, not created again",
                e.fields.join(" and "),
                if e.before_create { "before it is created" } else { "when the destination answers that it exists" }
            );
        }
        if self.replaces_ids {
            return "a file sent again replaces the one recorded; an upload that no record uses is discarded by the destination".into();
        }
        "they are sent again as they are".into()
    }
}

impl Phase {
    /// A phase with no lookups, no windows, no members and no changes:
    /// the base the destinations' phase lists start from.
    pub const fn plain(
        name: &'static str,
        object: &'static str,
        batch: BatchKind,
        call: Call,
    ) -> Phase {
        Phase {
            name,
            object,
            batch,
            call,
            lookup: None,
            existing: None,
            window: Window::None,
            replaces_ids: false,
            one_path_arg_per_batch: false,
            members: None,
            changes: None,
            dry_run_projects_parents: true,
            resend: "",
        }
    }

    /// The route file holding this phase's payload query.
    pub fn sql_file(&self) -> String {
        format!("load/{}.sql", self.name)
    }

    /// Rows per committed batch and batches in flight.
    pub fn batching(&self) -> (usize, usize) {
        match self.batch {
            BatchKind::BulkJob {
                size, in_flight, ..
            }
            | BatchKind::Collection { size, in_flight } => (size, in_flight),
            // Batches overlap, so a slow request never idles the budget.
            BatchKind::Single | BatchKind::FileUpload => (25, 6),
            BatchKind::Ordered => (25, 1),
        }
    }

    /// The hash recorded for a payload and compared at the next load: the
    /// whole payload's, or that of the `changes.fields` it has.
    pub fn change_hash(&self, payload: &str) -> String {
        super::hash(&self.change_payload(payload))
    }

    /// What a changed record's update sends: the payload restricted to
    /// `changes.fields` (in that order), or the whole payload.
    pub fn change_payload(&self, payload: &str) -> String {
        let fields = match self.changes {
            Some(c) if !c.fields.is_empty() => c.fields,
            _ => return payload.to_string(),
        };
        let v: serde_json::Value = match serde_json::from_str(payload) {
            Ok(v) => v,
            Err(_) => return payload.to_string(),
        };
        let mut out = serde_json::Map::new();
        for f in fields {
            if let Some(x) = v.get(*f) {
                out.insert((*f).to_string(), x.clone());
            }
        }
        serde_json::Value::Object(out).to_string()
    }

    /// Requests to send `rows` rows, for `--dry-run`'s estimate.
    pub fn requests_for(&self, rows: u64) -> u64 {
        match self.batch {
            BatchKind::BulkJob { size, requests, .. } => rows.div_ceil(size as u64) * requests,
            BatchKind::Collection { size, .. } => rows.div_ceil(size as u64),
            // A lookup before each create (no uniqueness at the
            // destination) is a request of its own.
            BatchKind::Single if self.existing.is_some_and(|e| e.before_create) => rows * 2,
            BatchKind::Single | BatchKind::Ordered | BatchKind::FileUpload => rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_batch_costs_its_flows_requests_and_a_partial_batch_counts_whole() {
        let bulk = Phase::plain(
            "records",
            "records",
            BatchKind::BulkJob {
                size: 100,
                in_flight: 2,
                requests: 3,
            },
            Call::new("/records/bulk", "records"),
        );
        assert_eq!(bulk.requests_for(0), 0);
        assert_eq!(bulk.requests_for(100), 3);
        assert_eq!(bulk.requests_for(250), 9);
        let single = Phase::plain("one", "one", BatchKind::Single, Call::new("/one", "one"));
        assert_eq!(single.requests_for(7), 7);
    }
}
