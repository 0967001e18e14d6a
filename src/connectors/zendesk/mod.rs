//! Zendesk Support as a destination: settings, phases, request shapes,
//! pre-flight, rollback and verify's read-back.

pub mod delta;
pub mod jobs;
pub mod phases;
pub mod preflight;
pub mod probe;
pub mod readback;
pub mod rollback;
pub mod send;
pub mod settings;
pub mod users;
pub mod verify;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use duckdb::Connection;
use serde_json::Value;

use crate::config::{read_secret, section};
use crate::connector::{BoxFut, Destination, LoadSettings, RollbackScope};
use crate::error::Result;
use crate::http::{ApiClient, ClientSettings};
use crate::load::phase::Phase;
use crate::load::{LoadCtx, LoadSql, Row, RowResult};
use crate::routes::DestinationKind;
use crate::verify::report::{DestinationCheck, SampleCheck};

pub use settings::Settings;

/// `ferry_id_map.dest` and `[destination] kind`.
pub const KIND: &str = "zendesk";

/// The registry entry.
pub const DESTINATION: DestinationKind = DestinationKind {
    kind: KIND,
    open,
    template: settings::template,
    secrets: &["ZENDESK_EMAIL", "ZENDESK_API_TOKEN"],
    phases: phases::PHASES,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Destination>, Vec<String>> {
    let settings: Settings = section("destination", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(Zendesk {
        jobs: jobs::JobBoard::new(settings.jobs_in_flight()),
        settings,
        users: users::Users::default(),
        admin_id: std::sync::OnceLock::new(),
        attachment_limit: std::sync::OnceLock::new(),
    }))
}

/// The Zendesk destination of a workspace.
pub struct Zendesk {
    pub settings: Settings,
    /// The users and agents phases' view of the account.
    users: users::Users,
    /// The token's user (`users/me`), read at pre-flight: the author of
    /// the notes ferry writes itself (the link between split tickets).
    admin_id: std::sync::OnceLock<u64>,
    /// The account's attachment size limit in bytes, as pre-flight read
    /// it (Account Settings API, `settings.limits.attachment_size`).
    attachment_limit: std::sync::OnceLock<u64>,
    /// The bulk jobs in flight, polled together (`jobs`).
    jobs: jobs::JobBoard,
}

impl Destination for Zendesk {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn phases(&self) -> &'static [Phase] {
        match self.settings.bulk_user_imports {
            settings::BulkUserImports::Off => phases::PHASES_ONE_BY_ONE,
            _ => phases::PHASES,
        }
    }

    /// API token auth: `{email}/token:{token}` as HTTP Basic. Secrets live
    /// only in the header.
    fn client(&self) -> Result<ApiClient> {
        let s = &self.settings;
        let email = read_secret(&s.email_env, "Zendesk agent email")?;
        let token = read_secret(&s.api_token_env, "Zendesk API token")?;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{email}/token:{token}"));
        ApiClient::new(ClientSettings {
            api: "Zendesk".into(),
            base_url: s.base_url.trim_end_matches('/').to_string(),
            url_key: "destination.base_url".into(),
            secret_var: s.api_token_env.clone(),
            auth_header: format!("Basic {basic}"),
            per_minute: s.rate_limit_per_minute,
            search_per_minute: s.rate_limit_per_minute,
            timeout: Duration::from_secs(120),
            max_attempts: 8,
            insecure: s.insecure,
            credit_window_burst: None,
            oauth: None,
            retry_codes: &[],
            quota_codes: &[],
            headers: Vec::new(),
            refusals_429: &["TooManyJobs"],
            limit_window_secs: 60,
        })
    }

    /// Bulk phases keep as many jobs in flight as the account allows less
    /// the headroom left to other integrations (`job_limit`,
    /// `job_headroom`); the job board lowers it at a TooManyJobs.
    fn in_flight(&self, phase: &Phase) -> usize {
        match phase.batch {
            crate::load::phase::BatchKind::BulkJob { .. } => self.jobs.slots(),
            _ => phase.batching().1,
        }
    }

    /// A bulk phase's jobs run `job_seconds` each, `in_flight` at a time.
    fn queue_minutes(&self, phase: &Phase, rows: u64) -> f64 {
        match phase.batch {
            crate::load::phase::BatchKind::BulkJob { size, .. } => {
                let jobs = rows.div_ceil(size as u64);
                let rounds = jobs.div_ceil(self.jobs.slots() as u64);
                rounds as f64 * self.settings.job_seconds / 60.0
            }
            _ => 0.0,
        }
    }

    fn load_settings(&self) -> LoadSettings {
        LoadSettings {
            per_minute: self.settings.rate_limit_per_minute,
            memory_limit: self.settings.memory_limit.clone(),
            variables: vec![
                (
                    "ferry_skip_missing_files".into(),
                    self.settings.skips_missing_files().to_string(),
                ),
                // A file over it is never uploaded: its comment names it
                // instead (50 MB, the documented default, until read).
                (
                    "zendesk_attachment_limit".into(),
                    self.attachment_limit
                        .get()
                        .copied()
                        .unwrap_or(preflight::DEFAULT_ATTACHMENT_LIMIT)
                        .to_string(),
                ),
                (
                    "ferry_zendesk_admin_id".into(),
                    self.admin_id
                        .get()
                        .map_or("NULL::UBIGINT".to_string(), |id| id.to_string()),
                ),
            ],
            upload_token_secs: Some(self.settings.upload_token_minutes * 60.0),
        }
    }

    /// Zendesk's content rules, so `--dry-run` finds what would fail.
    fn validate(
        &self,
        phase: &Phase,
        v: &Value,
        _path_arg: Option<&str>,
    ) -> std::result::Result<(), String> {
        if phase.call.custom == Some(phases::USERS) {
            if let Some(e) = v["email"].as_str() {
                let ok = e
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                    && !e.chars().any(char::is_whitespace);
                if !ok {
                    return Err(format!("email {e:?} is not a valid address"));
                }
            }
        }
        if phase.call.path == phases::TICKET_IMPORT {
            let comments = v["comments"].as_array().map(|c| c.len()).unwrap_or(0);
            if comments == 0 {
                return Err("ticket has no comments".into());
            }
            if comments > 5000 {
                return Err(format!("{comments} comments, over Zendesk's 5,000"));
            }
            for c in v["comments"].as_array().into_iter().flatten() {
                let body = c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("");
                // A byte limit (HTML included), like the API's.
                if body.len() > 65_535 {
                    return Err(format!(
                        "a comment is {} bytes, over Zendesk's 65,535",
                        body.len()
                    ));
                }
            }
        }
        Ok(())
    }

    fn send<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [Row],
    ) -> BoxFut<'a, Result<Vec<RowResult>>> {
        if phase.call.custom == Some(phases::USERS) {
            return Box::pin(self.users.batch(
                cx,
                &self.jobs,
                phase,
                rows,
                self.settings.existing_users,
                self.settings.bulk_user_imports,
            ));
        }
        Box::pin(send::batch(
            cx,
            &self.jobs,
            phase,
            rows,
            self.settings.archive_immediately,
        ))
    }

    fn reconcile<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        items: &'a [(String, String)],
    ) -> BoxFut<'a, Result<Option<Vec<(String, String)>>>> {
        Box::pin(send::reconcile(
            cx,
            phase,
            items,
            self.settings.archive_immediately,
        ))
    }

    fn send_changes<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [crate::load::changes::ChangeRow],
    ) -> BoxFut<'a, Result<Vec<crate::load::changes::ChangeResult>>> {
        Box::pin(delta::send_changes(
            cx,
            phase,
            rows,
            self.settings.deleted_in_source,
            self.settings.existing_users,
        ))
    }

    fn deletion_action(&self, _phase: &Phase) -> String {
        delta::deletion_action(self.settings.deleted_in_source)
    }

    fn preflight<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            // The token's user writes the notes ferry adds itself.
            let me: Value = client.get_json("/api/v2/users/me").await?;
            if let Some(id) = me["user"]["id"].as_u64() {
                let _ = self.admin_id.set(id);
            }
            let mut out = preflight::warnings(client).await?;
            let limit = preflight::attachment_limit(client).await?;
            let _ = self.attachment_limit.set(limit);
            out.push("users and identities are created verified with skip_verify_email, so no welcome or verification email goes out.".into());
            Ok(out)
        })
    }

    fn plans_existing(&self, phase: &Phase) -> bool {
        phase.call.custom == Some(phases::USERS)
    }

    fn plan_existing<'a>(
        &'a self,
        client: &'a ApiClient,
        phase: &'static Phase,
        rows: &'a [Row],
    ) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let index = users::Index::read(client).await?;
            Ok(users::plan(
                phase,
                &index,
                rows,
                self.settings.existing_users,
                self.settings.bulk_user_imports,
                self.settings.rate_limit_per_minute,
            ))
        })
    }

    fn after_load(&self, conn: &Connection) -> Result<Vec<String>> {
        let (files, tickets) = files_left_out(conn)?;
        Ok(if files > 0 {
            vec![format!("{files} files of {tickets} imported tickets were not attached (missing_files = \"skip\"): SELECT * FROM zendesk_files_left_out")]
        } else {
            Vec::new()
        })
    }

    fn rollback(
        &self,
        client: Arc<ApiClient>,
        db: Arc<Mutex<Connection>>,
        scope: RollbackScope,
    ) -> BoxFut<'static, Result<Vec<(String, usize)>>> {
        Box::pin(rollback::run(client, db, scope))
    }

    fn verify<'a>(
        &'a self,
        db: &'a Mutex<Connection>,
        client: &'a ApiClient,
        tmp: &'a std::path::Path,
        sample: usize,
        sql: &'a LoadSql,
    ) -> BoxFut<'a, Result<(Vec<DestinationCheck>, SampleCheck)>> {
        Box::pin(async move {
            let sample_sql = sql.get("verify/sample.sql")?;
            verify::read_back(db, client, tmp, sample, sample_sql).await
        })
    }

    fn read_records<'a>(
        &'a self,
        client: &'a ApiClient,
        object: &'a str,
        ids: &'a [String],
        _paths: &'a [String],
    ) -> BoxFut<'a, Result<Vec<(String, serde_json::Value)>>> {
        Box::pin(readback::records(client, object, ids))
    }

    fn probe<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Vec<crate::connector::ProbeCheck>> {
        Box::pin(probe::checks(client, &self.settings))
    }

    fn rebuild_hint(&self, rule_kind: &str) -> String {
        match rule_kind {
            "SLA" => "rebuild as a Zendesk SLA policy".into(),
            "shortcut" => "rebuild as a Zendesk macro".into(),
            other => format!("rebuild this {other} as Zendesk triggers/automations"),
        }
    }
}

/// Files referenced by comments of imported tickets that have no upload:
/// what `missing_files = "skip"` left out, as the view
/// `zendesk_files_left_out` (the route's `load/files_left_out.sql`: one
/// row per file and comment, with why), so an auditor can list them any
/// time. Returns (files, tickets).
fn files_left_out(conn: &Connection) -> Result<(i64, i64)> {
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = 'zendesk_files_left_out'",
        [],
        |r| r.get(0),
    )?;
    if exists == 0 {
        return Ok((0, 0));
    }
    Ok(conn.query_row(
        "SELECT count(DISTINCT attachment_id), count(DISTINCT ticket_source_id) FROM zendesk_files_left_out",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
