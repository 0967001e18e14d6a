//! Salesforce Service Cloud as a destination (`../shared/reference/salesforce-api.md`,
//! with what it marks [likely] checked against Salesforce's docs through
//! the docs search, cited where used).
//!
//! - `settings`: the `[destination]` section (My Domain, connected app
//!   secrets by env var name, API version, external-id field, the share
//!   of the daily allocation kept for the org's other integrations).
//! - `session`: the OAuth client (client credentials or refresh token;
//!   the token answer's `instance_url` is the base of every call).
//! - `limits`: `Sforce-Limit-Info: api-usage=n/max` read off every answer,
//!   and the reserve check that stops a load before the allocation runs out.
//! - `soql`: queries with `nextRecordsUrl` paging.
//! - `collections`: sObject Collections (200 per request, per-record
//!   results in order).
//! - `bulk`: Bulk API 2.0 ingest jobs (results keyed by the external-id
//!   column, never by row position).
//! - `phases`, `send`: the load; `verify`, `rollback`, `probe`: the rest.

pub mod bulk;
pub mod collections;
pub mod limits;
pub mod phases;
pub mod probe;
pub mod rollback;
pub mod send;
pub mod session;
pub mod settings;
pub mod soql;
pub mod verify;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use duckdb::Connection;
use reqwest::Method;
use serde_json::Value;

use crate::config::section;
use crate::connector::{BoxFut, Destination, LoadSettings, ProbeCheck, RollbackScope};
use crate::error::{FerryError, Result};
use crate::http::{ApiClient, Lane, Payload};
use crate::load::changes::{Applied, ChangeKind, ChangeResult, ChangeRow};
use crate::load::phase::Phase;
use crate::load::{LoadCtx, LoadSql, Row, RowResult};
use crate::routes::DestinationKind;
use crate::verify::report::{DestinationCheck, SampleCheck};

use settings::DeletedInSource;
pub use settings::Settings;

/// `ferry_id_map.dest` and `[destination] kind`.
pub const KIND: &str = "salesforce";

/// The registry entry.
pub const DESTINATION: DestinationKind = DestinationKind {
    kind: KIND,
    open,
    template: settings::template,
    secrets: &["SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"],
    phases: phases::PHASES,
};

fn open(table: &toml::Table) -> std::result::Result<Arc<dyn Destination>, Vec<String>> {
    let settings: Settings = section("destination", table)?;
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Arc::new(Salesforce {
        settings,
        users: tokio::sync::OnceCell::new(),
        budget: limits::Budget::default(),
        picklists: OnceLock::new(),
        customs: OnceLock::new(),
        standard: OnceLock::new(),
        audit_detected: OnceLock::new(),
        audit_objects: OnceLock::new(),
    }))
}

/// The Salesforce destination of a workspace.
pub struct Salesforce {
    pub settings: Settings,
    /// Active Users by email, read once per load.
    users: tokio::sync::OnceCell<HashMap<String, String>>,
    /// The daily allocation as the latest answer told it.
    budget: limits::Budget,
    /// Case picklists from describe (field → values), once pre-flight read
    /// them: `--dry-run` checks payloads against the org's own values.
    picklists: OnceLock<HashMap<String, Vec<String>>>,
    /// The org's custom objects (lower-case name → lower-case field
    /// names) from describe, once pre-flight read them: custom records
    /// are checked against them before they are sent.
    customs: OnceLock<HashMap<String, HashSet<String>>>,
    /// The fields of the standard objects ferry writes (lowercase names)
    /// from describe, once pre-flight read them: a Contact, Lead, Account
    /// or Case whose custom fields the org lacks waits for the admin.
    standard: OnceLock<HashMap<String, HashSet<String>>>,
    /// Whether the integration user may set audit fields (describe:
    /// Case.CreatedDate is createable), as pre-flight found it.
    audit_detected: OnceLock<bool>,
    /// The objects beside Case whose CreatedDate describe shows createable
    /// (EmailMessage with the same permission; CaseComment only once
    /// Salesforce Support enabled it), as pre-flight found them.
    audit_objects: OnceLock<HashSet<String>>,
}

impl Salesforce {
    /// Original times into CreatedDate/ClosedDate: the setting, else what
    /// pre-flight detected, else no.
    fn audit_fields(&self) -> bool {
        self.settings
            .audit_fields
            .or(self.audit_detected.get().copied())
            .unwrap_or(false)
    }

    /// Original times into `object`'s CreatedDate: audit fields are used
    /// and describe shows the field createable on that object too.
    fn audit_fields_on(&self, object: &str) -> bool {
        self.audit_fields() && self.audit_objects.get().is_some_and(|o| o.contains(object))
    }

