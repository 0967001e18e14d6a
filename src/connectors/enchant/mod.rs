//! Enchant as a destination (API v1; the community OpenAPI spec
//! `enchant-openapi-community.yaml`, written from dev.enchant.com/api/v1,
//! and the notes `enchant-api.md`). What the API cannot hold is written
//! where it can: a ticket's original channel, times and Kustomer id go
//! into its header note; a message's author and time into its own header;
//! companies into the customer's `summary`.

pub mod phases;
pub mod probe;
pub mod rollback;
pub mod send;
pub mod settings;
pub mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duckdb::Connection;
use reqwest::Method;
use serde_json::Value;

use crate::config::{read_secret, section};
use crate::connector::{BoxFut, Destination, LoadSettings, ProbeCheck, RollbackScope};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, ClientSettings, Lane, Payload};
use crate::load::changes::{Applied, ChangeKind, ChangeResult, ChangeRow};
use crate::load::phase::Phase;
use crate::load::{LoadCtx, LoadSql, Row, RowResult};
use crate::routes::DestinationKind;
use crate::verify::report::{DestinationCheck, SampleCheck};

pub use settings::Settings;
use settings::{AgentMessages, DeletedInSource};

/// `ferry_id_map.dest` and `[destination] kind`.
pub const KIND: &str = "enchant";

