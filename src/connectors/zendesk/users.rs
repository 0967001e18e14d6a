//! Users and agents into an account that already has people.
//!
//! A Zendesk account is never empty: its admins and agents exist, and
//! often end users from an earlier tool. `users/create_or_update_many`
//! "updates the existing user" it matches by `email` or `external_id`
//! (official spec), so sending every source person through it would
//! demote an agent who shares a customer's email and overwrite names and
//! organizations. So before anything is written the account's users are
//! read (`GET /api/v2/users`, cursor pages of 100), each row is matched by
//! external id (which Zendesk compares case-insensitively, spec "Create Or
//! Update User") and then by email, and only unmatched rows are created —
//! with `users/create_many`, which never updates, or, where bulk user
//! imports are off (the default on Zendesk accounts, 403), one
//! `POST /api/v2/users` each. A match is recorded in `ferry_matched`; an
//! admin or agent is never sent anything, an end user only what
//! `existing_users` allows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use duckdb::params;
use reqwest::Method;
use serde_json::{json, Value};

use super::settings::{BulkUserImports, ExistingUsers};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::phase::Phase;
use crate::load::{blocking, LoadCtx, Row, RowResult, HELD_BY_DESTINATION};

/// Bulk create: new users only (an existing email or external id fails
/// the item instead of updating it).
pub const CREATE_MANY: &str = "/api/v2/users/create_many";
/// Create User: one per request, for accounts without bulk imports.
pub const CREATE_ONE: &str = "/api/v2/users";

/// What Zendesk support needs to hear to turn bulk user imports on, as
/// `ferry probe` and the first 403 say it.
pub const ASK_SUPPORT: &str = "\"Please enable bulk user imports (users/create_many) on our account: we are migrating our helpdesk history into Zendesk through the API.\"";

/// A user the account already holds.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: u64,
    pub name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub role: String,
    pub custom_role_id: Option<u64>,
    pub organization_id: Option<u64>,
    pub phone: Option<String>,
}

impl Existing {
    fn from_json(u: &Value) -> Option<Existing> {
        let text = |k: &str| u[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        Some(Existing {
            id: u["id"].as_u64()?,
            name: text("name").unwrap_or_default(),
            email: text("email").map(|e| e.to_lowercase()),
            external_id: text("external_id"),
            role: text("role").unwrap_or_else(|| "end-user".into()),
            custom_role_id: u["custom_role_id"].as_u64(),
            organization_id: u["organization_id"].as_u64(),
            phone: text("phone"),
        })
    }

    /// Admins and agents (a custom role is an agent with a role id):
    /// ferry never sends them a change.
    pub fn is_staff(&self) -> bool {
        self.role != "end-user"
    }

    /// The role as `ferry_matched` shows it.
    pub fn role_name(&self) -> String {
        match self.custom_role_id {
            Some(r) => format!("{} (custom role {r})", self.role),
            None => self.role.clone(),
        }
    }
}

/// The account's users by external id and by email.
#[derive(Debug, Default)]
pub struct Index {
    users: Vec<Existing>,
    by_email: HashMap<String, usize>,
    by_external_id: HashMap<String, usize>,
    /// Requests the read took.
    pub requests: u64,
}

impl Index {
    /// Reads every user of the account (List Users, cursor pagination:
    /// "Returns a maximum of 100 records per page").
    pub async fn read(client: &ApiClient) -> Result<Index> {
        let mut idx = Index::default();
        let mut next = Some("/api/v2/users?page%5Bsize%5D=100".to_string());
        while let Some(path) = next {
            let v: Value = client.get_json(&path).await?;
            idx.requests += 1;
            for u in v["users"].as_array().into_iter().flatten() {
                if let Some(e) = Existing::from_json(u) {
                    idx.add(e);
                }
            }
            next = super::send::next_page(&v);
        }
        Ok(idx)
    }

    fn add(&mut self, e: Existing) {
        let i = self.users.len();
        if let Some(x) = &e.external_id {
            self.by_external_id.entry(x.to_lowercase()).or_insert(i);
        }
        if let Some(m) = &e.email {
            self.by_email.entry(m.clone()).or_insert(i);
        }
        self.users.push(e);
    }

    /// Users in the account.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Admins and agents in the account.
    pub fn staff(&self) -> usize {
        self.users.iter().filter(|u| u.is_staff()).count()
    }