    /// Custom objects of the org that carry the external-id field.
    pub fn custom_objects(&self) -> Vec<String> {
        let ext = self.settings.external_id_field.to_lowercase();
        let mut out: Vec<String> = self
            .customs
            .get()
            .into_iter()
            .flatten()
            .filter(|(_, f)| f.contains(&ext))
            .map(|(o, _)| o.clone())
            .collect();
        out.sort();
        out
    }

    /// Why a custom record cannot go to `object` yet: the object or some
    /// of the fields its payload names are missing from the org (known
    /// once pre-flight read describe; `None` before that, or when all is
    /// there).
    pub fn schema_gap(&self, object: &str, payload: Option<&str>) -> Option<String> {
        let customs = self.customs.get()?;
        let list = format!("SELECT * FROM out_salesforce_custom_fields WHERE object = '{object}'");
        let Some(fields) = customs.get(&object.to_lowercase()) else {
            return Some(format!("custom object {object} does not exist in the org: create it with the fields `{list}` lists (Setup → Object Manager → Create → Custom Object), then run `ferry load` again"));
        };
        let v: Value = payload
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        let mut wanted = vec![self.settings.external_id_field.clone()];
        for k in v.as_object().into_iter().flat_map(|o| o.keys()) {
            if k == "attributes" || k == "Name" {
                continue;
            }
            wanted.push(match k.strip_suffix("__r.") {
                Some(base) => format!("{base}__c"),
                None => k.clone(),
            });
        }
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|f| !fields.contains(&f.to_lowercase()))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{object} lacks the field(s) {}: create them as `{list}` lists, then run `ferry load` again",
                missing.join(", ")
            )
        })
    }
}

impl Salesforce {
    /// Why a Contact, Lead, Account or Case cannot go yet: custom fields
    /// its payload names (`…__c`: a custom attribute, Kustomer's externalId,
    /// tags) are missing from the org (known once pre-flight read
    /// describe; `None` before that, for other objects, or when all is
    /// there).
    pub fn field_gap(&self, object: &str, payload: &Value) -> Option<String> {
        let fields = self.standard.get()?.get(&object.to_lowercase())?;
        let missing: Vec<String> = payload
            .as_object()?
            .keys()
            // "X__r." is the Lookup X__c, set through the parent's external id.
            .map(|k| match k.strip_suffix("__r.") {
                Some(base) => format!("{base}__c"),
                None => k.clone(),
            })
            .filter(|k| k.ends_with("__c") && !fields.contains(&k.to_lowercase()))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{object} lacks the custom field(s) {}: create them as `SELECT * FROM out_salesforce_custom_fields WHERE object = '{object}'` lists (Setup → Object Manager → {object} → Fields & Relationships), then run `ferry load` again",
                missing.join(", ")
            )
        })
    }
}

