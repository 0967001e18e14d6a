//! Kustomer as a destination (Kustomer's published Core Resources spec,
//! `kustomer-openapi.json`, and its guide "Bulk operations"): bulk creates
//! of 100 with `externalId` = the source id and `importedAt` on every
//! record (the spec: records with `importedAt` are not subject to the
//! per-customer create limits), custom attributes declared first with
//! their type suffix, files through the presigned upload flow.

pub mod kb;
pub mod phases;
pub mod probe;
pub mod rollback;
pub mod send;
pub mod settings;
pub mod verify;

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
use settings::{DeletedInSource, UnmatchedAgents};

/// `ferry_id_map.dest` and `[destination] kind`.
pub const KIND: &str = "kustomer";

/// The registry entry.
pub const DESTINATION: DestinationKind = DestinationKind {
    kind: KIND,
    open,
    template: settings::template,
    secrets: &["KUSTOMER_API_KEY"],
    phases: phases::PHASES,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Destination>, Vec<String>> {
    let settings: Settings = section("destination", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(KustomerDest {
        settings,
        users: tokio::sync::OnceCell::new(),
        kb: tokio::sync::OnceCell::new(),
    }))
}

/// The Kustomer destination of a workspace.
pub struct KustomerDest {
    pub settings: Settings,
    users: send::Users,
    kb: kb::Kb,
}

impl Destination for KustomerDest {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    fn phases(&self) -> &'static [Phase] {
        phases::PHASES
    }

    fn client(&self) -> Result<ApiClient> {
        let s = &self.settings;
        let key = read_secret(&s.api_key_env, "Kustomer API key")?;
        ApiClient::new(ClientSettings {
            url_key: "destination.base_url".into(),
            per_minute: s.rate_limit_per_minute,
            search_per_minute: s.rate_limit_per_minute,
            timeout: Duration::from_secs(s.timeout_secs),
            max_attempts: s.max_attempts,
            insecure: s.insecure,
            ..ClientSettings::source_bearer("Kustomer", &s.base_url, &s.api_key_env, &key)
        })
    }

    fn load_settings(&self) -> LoadSettings {
        let s = &self.settings;
        let text = |v: &str| format!("'{}'", v.replace('\'', "''"));
        LoadSettings {
            per_minute: s.rate_limit_per_minute,
            memory_limit: s.memory_limit.clone(),
            variables: vec![
                ("kus_message_app".into(), text(&s.message_app)),
                (
                    "kus_hold_unmatched".into(),
                    (s.unmatched_agents != UnmatchedAgents::Machine).to_string(),
                ),
            ],
            upload_token_secs: None,
        }
    }

    /// What the API would refuse, checked locally for `--dry-run` (the
    /// spec's value rules the simulator also enforces).
    fn validate(
        &self,
        phase: &Phase,
        v: &Value,
        _path_arg: Option<&str>,
    ) -> std::result::Result<(), String> {
        let len = |k: &str| v[k].as_str().map_or(0, |s| s.chars().count());
        match phase.name {
            "conversations" => {
                if v["customer"].as_str().is_none() {
                    return Err("conversation has no customer".into());
                }
                if v["tags"].as_array().is_some_and(|t| t.len() > 20) {
                    return Err("more than 20 tags".into());
                }
                if len("name") > 256 {
                    return Err("name over 256 characters".into());
                }
            }
            "messages" => {
                if len("preview") > 10_240 {
                    return Err("preview over 10,240 characters".into());
                }
                if v["channel"].as_str().is_none() {
                    return Err("message has no channel".into());
                }
            }
            "notes" if len("body") == 0 || len("body") > 10_240 => {
                return Err("note body must be 1 to 10,240 characters".into());
            }
            "companies" if len("name") == 0 => return Err("company has no name".into()),
            "kobjects" if len("title") == 0 => return Err("KObject has no title".into()),
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
        Box::pin(send::batch(
            cx,
            &self.settings,
            phase,
            rows,
            &self.users,
            &self.kb,
        ))
    }

    /// An in-doubt batch's records, by external id (or, for notes, in
    /// their conversation). Agents, metadata and uploads are safe to
    /// resend; a klass is looked up by name before it is created.
    fn reconcile<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        items: &'a [(String, String)],
    ) -> BoxFut<'a, Result<Option<Vec<(String, String)>>>> {
        Box::pin(async move {
            match phase.batch {
                crate::load::phase::BatchKind::BulkJob { .. } => {
                    send::find_by_external_id(cx, phase, items).await.map(Some)
                }
                _ => Ok(None),
            }
        })
    }

    /// A changed company, customer or conversation: `PUT` of the changed
    /// fields. A conversation gone from the source: `deleted_in_source`.
    fn send_changes<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [ChangeRow],
    ) -> BoxFut<'a, Result<Vec<ChangeResult>>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for r in rows {
                let (method, body, action) = match r.kind {
                    ChangeKind::Deleted
                        if phase.name == "conversations"
                            && self.settings.deleted_in_source == DeletedInSource::Delete =>
                    {
                        (Method::DELETE, None, "delete")
                    }
                    ChangeKind::Deleted => {
                        out.push(Ok(Applied::not_applied(
                            "leave",
                            "deleted_in_source = \"leave\"",
                        )));
                        continue;
                    }
                    ChangeKind::Changed if phase.call.custom == Some(phases::KB_VERSION) => {
                        out.push(
                            match kb::update_version(
                                cx,
                                &self.kb,
                                &self.settings,
                                &r.dest_id,
                                &r.payload,
                            )
                            .await?
                            {
                                Ok(_) => Ok(Applied::done("update")),
                                Err(e) => Err(e),
                            },
                        );
                        continue;
                    }
                    ChangeKind::Changed => (Method::PUT, Some(without_nulls(&r.payload)), "update"),
                };
                let path = format!("/v1/{}/{}", phase.name, r.dest_id);
                let res = cx
                    .client
                    .send(
                        method,
                        &path,
                        body.as_deref().map(Payload::JsonText),
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
            (DeletedInSource::Delete, "conversations") => {
                "delete (DELETE /v1/conversations/{id})".into()
            }
            _ => "leave".into(),
        }
    }

    fn preflight<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let users = send::all_users(client).await?;
            let mut out = vec![format!(
                "{} Kustomer users to match agents against by email",
                users.len()
            )];
            out.push(match self.settings.unmatched_agents {
                UnmatchedAgents::Machine => "messages of agents with no Kustomer user are authored by this API key, the agent's name kept in the message's meta".into(),
                UnmatchedAgents::Hold => "messages of agents with no Kustomer user are held until the agent is invited".into(),
                UnmatchedAgents::Create => "agents with no Kustomer user are created (POST /v1/users: Kustomer invites them, each takes a seat)".into(),
            });
            out.push("every record carries importedAt: no workflow, SLA or notification runs for it, and per-customer create limits do not apply".into());
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
        tmp: &'a std::path::Path,
        sample: usize,
        sql: &'a LoadSql,
    ) -> BoxFut<'a, Result<(Vec<DestinationCheck>, SampleCheck)>> {
        Box::pin(async move {
            let sample_sql = sql.get("verify/sample.sql")?;
            let out = verify::read_back(db, client, tmp, sample, sample_sql).await?;
            // The Help Center's redirect map, where the route has one.
            if let Ok(redirects) = sql.get("verify/redirects.sql") {
                verify::kb_redirects(db, client, &self.settings, tmp, redirects).await?;
            }
            Ok(out)
        })
    }

    fn probe<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Vec<ProbeCheck>> {
        Box::pin(probe::checks(client, &self.settings.knowledge_base))
    }

    fn rebuild_hint(&self, rule_kind: &str) -> String {
        format!("rebuild this {rule_kind} by hand in Kustomer (as a workflow, a saved search or a shortcut)")
    }
}

/// A body without its null fields: the spec types most fields as plain
/// strings or arrays, where a null is not a value.
pub fn without_nulls(payload: &str) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(Value::Object(mut o)) => {
            o.retain(|_, x| !x.is_null());
            Value::Object(o).to_string()
        }
        _ => payload.to_string(),
    }
}