    /// The existing user a payload names, and by what: external id first,
    /// then email (both as Zendesk matches them: case-insensitively).
    pub fn find(&self, want: &Value) -> Option<(&Existing, &'static str)> {
        let ext = want["external_id"].as_str().map(str::to_lowercase);
        if let Some(i) = ext.and_then(|x| self.by_external_id.get(&x)) {
            return Some((&self.users[*i], "external_id"));
        }
        let email = want["email"].as_str().map(str::to_lowercase);
        email
            .and_then(|e| self.by_email.get(&e))
            .map(|i| (&self.users[*i], "email"))
    }
}

/// What differs between a source person and the existing user it
/// matched, field by field (`name: zendesk "A", source "B"`).
pub fn differences(want: &Value, u: &Existing) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |field: &str, have: Option<String>, wanted: Option<String>| {
        if wanted.is_some() && have != wanted {
            out.push(format!(
                "{field}: zendesk {}, source {}",
                have.map_or("none".to_string(), |h| format!("{h:?}")),
                wanted.map_or("none".to_string(), |w| format!("{w:?}"))
            ));
        }
    };
    let text = |k: &str| want[k].as_str().map(str::to_string);
    cmp("name", Some(u.name.clone()), text("name"));
    cmp("role", Some(u.role_name()), text("role"));
    cmp(
        "organization",
        u.organization_id.map(|o| o.to_string()),
        want["organization_id"].as_u64().map(|o| o.to_string()),
    );
    cmp("phone", u.phone.clone(), text("phone"));
    cmp(
        "email",
        u.email.clone(),
        text("email").map(|e| e.to_lowercase()),
    );
    cmp("external_id", u.external_id.clone(), text("external_id"));
    out
}

/// One match, as `ferry_matched` records it.
struct Match {
    source_id: String,
    dest_id: String,
    by: &'static str,
    role: String,
    action: &'static str,
    differs: String,
}

/// The users and agents phases of a Zendesk load.
#[derive(Default)]
pub struct Users {
    /// Bulk user imports answered 403 in this process (`auto`).
    bulk_off: AtomicBool,
    /// The account's users as each phase first saw them.
    indexes: tokio::sync::Mutex<HashMap<&'static str, Arc<Index>>>,
}

impl Users {
    /// The account's users, read once per phase and process: the agents
    /// phase sees the end users the users phase created.
    async fn index(&self, client: &ApiClient, phase: &'static str) -> Result<Arc<Index>> {
        let mut map = self.indexes.lock().await;
        if let Some(i) = map.get(phase) {
            return Ok(i.clone());
        }
        let idx = Arc::new(Index::read(client).await?);
        tracing::info!(
            phase,
            users = idx.len(),
            staff = idx.staff(),
            "read the account's users before writing any"
        );
        map.insert(phase, idx.clone());
        Ok(idx)
    }