/// The registry entry.
pub const DESTINATION: DestinationKind = DestinationKind {
    kind: KIND,
    open,
    template: settings::template,
    secrets: &["ENCHANT_API_TOKEN"],
    phases: phases::PHASES,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Destination>, Vec<String>> {
    let settings: Settings = section("destination", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(Enchant {
        settings,
        users: tokio::sync::OnceCell::new(),
    }))
}

/// The Enchant destination of a workspace.
pub struct Enchant {
    pub settings: Settings,
    /// Enchant users by email, read once per load.
    users: tokio::sync::OnceCell<HashMap<String, String>>,
}

impl Destination for Enchant {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn phases(&self) -> &'static [Phase] {
        phases::PHASES
    }

    /// `Authorization: Bearer <token>` (the spec's BearerAuth).
    fn client(&self) -> Result<ApiClient> {
        let s = &self.settings;
        let token = read_secret(&s.api_token_env, "Enchant API token")?;
        ApiClient::new(ClientSettings {
            api: "Enchant".into(),
            base_url: s.base_url.trim_end_matches('/').to_string(),
            url_key: "destination.base_url".into(),
            secret_var: s.api_token_env.clone(),
            auth_header: format!("Bearer {token}"),
            per_minute: s.credits_per_minute,
            search_per_minute: s.credits_per_minute,
            timeout: Duration::from_secs(120),
            max_attempts: 8,
            insecure: s.insecure,
            credit_window_burst: Some(s.burst_per_second),
            oauth: None,
            retry_codes: &[],
            quota_codes: &[],
            headers: Vec::new(),
            refusals_429: &[],
            limit_window_secs: 60,
        })
    }

    fn load_settings(&self) -> LoadSettings {
        let s = &self.settings;
        let text = |v: &str| format!("'{}'", v.replace('\'', "''"));
        LoadSettings {
            per_minute: s.credits_per_minute,
            memory_limit: s.memory_limit.clone(),
            variables: vec![
                (
                    "enchant_fallback_email".into(),
                    text(&s.fallback_agent_email.to_lowercase()),
                ),
                (
                    "enchant_agent_replies".into(),
                    (s.agent_messages == AgentMessages::Reply).to_string(),
                ),
                (
                    "enchant_sandbox_inbox".into(),
                    s.sandbox_inbox_id
                        .as_deref()
                        .map_or("NULL::VARCHAR".into(), text),
                ),
                (
                    "enchant_max_bytes".into(),
                    s.max_attachment_bytes().to_string(),
                ),
            ],
            upload_token_secs: None,
        }
    }

    /// What the API would refuse, checked locally for `--dry-run`.
    fn validate(
        &self,
        phase: &Phase,
        v: &Value,
        _path_arg: Option<&str>,
    ) -> std::result::Result<(), String> {
        match phase.name {
            "tickets" => {
                if v["subject"].as_str().is_none_or(|s| s.trim().is_empty()) {
                    return Err("ticket has no subject".into());
                }
                if v["type"] != "email" {
                    return Err("only email tickets can be created".into());
                }
            }
            "messages" | "kobject_notes" => {
                if v["body"].as_str().is_none_or(str::is_empty) {
                    return Err("message has no body".into());
                }
                if v["direction"] == "out" && self.settings.agent_messages != AgentMessages::Reply {
                    return Err("an outbound reply would email the customer".into());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn send<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [Row],
    ) -> BoxFut<'a, Result<Vec<RowResult>>> {
        Box::pin(send::batch(cx, phase, rows, &self.users))
    }

    fn reconcile<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        items: &'a [(String, String)],
    ) -> BoxFut<'a, Result<Option<Vec<(String, String)>>>> {
        Box::pin(send::reconcile(cx, phase, items))
    }

    /// A changed customer: PATCH names and summary. A changed ticket:
    /// PATCH state, labels and assignee (the whole `ticket_state`
    /// payload). A ticket gone from the source: the `deleted_in_source`
    /// policy. New messages need no rule: the messages phase sends every
    /// message not loaded yet, to its loaded ticket.
    fn send_changes<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [ChangeRow],
    ) -> BoxFut<'a, Result<Vec<ChangeResult>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for r in rows {
                let (path, body, action) = match (r.kind, phase.name) {
                    (ChangeKind::Deleted, _)
                        if self.settings.deleted_in_source == DeletedInSource::Leave =>
                    {
                        out.push(Ok(Applied::not_applied(
                            "leave",
                            "deleted_in_source = \"leave\"",
                        )));
                        continue;
                    }
                    (ChangeKind::Deleted, "ticket_state") => (
                        format!("/tickets/{}", r.dest_id),
                        "{\"trash\":true}".to_string(),
                        "trash",
                    ),
                    (ChangeKind::Deleted, _) => {
                        out.push(Ok(Applied::not_applied(
                            "leave",
                            "Enchant cannot delete this record",
                        )));
                        continue;
                    }
                    (ChangeKind::Changed, "customers") => (
                        format!("/customers/{}", r.dest_id),
                        r.payload.clone(),
                        "update",
                    ),
                    (ChangeKind::Changed, _) => (
                        format!("/tickets/{}", r.dest_id),
                        r.payload.clone(),
                        "update",
                    ),
                };
                let res = cx
                    .client
                    .send(
                        Method::PATCH,
                        &path,
                        Some(Payload::JsonText(&body)),
                        Lane::Standard,
                    )
                    .await;
                out.push(match res {
                    Ok(_) => Ok(Applied::done(action)),
                    Err(FerryError::Http { status, body, .. }) => Err((Some(status), body)),
                    Err(e) => return Err(e),
                });
            }
            Ok(out)
        })
    }

    fn deletion_action(&self, phase: &Phase) -> String {
        match (self.settings.deleted_in_source, phase.name) {
            (DeletedInSource::Trash, "ticket_state") => {
                "trash (PATCH /tickets/{id} trash=true)".into()
            }
            _ => "leave".into(),
        }
    }

    fn preflight<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let users = send::all_users(client).await?;
            let mut out = Vec::new();
            let fb = self.settings.fallback_agent_email.to_lowercase();
            if !users.contains_key(&fb) {
                out.push(format!("destination.fallback_agent_email {fb} is not an Enchant user: notes of unmapped agents will be held until it is"));
            }
            if self.settings.agent_messages == AgentMessages::Reply {
                out.push(format!(
                    "agent_messages = \"reply\": every agent message is sent as an outbound reply, which EMAILS the customer; all tickets go to the sandbox inbox {}",
                    self.settings.sandbox_inbox_id.as_deref().unwrap_or("?")
                ));
            } else {
                out.push("agent messages are imported as internal notes (author and original time in each header): no email reaches a customer.".into());
            }
            out.push("Enchant keeps no original times: each ticket's header note and each message's header carry them.".into());
            Ok(out)
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

    fn read_records<'a>(
        &'a self,
        client: &'a ApiClient,
        object: &'a str,
        ids: &'a [String],
        _paths: &'a [String],
    ) -> BoxFut<'a, Result<Vec<(String, serde_json::Value)>>> {
        Box::pin(verify::records(client, object, ids))
    }

    fn verify<'a>(
        &'a self,
        db: &'a Mutex<Connection>,
        client: &'a ApiClient,
        _tmp: &'a std::path::Path,
        sample: usize,
        sql: &'a LoadSql,
    ) -> BoxFut<'a, Result<(Vec<DestinationCheck>, SampleCheck)>> {
        Box::pin(async move {
            let sample_sql = sql.get("verify/sample.sql")?;
            verify::read_back(db, client, sample, sample_sql).await
        })
    }

    fn probe<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Vec<ProbeCheck>> {
        Box::pin(probe::checks(client, self.settings.credits_per_minute))
    }

    fn rebuild_hint(&self, rule_kind: &str) -> String {
        format!("rebuild this {rule_kind} by hand in Enchant (its API has no rules)")
    }
}