impl Destination for Salesforce {
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
        session::client(&self.settings)
    }

    fn load_settings(&self) -> LoadSettings {
        LoadSettings {
            per_minute: self.settings.requests_per_minute,
            memory_limit: self.settings.memory_limit.clone(),
            variables: vec![
                ("sf_audit_fields".into(), self.audit_fields().to_string()),
                (
                    "sf_audit_email_messages".into(),
                    self.audit_fields_on("EmailMessage").to_string(),
                ),
                (
                    "sf_audit_case_comments".into(),
                    self.audit_fields_on("CaseComment").to_string(),
                ),
            ],
            upload_token_secs: None,
        }
    }

    /// What the org would refuse, checked locally: the Case picklists
    /// (restricted: an unknown value is a 400 at load time), lengths the
    /// object reference gives.
    fn validate(
        &self,
        phase: &Phase,
        v: &Value,
        path_arg: Option<&str>,
    ) -> std::result::Result<(), String> {
        match phase.name {
            "custom_records" => {
                if let Some(why) = self.schema_gap(path_arg.unwrap_or(""), Some(&v.to_string())) {
                    return Err(why);
                }
            }
            "accounts" | "contacts" | "leads" => {
                if let Some(why) = self.field_gap(phase.call.path, v) {
                    return Err(why);
                }
            }
            "cases" => {
                if let Some(lists) = self.picklists.get() {
                    for field in ["Status", "Priority", "Origin"] {
                        let (Some(val), Some(allowed)) = (v[field].as_str(), lists.get(field))
                        else {
                            continue;
                        };
                        if !allowed.iter().any(|a| a == val) {
                            return Err(format!("Case {field} {val:?} is not in the org's restricted picklist ({}): add it in Setup or change the route's seed map", allowed.join(", ")));
                        }
                    }
                }
                if let Some(why) = self.field_gap(phase.call.path, v) {
                    return Err(why);
                }
            }
            "case_comments" => {
                let n = v["CommentBody"].as_str().map_or(0, str::len);
                if n > 4000 {
                    return Err(format!(
                        "CommentBody is {n} bytes, over CaseComment's 4,000"
                    ));
                }
            }
            "email_messages" => {
                for f in ["TextBody", "HtmlBody"] {
                    let n = v[f].as_str().map_or(0, |s| s.chars().count());
                    if n > 32_000 {
                        return Err(format!("{f} is {n} characters, over EmailMessage's 32,000"));
                    }
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
        Box::pin(send::batch(self, cx, phase, rows))
    }

    fn reconcile<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        items: &'a [(String, String)],
    ) -> BoxFut<'a, Result<Option<Vec<(String, String)>>>> {
        Box::pin(send::reconcile(self, cx, phase, items))
    }

    /// A changed Account, Contact, Lead or Case: the same upsert by
    /// external id, with the fields a change may touch. A Case gone from
    /// the source: `deleted_in_source`. New messages need no rule: the
    /// email_messages phase sends every message not loaded yet.
    fn send_changes<'a>(
        &'a self,
        cx: &'a LoadCtx,
        phase: &'static Phase,
        rows: &'a [ChangeRow],
    ) -> BoxFut<'a, Result<Vec<ChangeResult>>> {
        Box::pin(async move {
            let data = self.settings.data_path();
            let mut out = Vec::new();
            for r in rows {
                // A custom record names its object in the payload.
                let typed: Option<String> = serde_json::from_str::<Value>(&r.payload)
                    .ok()
                    .and_then(|v| v["attributes"]["type"].as_str().map(str::to_string));
                let object = typed.as_deref().unwrap_or(phase.call.path);
                let (method, path, body) = match r.kind {
                    ChangeKind::Deleted
                        if self.settings.deleted_in_source == DeletedInSource::Delete
                            && phase.name == "cases" =>
                    {
                        (
                            Method::DELETE,
                            format!("{data}/sobjects/{object}/{}", r.dest_id),
                            None,
                        )
                    }
                    ChangeKind::Deleted => {
                        out.push(Ok(Applied::not_applied(
                            "leave",
                            "deleted_in_source = \"leave\"",
                        )));
                        continue;
                    }
                    ChangeKind::Changed => {
                        let mut v: Value = serde_json::from_str(&r.payload).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            o.retain(|k, x| {
                                !x.is_null()
                                    && !k.ends_with('.')
                                    && k != "sha256"
                                    && k != "attributes"
                            });
                        }
                        (
                            Method::PATCH,
                            format!("{data}/sobjects/{object}/{}", r.dest_id),
                            Some(v),
                        )
                    }
                };
                let res = cx
                    .client
                    .send(
                        method,
                        &path,
                        body.as_ref().map(Payload::Json),
                        Lane::Standard,
                    )
                    .await;
                out.push(match res {
                    Ok(_) => Ok(Applied::done(if body.is_some() {
                        "update"
                    } else {
                        "delete"
                    })),
                    Err(FerryError::Http { status: 404, .. }) if body.is_none() => {
                        Ok(Applied::done("delete"))
                    }
                    Err(FerryError::Http { status, body, .. }) => Err((Some(status), body)),
                    Err(e) => return Err(e),
                });
            }
            Ok(out)
        })
    }

    fn deletion_action(&self, phase: &Phase) -> String {
        match (self.settings.deleted_in_source, phase.name) {
            (DeletedInSource::Delete, "cases") => {
                "delete (DELETE Case: Recycle Bin, 15 days)".into()
            }
            _ => "leave".into(),
        }
    }

    /// Reads describe for Case (picklists, audit-field permission) and
    /// the external-id field on every object ferry writes; GETs only.
    fn preflight<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let data = self.settings.data_path();
            let ext = &self.settings.external_id_field;
            let mut out = Vec::new();
            let case = client
                .get_json(&format!("{data}/sobjects/Case/describe"))
                .await?;
            let field = |d: &Value, n: &str| {
                d["fields"]
                    .as_array()
                    .and_then(|a| a.iter().find(|f| f["name"] == n))
                    .cloned()
            };
            let mut lists = HashMap::new();
            for f in ["Status", "Priority", "Origin"] {
                if let Some(fd) = field(&case, f).filter(|fd| fd["restrictedPicklist"] == true) {
                    let vals = fd["picklistValues"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|v| v["active"] != false)
                        .filter_map(|v| v["value"].as_str().map(str::to_string))
                        .collect();
                    lists.insert(f.to_string(), vals);
                }
            }
            let _ = self.picklists.set(lists);
            let audit_ok = field(&case, "CreatedDate").is_some_and(|f| f["createable"] == true);
            let _ = self.audit_detected.set(audit_ok);
            match (self.settings.audit_fields, audit_ok) {
                (Some(true), false) => out.push("destination.audit_fields = true, but the integration user cannot set CreatedDate (\"Set Audit Fields upon Record Creation\" is not granted): every Case would be refused; grant it or remove audit_fields (original times then go into Original_Created__c)".into()),
                (Some(false), true) => out.push("the integration user may set audit fields: without audit_fields = false each Case would keep its original CreatedDate/ClosedDate instead of Original_Created__c".into()),
                (Some(false) | None, false) => out.push("original Case times go into Original_Created__c / Original_Closed__c: the integration user cannot set audit fields (grant \"Set Audit Fields upon Record Creation\" before loading Cases to keep them in CreatedDate/ClosedDate)".into()),
                (Some(true) | None, true) => {}
            }
            // The org's custom objects and their fields, for the records
            // of Kustomer klasses.
            let global = client.get_json(&format!("{data}/sobjects")).await?;
            let mut customs = HashMap::new();
            for o in global["sobjects"].as_array().into_iter().flatten() {
                let Some(name) = o["name"].as_str().filter(|n| n.ends_with("__c")) else {
                    continue;
                };
                let d = client
                    .get_json(&format!("{data}/sobjects/{name}/describe"))
                    .await?;
                let fields: HashSet<String> = d["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["name"].as_str().map(str::to_lowercase))
                    .collect();
                customs.insert(name.to_lowercase(), fields);
            }
            let _ = self.customs.set(customs);
            let mut standard = HashMap::new();
            for object in [
                "Account",
                "Contact",
                "Lead",
                "Case",
                "EmailMessage",
                "ContentVersion",
            ] {
                let d = client
                    .get_json(&format!("{data}/sobjects/{object}/describe"))
                    .await?;
                standard.insert(
                    object.to_lowercase(),
                    d["fields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["name"].as_str().map(str::to_lowercase))
                        .collect::<HashSet<String>>(),
                );
                if !field(&d, ext).is_some_and(|f| f["externalId"] == true) {
                    out.push(format!("{object} has no External ID field {ext}: create it (Text(255), External ID, Unique) in Setup → Object Manager → {object} → Fields; until then every {object} is refused"));
                }
            }
            let _ = self.standard.set(standard);
            // CreatedDate beside Case's: EmailMessage (the same permission,
            // help.salesforce.com 000176484 lists it) and CaseComment (its
            // object reference: only once Salesforce Support enables it).
            // Describe says which the org allows; the rest keep their
            // original time in MessageDate and the comment's text.
            let mut audit_objects = HashSet::new();
            for object in ["EmailMessage", "CaseComment"] {
                let d = client
                    .get_json(&format!("{data}/sobjects/{object}/describe"))
                    .await?;
                if field(&d, "CreatedDate").is_some_and(|f| f["createable"] == true) {
                    audit_objects.insert(object.to_string());
                } else if self.audit_fields() && object == "CaseComment" {
                    out.push("CaseComments get today's CreatedDate (their original time stays in the comment's first line): audit fields on CaseComment need Salesforce Support to enable them".into());
                }
            }
            let _ = self.audit_objects.set(audit_objects);
            // Senders and recipients as EmailMessageRelation: only with
            // Email-to-Case or Enhanced Email (object reference: "only
            // available for organizations that use Email-to-Case or
            // Enhanced Email").
            match client
                .get_json(&format!("{data}/sobjects/EmailMessageRelation/describe"))
                .await
            {
                Err(FerryError::Http { status: 404, .. }) => out.push("EmailMessageRelation does not exist in this org: turn on Enhanced Email (Setup → Enhanced Email) so each email is linked to its sender's Contact, Lead or User; until then those links are refused and the senders stay FromAddress text".into()),
                Err(e) => return Err(e),
                Ok(_) => {}
            }
            Ok(out)
        })
    }

    fn rollback(
        &self,
        client: Arc<ApiClient>,
        db: Arc<Mutex<Connection>>,
        scope: RollbackScope,
    ) -> BoxFut<'static, Result<Vec<(String, usize)>>> {
        Box::pin(rollback::run(client, db, scope, self.settings.data_path()))
    }

    fn read_records<'a>(
        &'a self,
        client: &'a ApiClient,
        object: &'a str,
        ids: &'a [String],
        paths: &'a [String],
    ) -> BoxFut<'a, Result<Vec<(String, serde_json::Value)>>> {
        Box::pin(async move {
            verify::records(client, &self.settings.data_path(), object, ids, paths).await
        })
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
            verify::read_back(db, client, &self.settings, sample, sample_sql).await
        })
    }

    fn probe<'a>(&'a self, client: &'a ApiClient) -> BoxFut<'a, Vec<ProbeCheck>> {
        Box::pin(probe::checks(client, &self.settings))
    }

    fn rebuild_hint(&self, rule_kind: &str) -> String {
        format!("rebuild this {rule_kind} by hand in Salesforce (Flow, macros or entitlement processes)")
    }
}