    /// Sends one batch of the users or agents phase.
    pub async fn batch(
        &self,
        cx: &LoadCtx,
        jobs: &super::jobs::JobBoard,
        phase: &'static Phase,
        rows: &[Row],
        policy: ExistingUsers,
        bulk: BulkUserImports,
    ) -> Result<Vec<RowResult>> {
        let index = self.index(&cx.client, phase.name).await?;
        let mut results: Vec<Option<RowResult>> = vec![None; rows.len()];
        let mut fresh = Vec::new();
        let mut matches = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let want: Value = serde_json::from_str(&row.payload).unwrap_or_default();
            let Some((u, by)) = index.find(&want) else {
                fresh.push(i);
                continue;
            };
            let (action, res) = decide(&cx.client, phase, u, &want, policy).await?;
            if let Some(action) = action {
                matches.push(Match {
                    source_id: row.source_id.clone(),
                    dest_id: u.id.to_string(),
                    by,
                    role: u.role_name(),
                    action,
                    differs: differences(&want, u).join("; "),
                });
            }
            results[i] = Some(res);
        }
        record(cx, phase, matches).await?;
        let new_rows: Vec<Row> = fresh.iter().map(|i| rows[*i].clone()).collect();
        let created = self.create(&cx.client, jobs, &new_rows, bulk).await?;
        for (i, r) in fresh.into_iter().zip(created) {
            results[i] = Some(r);
        }
        Ok(results.into_iter().map(|r| r.unwrap()).collect())
    }

    /// Creates users that match nobody: in bulk where the account allows
    /// it, else one request each.
    async fn create(
        &self,
        client: &ApiClient,
        jobs: &super::jobs::JobBoard,
        rows: &[Row],
        bulk: BulkUserImports,
    ) -> Result<Vec<RowResult>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let try_bulk = match bulk {
            BulkUserImports::On => true,
            BulkUserImports::Off => false,
            BulkUserImports::Auto => !self.bulk_off.load(Ordering::Relaxed),
        };
        if try_bulk {
            match super::send::bulk(client, jobs, CREATE_MANY, "users", rows).await {
                Ok(r) => return Ok(r),
                Err(FerryError::Unauthorized { status: 403, .. })
                    if bulk == BulkUserImports::Auto =>
                {
                    if !self.bulk_off.swap(true, Ordering::Relaxed) {
                        tracing::warn!("bulk user imports are off on this account");
                        eprintln!(
                            "warning: Zendesk answered 403 to {CREATE_MANY}: bulk user imports are not enabled on this account \
                             (Zendesk's default). Users and agents now go one request each ({CREATE_ONE}); for a large \
                             migration ask Zendesk support: {ASK_SUPPORT} Then set bulk_user_imports = \"on\"."
                        );
                    }
                }
                Err(FerryError::Unauthorized { status: 403, .. }) => {
                    return Err(FerryError::Other(format!(
                        "Zendesk answered 403 to {CREATE_MANY} although bulk_user_imports = \"on\": bulk user imports are \
                         not enabled on this account (or the token's user may not manage users). Set \
                         bulk_user_imports = \"auto\" or \"off\" in ferry.toml, or ask Zendesk support: {ASK_SUPPORT}"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        // All at once (the limiter paces them), results in row order.
        futures::future::try_join_all(rows.iter().map(|r| create_one(client, r))).await
    }
}

/// `POST /api/v2/users` (Create User: 201 with the user).
async fn create_one(client: &ApiClient, row: &Row) -> Result<RowResult> {
    let user = super::send::without_nulls(serde_json::from_str(&row.payload).unwrap_or_default());
    match client
        .send(
            Method::POST,
            CREATE_ONE,
            Some(Payload::Json(&json!({ "user": user }))),
            Lane::Standard,
        )
        .await
    {
        Ok(r) => Ok(serde_json::from_slice::<Value>(&r.body)
            .ok()
            .and_then(|v| v["user"]["id"].as_u64())
            .map(|id| Ok(id.to_string()))
            .unwrap_or_else(|| Err((None, "the response carried no user id".into())))),
        Err(FerryError::Http { status, body, .. }) => Ok(Err((Some(status), body))),
        Err(e) => Err(e),
    }
}

/// What a match becomes: the action recorded (none for a failed update,
/// which is retried) and the row's result.
async fn decide(
    client: &ApiClient,
    phase: &Phase,
    u: &Existing,
    want: &Value,
    policy: ExistingUsers,
) -> Result<(Option<&'static str>, RowResult)> {
    let id = u.id.to_string();
    if u.is_staff() {
        return Ok((Some("kept"), Ok(id)));
    }
    let who = want["email"].as_str().unwrap_or("this person");
    if phase.name == "agents" {
        // Making an end user an agent takes a seat and grants access:
        // a decision for an admin, never for a migration.
        return Ok((
            Some("held"),
            Err((
                None,
                format!(
                    "{HELD_BY_DESTINATION}{who} is an end user in Zendesk (user {id}); ferry never changes a role: \
                     make them an agent in Zendesk's Admin Center, then run `ferry load` again"
                ),
            )),
        ));
    }
    match policy {
        ExistingUsers::Link => Ok((Some("linked"), Ok(id))),
        ExistingUsers::Hold => Ok((
            Some("held"),
            Err((
                None,
                format!(
                    "{HELD_BY_DESTINATION}{who} matches the existing Zendesk end user {id} (existing_users = \"hold\"): \
                     set existing_users = \"link\" or \"update\", or merge them in Zendesk, then run `ferry load` again"
                ),
            )),
        )),
        ExistingUsers::Update => {
            let mut fields = super::send::without_nulls(want.clone());
            if let Some(o) = fields.as_object_mut() {
                // Never a role; the primary email stays the account's.
                for k in ["role", "email", "verified", "skip_verify_email"] {
                    o.remove(k);
                }
            }
            match client
                .send(
                    Method::PUT,
                    &format!("/api/v2/users/{id}"),
                    Some(Payload::Json(&json!({ "user": fields }))),
                    Lane::Standard,
                )
                .await
            {
                Ok(_) => Ok((Some("updated"), Ok(id))),
                Err(FerryError::Http { status, body, .. }) => Ok((None, Err((Some(status), body)))),
                Err(e) => Err(e),
            }
        }
    }
}

/// Records matches in `ferry_matched` (a rerun replaces its row).
async fn record(cx: &LoadCtx, phase: &Phase, matches: Vec<Match>) -> Result<()> {
    if matches.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = matches
        .into_iter()
        .map(|m| {
            json!({"s": m.source_id, "d": m.dest_id, "b": m.by, "r": m.role, "a": m.action,
                   "x": if m.differs.is_empty() { Value::Null } else { json!(m.differs) }})
        })
        .collect();
    let rows = serde_json::to_string(&rows).unwrap();
    let (db, dest, object) = (cx.db.clone(), cx.dest.kind(), phase.name);
    blocking(move || {
        db.lock().unwrap().execute(
            "INSERT OR REPLACE INTO ferry_matched
             SELECT ?, ?, j.s, j.d, j.b, j.r, j.a, j.x, now()
             FROM (SELECT unnest(from_json(?::VARCHAR,
                 '[{\"s\":\"VARCHAR\",\"d\":\"VARCHAR\",\"b\":\"VARCHAR\",\"r\":\"VARCHAR\",\"a\":\"VARCHAR\",\"x\":\"VARCHAR\"}]')) AS j)",
            params![dest, object, rows],
        )?;
        Ok(())
    })
    .await
}

/// What a load of these rows would find in the account, for
/// `ferry load --dry-run`: one line per finding.
pub fn plan(
    phase: &Phase,
    index: &Index,
    rows: &[Row],
    policy: ExistingUsers,
    bulk: BulkUserImports,
    per_minute: u32,
) -> Vec<String> {
    let (mut staff, mut ends, mut differ, mut by_ext) = (0u64, 0u64, 0u64, 0u64);
    let mut examples = Vec::new();
    for row in rows {
        let want: Value = serde_json::from_str(&row.payload).unwrap_or_default();
        let Some((u, by)) = index.find(&want) else {
            continue;
        };
        if by == "external_id" {
            by_ext += 1;
        }
        if u.is_staff() {
            staff += 1;
        } else {
            ends += 1;
        }
        let d = differences(&want, u);
        if !d.is_empty() {
            differ += 1;
            if examples.len() < 5 {
                examples.push(format!(
                    "{} → user {}: {}",
                    row.source_id,
                    u.id,
                    d.join("; ")
                ));
            }
        }
    }
    let matched = staff + ends;
    let new = rows.len() as u64 - matched;
    let mut out = vec![format!(
        "{}: the account has {} users ({} admins/agents; read in {} requests); {new} would be created, {matched} match an existing user ({by_ext} by external id, {} by email)",
        phase.name,
        index.len(),
        index.staff(),
        index.requests,
        matched - by_ext
    )];
    if matched > 0 {
        let ends_go = match (phase.name, policy) {
            ("agents", _) => "held: ferry never makes an end user an agent",
            (_, ExistingUsers::Link) => "linked, unchanged (existing_users = \"link\")",
            (_, ExistingUsers::Update) => "updated, never their role (existing_users = \"update\")",
            (_, ExistingUsers::Hold) => "held (existing_users = \"hold\")",
        };
        out.push(format!(
            "{}: {staff} admins/agents linked and never changed; {ends} end users {ends_go}; {differ} differ (name, role, organization…), first: {}",
            phase.name,
            if examples.is_empty() { "none".into() } else { examples.join(" | ") }
        ));
    }
    if new > 0 && bulk != BulkUserImports::On {
        let one_by_one = new as f64 / per_minute.max(1) as f64;
        out.push(format!(
            "{}: bulk user imports are {} (Zendesk turns them off by default): without them the {new} new users take {new} requests (≈{one_by_one:.1} minutes at {per_minute}/min) instead of {}; `ferry probe` says what to ask Zendesk support",
            phase.name,
            if bulk == BulkUserImports::Off { "off (bulk_user_imports)" } else { "unknown until the first create (bulk_user_imports = \"auto\")" },
            new.div_ceil(100) * 2
        ));
    }
    out
}
