//! The Salesforce simulator's records and the validation the real org
//! applies on insert, update and upsert (`salesforce-api.md` §3, §6, §7,
//! §10, §11): unknown or read-only fields, required fields, restricted
//! picklists, lengths (CaseComment's body in bytes), malformed and
//! dangling ids, duplicate external ids, audit fields without the
//! permission, EmailMessage frozen after insert unless a draft.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::ids;
use super::schema::{Access, FieldType, SObject};

/// One record error, as REST (`errorCode`) and collections (`statusCode`)
/// report it.
#[derive(Debug, Clone, PartialEq)]
pub struct SfError {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl SfError {
    pub fn new(code: &'static str, message: impl Into<String>, fields: &[&str]) -> SfError {
        SfError {
            code,
            message: message.into(),
            fields: fields.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The REST body element: `{"message","errorCode","fields"}`.
    pub fn rest(&self) -> Value {
        json!({"message": self.message, "errorCode": self.code, "fields": self.fields})
    }

    /// A collections result element: `{"statusCode","message","fields"}`.
    pub fn collection(&self) -> Value {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }

    /// A Bulk result cell: `CODE:message:fields --`.
    pub fn bulk(&self) -> String {
        format!(
            "{}:{}:{} --",
            self.code,
            self.message,
            self.fields.join(",")
        )
    }
}

pub type Errors = Vec<SfError>;

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

/// The org's data.
pub struct Store {
    pub objects: Vec<SObject>,
    /// Records by object name, then id (18 characters).
    pub records: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    /// ContentVersion bytes by id.
    pub blobs: HashMap<String, Vec<u8>>,
    /// Next id number per key prefix.
    seq: HashMap<String, u64>,
    case_number: u64,
    /// "Set Audit Fields upon Record Creation" granted to the API user.
    pub audit_permission: bool,
    /// Salesforce Support enabled audit fields on CaseComment (its object
    /// reference: "If you're importing CaseComment data and must set the
    /// value for an audit field, such as CreatedDate, contact Salesforce");
    /// off by default, as in a new org.
    pub case_comment_audit: bool,
    /// The API user (owner and creator of what the API creates).
    pub api_user: String,
    /// (object, external-id field in lower case) → value in lower case →
    /// ids: upserts and duplicate checks stay fast at bench sizes.
    index: HashMap<(String, String), HashMap<String, std::collections::BTreeSet<String>>>,
    /// Object → natural key (`schema::unique_key`) → id, for the objects
    /// without an external id: duplicate checks stay fast at bench sizes.
    natural: HashMap<String, HashMap<String, String>>,
}

/// A record's natural key (`schema::unique_key`), compared without case;
/// ids in their 18-character form.
fn natural_key(object: &str, rec: &Map<String, Value>) -> Option<String> {
    let (fields, _) = super::schema::unique_key(object)?;
    let parts: Option<Vec<String>> = fields
        .iter()
        .map(|f| {
            rec.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(f))
                .and_then(|(_, v)| v.as_str())
                .map(|v| {
                    if ids::well_formed(v) {
                        ids::normalize(v)
                    } else {
                        v.to_string()
                    }
                    .to_lowercase()
                })
        })
        .collect();
    parts.map(|p| p.join("|"))
}

pub fn now_iso() -> String {
    sf_time(chrono::Utc::now())
}

/// Salesforce's datetime format in responses: `2024-05-01T12:34:56.000+0000`.
pub fn sf_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Parses an input datetime (`Z`, an offset, or `+0000`).
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl Store {
    pub fn new(objects: Vec<SObject>, audit_permission: bool) -> Store {
        let mut s = Store {
            records: objects
                .iter()
                .map(|o| (o.name.clone(), BTreeMap::new()))
                .collect(),
            objects,
            blobs: HashMap::new(),
            seq: HashMap::new(),
            case_number: 1000,
            audit_permission,
            case_comment_audit: false,
            api_user: String::new(),
            index: HashMap::new(),
            natural: HashMap::new(),
        };
        for o in &s.objects {
            for f in o.fields.iter().filter(|f| f.external_id) {
                s.index
                    .insert((o.name.clone(), f.name.to_lowercase()), HashMap::new());
            }
        }
        let admin = s.seed(
            "User",
            json!({"Username": "integration@sim.test", "Email": "integration@sim.test", "FirstName": "Integration", "LastName": "User", "IsActive": true}),
        );
        s.api_user = admin;
        s
    }

    /// Stores a record (replacing one with its id), keeping the index.
    fn put(&mut self, object: &str, rec: Map<String, Value>) {
        let id = rec["Id"].as_str().unwrap_or_default().to_string();
        self.take(object, &id);
        for ((o, field), ix) in self.index.iter_mut() {
            if o != object {
                continue;
            }
            let v = rec
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .and_then(|(_, v)| v.as_str());
            if let Some(v) = v {
                ix.entry(v.to_lowercase()).or_default().insert(id.clone());
            }
        }
        if let Some(k) = natural_key(object, &rec) {
            self.natural
                .entry(object.to_string())
                .or_default()
                .insert(k, id.clone());
        }
        self.records.get_mut(object).unwrap().insert(id, rec);
    }

    /// Removes a record, keeping the index.
    fn take(&mut self, object: &str, id: &str) -> Option<Map<String, Value>> {
        let rec = self.records.get_mut(object)?.remove(id)?;
        if let Some(k) = natural_key(object, &rec) {
            if let Some(m) = self.natural.get_mut(object) {
                m.remove(&k);
            }
        }
        for ((o, field), ix) in self.index.iter_mut() {
            if o != object {
                continue;
            }
            let v = rec
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .and_then(|(_, v)| v.as_str());
            if let Some(ids) = v.and_then(|v| ix.get_mut(&v.to_lowercase())) {
                ids.remove(id);
            }
        }
        Some(rec)
    }

    pub fn object(&self, name: &str) -> Option<&SObject> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// The object an id belongs to, by its key prefix.
    pub fn object_of_id(&self, id: &str) -> Option<&SObject> {
        self.objects.iter().find(|o| id.starts_with(&o.prefix))
    }

    /// An admin's Setup step: adds `field` to custom object `object`,
    /// creating the object (key prefix `a0…`) when it is new, or a custom
    /// field (API name ending in __c) to a standard object. Adding a field
    /// that exists is a no-op, as a redeploy of the same metadata is.
    pub fn add_custom_field(
        &mut self,
        object: &str,
        field: super::schema::Field,
    ) -> Result<(), String> {
        if !object.ends_with("__c") {
            if self.object(object).is_none() {
                return Err(format!(
                    "{object}: no such standard object, and a custom object's API name ends in __c"
                ));
            }
            if !field.name.ends_with("__c") {
                return Err(format!(
                    "{object}.{}: a custom field's API name ends in __c",
                    field.name
                ));
            }
        }
        if self.object(object).is_none() {
            let n = self.objects.iter().filter(|o| o.custom).count();
            let prefix = format!("a0{}", (b'A' + (n % 26) as u8) as char);
            self.objects
                .push(super::schema::custom_object(object, &prefix));
            self.records.insert(object.to_string(), BTreeMap::new());
        }
        let name = self.canonical(object).unwrap_or_default();
        let obj = self.objects.iter_mut().find(|o| o.name == name).unwrap();
        if obj.field(field.name).is_some() {
            return Ok(());
        }
        if field.external_id {
            self.index
                .insert((name.clone(), field.name.to_lowercase()), HashMap::new());
        }
        obj.fields.push(field);
        Ok(())
    }

    pub fn mint(&mut self, prefix: &str) -> String {
        let n = self.seq.entry(prefix.to_string()).or_insert(0);
        *n += 1;
        ids::mint(prefix, '5', 0x3b_0000 + *n)
    }

    /// A record put in place by the org's admin (users, queues), bypassing
    /// the API's rules.
    pub fn seed(&mut self, object: &str, v: Value) -> String {
        let prefix = self.object(object).expect("known object").prefix.clone();
        let id = self.mint(&prefix);
        let mut rec = v.as_object().cloned().unwrap_or_default();
        rec.insert("Id".into(), json!(id));
        self.stamp(object, &mut rec, true);
        self.derive(object, &mut rec);
        self.put(object, rec);
        id
    }

    pub fn get(&self, object: &str, id: &str) -> Option<&Map<String, Value>> {
        let id = ids::normalize(id);
        self.records.get(&self.canonical(object)?)?.get(&id)
    }

    /// The object's name as the schema spells it.
    pub fn canonical(&self, object: &str) -> Option<String> {
        self.object(object).map(|o| o.name.clone())
    }

    /// Finds the record whose `field` equals `value` (external ids are
    /// compared case-insensitively, as Salesforce does unless the field
    /// is case-sensitive unique).
    pub fn find_by(&self, object: &str, field: &str, value: &str) -> Vec<String> {
        let key = (object.to_string(), field.to_lowercase());
        if let Some(ix) = self.index.get(&key) {
            return ix
                .get(&value.to_lowercase())
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
        }
        let Some(recs) = self.records.get(object) else {
            return Vec::new();
        };
        recs.iter()
            .filter(|(_, r)| {
                r.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(field))
                    .and_then(|(_, v)| v.as_str())
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Resolves relationship values (`"Account": {"Kustomer_Id__c": "…"}`)
    /// into the lookup id fields they stand for.
    fn resolve_relationships(
        &self,
        obj: &SObject,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Errors> {
        let mut out = Map::new();
        for (k, v) in body {
            if k == "attributes" {
                continue;
            }
            let is_rel = v.is_object()
                && obj.fields.iter().any(|f| {
                    super::schema::relationship_name(f.name, f.kind)
                        .is_some_and(|r| r.eq_ignore_ascii_case(k))
                });
            if !is_rel {
                out.insert(k.clone(), v.clone());
                continue;
            }
            let field = obj
                .fields
                .iter()
                .find(|f| {
                    super::schema::relationship_name(f.name, f.kind)
                        .is_some_and(|r| r.eq_ignore_ascii_case(k))
                })
                .unwrap();
            let rel = v.as_object().unwrap();
            let target_type = rel
                .get("attributes")
                .and_then(|a| a["type"].as_str())
                .map(str::to_string)
                .or_else(|| field.reference_to.first().map(|s| s.to_string()))
                .unwrap_or_default();
            let Some((ext_field, ext_value)) = rel.iter().find(|(k, _)| *k != "attributes") else {
                return Err(vec![SfError::new(
                    "INVALID_FIELD",
                    format!("No such column on {k}: an external id is needed"),
                    &[field.name],
                )]);
            };
            let ext_value = ext_value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| ext_value.to_string());
            out.insert(
                field.name.to_string(),
                json!(self.lookup_external(&target_type, ext_field, &ext_value, field.name)?),
            );
        }
        Ok(out)
    }

    /// The id of the `object` record whose external id `field` is `value`.
    pub fn lookup_external(
        &self,
        object: &str,
        field: &str,
        value: &str,
        via: &str,
    ) -> Result<String, Errors> {
        let Some(target) = self.object(object) else {
            return Err(vec![SfError::new(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
                &[via],
            )]);
        };
        if !target.field(field).is_some_and(|f| f.external_id) {
            return Err(vec![SfError::new(
                "INVALID_FIELD",
                format!(
                    "Field name provided, {field} is not an External ID or indexed field for {}",
                    target.name
                ),
                &[via],
            )]);
        }
        let found = self.find_by(&target.name, field, value);
        match found.as_slice() {
            [id] => Ok(id.clone()),
            [] => Err(vec![SfError::new("INVALID_FIELD", format!("Foreign key external ID: {value} not found for field {field} in entity {}", target.name), &[via])]),
            _ => Err(vec![SfError::new("INVALID_FIELD", format!("Foreign key external ID: {value} matches more than one record for field {field} in entity {}", target.name), &[via])]),
        }
    }

    /// Every rule a write must pass; `existing` is the record an update
    /// changes (None on insert).
    fn validate(
        &self,
        obj: &SObject,
        body: &Map<String, Value>,
        existing: Option<&Map<String, Value>>,
    ) -> Errors {
        let mut errs = Vec::new();
        let is_draft = existing
            .and_then(|r| r.get("Status"))
            .and_then(Value::as_str)
            == Some("5");
        for (k, v) in body {
            let Some(f) = obj.field(k) else {
                errs.push(SfError::new(
                    "INVALID_FIELD",
                    format!("No such column '{k}' on sobject of type {}", obj.name),
                    &[k],
                ));
                continue;
            };
            let writable = match existing {
                None => f.createable(self.audit_for(&obj.name)),
                Some(_) if obj.name == "EmailMessage" && is_draft => {
                    f.access != Access::ReadOnly && f.access != Access::Audit
                }
                Some(_) => f.updateable(),
            };
            if !writable {
                let why = match (f.access, existing.is_some()) {
                    (Access::Audit, false) => format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set (\"Set Audit Fields upon Record Creation\").", f.name),
                    _ => format!("Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", f.name),
                };
                errs.push(SfError::new(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    why,
                    &[f.name],
                ));
                continue;
            }
            if v.is_null() {
                if f.required {
                    errs.push(SfError::new(
                        "REQUIRED_FIELD_MISSING",
                        format!("Required fields are missing: [{}]", f.name),
                        &[f.name],
                    ));
                }
                continue;
            }
            match f.kind {
                FieldType::Boolean
                    if !v.is_boolean() && !matches!(v.as_str(), Some("true" | "false")) =>
                {
                    errs.push(SfError::new(
                        "JSON_PARSER_ERROR",
                        format!(
                            "Cannot deserialize instance of boolean from {v} for {}",
                            f.name
                        ),
                        &[f.name],
                    ));
                }
                FieldType::Double if !v.is_number() => {
                    errs.push(SfError::new(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        format!("{}: value not of required type: {v}", f.name),
                        &[f.name],
                    ));
                }
                FieldType::DateTime if v.as_str().and_then(parse_time).is_none() => {
                    errs.push(SfError::new(
                        "INVALID_TYPE_ON_FIELD_IN_RECORD",
                        format!("{}: value not of required type: {v}", f.name),
                        &[f.name],
                    ));
                }
                FieldType::Reference => {
                    let id = v.as_str().unwrap_or("");
                    if !ids::well_formed(id) {
                        errs.push(SfError::new(
                            "MALFORMED_ID",
                            format!("{}: id value of incorrect type: {id}", f.name),
                            &[f.name],
                        ));
                    } else {
                        let target = self.object_of_id(id);
                        let exists = target.is_some_and(|t| {
                            f.reference_to.iter().any(|r| *r == t.name)
                                && self.get(&t.name, id).is_some()
                        });
                        if !exists {
                            errs.push(SfError::new(
                                "INVALID_CROSS_REFERENCE_KEY",
                                format!("invalid cross reference id: {id}"),
                                &[f.name],
                            ));
                        } else if f.name == "OwnerId" && !self.queue_takes(id, &obj.name) {
                            // A record owned by a group must be owned by a
                            // queue that supports its object (QueueSobject).
                            errs.push(SfError::new(
                                "INVALID_CROSS_REFERENCE_KEY",
                                format!(
                                    "invalid cross reference id: {id} is not a queue for {}",
                                    obj.name
                                ),
                                &[f.name],
                            ));
                        }
                    }
                }
                FieldType::Picklist if f.restricted => {
                    let s = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    if !f.values.contains(&s.as_str()) {
                        errs.push(SfError::new(
                            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                            format!("{}: bad value for restricted picklist field: {s}", f.name),
                            &[f.name],
                        ));
                    }
                }
                FieldType::Base64 => {
                    use base64::Engine;
                    if v.as_str().is_none_or(|s| {
                        base64::engine::general_purpose::STANDARD.decode(s).is_err()
                    }) {
                        errs.push(SfError::new(
                            "INVALID_TYPE_ON_FIELD_IN_RECORD",
                            format!("{}: value not of required type: base64", f.name),
                            &[f.name],
                        ));
                    }
                }
                _ => {}
            }
            if f.length > 0 && !matches!(f.kind, FieldType::Reference | FieldType::Id) {
                if let Some(s) = v.as_str() {
                    let len = if f.bytes { s.len() } else { s.chars().count() };
                    if len > f.length {
                        let unit = if f.bytes { " bytes" } else { "" };
                        errs.push(SfError::new(
                            "STRING_TOO_LONG",
                            format!(
                                "{}: data value too large: {len}{unit} (max length={})",
                                f.name, f.length
                            ),
                            &[f.name],
                        ));
                    }
                }
            }
            if f.external_id {
                if let Some(s) = v.as_str() {
                    let others: Vec<String> = self
                        .find_by(&obj.name, f.name, s)
                        .into_iter()
                        .filter(|id| existing.and_then(|r| r["Id"].as_str()) != Some(id.as_str()))
                        .collect();
                    if let Some(other) = others.first() {
                        errs.push(SfError::new("DUPLICATE_VALUE", format!("duplicate value found: {} duplicates value on record with id: {other}", f.name), &[f.name]));
                    }
                }
            }
        }
        if existing.is_none() {
            if let Some(e) = self.duplicate(&obj.name, body) {
                errs.push(e);
            }
        }
        if existing.is_none() {
            for f in &obj.fields {
                let missing = f.required
                    && f.default.is_none()
                    && f.kind != FieldType::Boolean
                    && body.get(f.name).is_none_or(Value::is_null);
                if missing && f.createable(self.audit_for(&obj.name)) {
                    errs.push(SfError::new(
                        "REQUIRED_FIELD_MISSING",
                        format!("Required fields are missing: [{}]", f.name),
                        &[f.name],
                    ));
                }
            }
        }
        errs
    }

    /// Whether `owner` is a User, or a Queue that takes `object`.
    fn queue_takes(&self, owner: &str, object: &str) -> bool {
        if !owner.starts_with("00G") {
            return true;
        }
        let owner = ids::normalize(owner);
        let is_queue = self
            .get("Group", &owner)
            .is_some_and(|g| g.get("Type").and_then(Value::as_str) == Some("Queue"));
        is_queue
            && self.records["QueueSobject"].values().any(|q| {
                q.get("QueueId").and_then(Value::as_str) == Some(owner.as_str())
                    && q.get("SobjectType").and_then(Value::as_str) == Some(object)
            })
    }

    /// A second record with the natural key of an existing one, where the
    /// object has no external id (`schema::unique_key`).
    fn duplicate(&self, object: &str, body: &Map<String, Value>) -> Option<SfError> {
        let (fields, code) = super::schema::unique_key(object)?;
        let key = natural_key(object, body)?;
        let other = self.natural.get(object)?.get(&key)?;
        Some(SfError::new(
            code,
            format!(
                "duplicate value found: {} duplicates value on record with id: {other}",
                fields.join(", ")
            ),
            fields,
        ))
    }

    /// `CreatedDate` and friends: given (with the permission) or now.
    fn stamp(&self, object: &str, rec: &mut Map<String, Value>, insert: bool) {
        let now = now_iso();
        if insert {
            rec.entry("CreatedDate").or_insert_with(|| json!(now));
            rec.entry("CreatedById")
                .or_insert_with(|| json!(self.api_user));
            rec.insert("IsDeleted".into(), json!(false));
        }
        if object != "User" || !insert {
            rec.insert("LastModifiedDate".into(), json!(now));
            rec.insert("LastModifiedById".into(), json!(self.api_user));
        }
        rec.insert("SystemModstamp".into(), json!(now));
    }

    /// Fields the org computes.
    fn derive(&mut self, object: &str, rec: &mut Map<String, Value>) {
        let s = |r: &Map<String, Value>, k: &str| {
            r.get(k).and_then(Value::as_str).unwrap_or("").to_string()
        };
        match object {
            "Contact" | "User" => {
                let name = format!("{} {}", s(rec, "FirstName"), s(rec, "LastName"))
                    .trim()
                    .to_string();
                rec.insert("Name".into(), json!(name));
            }
            "Case" => {
                if !rec.contains_key("CaseNumber") {
                    self.case_number += 1;
                    rec.insert(
                        "CaseNumber".into(),
                        json!(format!("{:08}", self.case_number)),
                    );
                }
                let closed = s(rec, "Status") == "Closed";
                rec.insert("IsClosed".into(), json!(closed));
                if closed && rec.get("ClosedDate").is_none_or(Value::is_null) {
                    rec.insert("ClosedDate".into(), json!(now_iso()));
                }
                if !closed {
                    rec.insert("ClosedDate".into(), Value::Null);
                }
            }
            _ => {}
        }
    }

    fn apply_defaults(obj: &SObject, rec: &mut Map<String, Value>) {
        for f in &obj.fields {
            if let Some(d) = f.default {
                rec.entry(f.name).or_insert_with(|| json!(d));
            }
            if f.kind == FieldType::Boolean && f.access != Access::ReadOnly {
                rec.entry(f.name).or_insert(json!(false));
            }
        }
    }

    /// Creates a record (REST create, a collections item, a Bulk row).
    pub fn insert(&mut self, object: &str, body: &Map<String, Value>) -> Result<String, Errors> {
        let Some(obj) = self.object(object).cloned() else {
            return Err(vec![SfError::new(
                "NOT_FOUND",
                format!("The requested resource does not exist: sobject {object}"),
                &[],
            )]);
        };
        if body.contains_key("Id") {
            return Err(vec![SfError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Id not specified in an insert call",
                &["Id"],
            )]);
        }
        let body = self.resolve_relationships(&obj, body)?;
        let errs = self.validate(&obj, &body, None);
        if !errs.is_empty() {
            return Err(errs);
        }
        let id = self.mint(&obj.prefix);
        let mut rec = Map::new();
        rec.insert("Id".into(), json!(id));
        for (k, v) in &body {
            let name = obj.field(k).map(|f| f.name).unwrap_or(k);
            rec.insert(name.to_string(), v.clone());
        }
        Self::apply_defaults(&obj, &mut rec);
        rec.entry("OwnerId").or_insert_with(|| json!(self.api_user));
        if !obj.fields.iter().any(|f| f.name == "OwnerId") {
            rec.remove("OwnerId");
        }
        self.stamp(&obj.name, &mut rec, true);
        self.derive(&obj.name, &mut rec);
        if obj.name == "ContentVersion" {
            self.publish_version(&id, &mut rec);
        }
        if obj.name == "EmailMessage" {
            rec.insert("HasAttachment".into(), json!(false));
        }
        self.put(&obj.name, rec);
        Ok(id)
    }

    /// A new ContentVersion makes its ContentDocument, and a link to
    /// `FirstPublishLocationId` when given; its bytes move to `blobs`.
    fn publish_version(&mut self, id: &str, rec: &mut Map<String, Value>) {
        use base64::Engine;
        let data = rec
            .remove("VersionData")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_default();
        rec.insert("ContentSize".into(), json!(bytes.len()));
        rec.insert("Checksum".into(), json!(hex::encode(md5ish(&bytes))));
        rec.insert(
            "VersionData".into(),
            json!(format!(
                "/services/data/v62.0/sobjects/ContentVersion/{id}/VersionData"
            )),
        );
        self.blobs.insert(id.to_string(), bytes);
        let doc = self.seed(
            "ContentDocument",
            json!({"Title": rec.get("Title").cloned().unwrap_or_default(), "LatestPublishedVersionId": id}),
        );
        rec.insert("ContentDocumentId".into(), json!(doc));
        if let Some(parent) = rec
            .get("FirstPublishLocationId")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            self.seed(
                "ContentDocumentLink",
                json!({"ContentDocumentId": doc, "LinkedEntityId": parent, "ShareType": "V", "Visibility": "AllUsers"}),
            );
            if parent.starts_with("02s") {
                if let Some(m) = self
                    .records
                    .get_mut("EmailMessage")
                    .and_then(|r| r.get_mut(&parent))
                {
                    m.insert("HasAttachment".into(), json!(true));
                }
            }
        }
    }

    /// Updates a record by id.
    pub fn update(
        &mut self,
        object: &str,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<(), Errors> {
        let Some(obj) = self.object(object).cloned() else {
            return Err(vec![SfError::new(
                "NOT_FOUND",
                format!("The requested resource does not exist: sobject {object}"),
                &[],
            )]);
        };
        let id = ids::normalize(id);
        let Some(existing) = self.records[&obj.name].get(&id).cloned() else {
            return Err(vec![SfError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            )]);
        };
        let mut body = self.resolve_relationships(&obj, body)?;
        body.remove("Id");
        let errs = self.validate(&obj, &body, Some(&existing));
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut rec = existing;
        for (k, v) in body {
            let name = obj.field(&k).map(|f| f.name).unwrap_or(&k).to_string();
            rec.insert(name, v);
        }
        self.stamp(&obj.name, &mut rec, false);
        self.derive(&obj.name, &mut rec);
        self.put(&obj.name, rec);
        Ok(())
    }

    /// Upserts by external id `field` = `value` (REST, collections, Bulk):
    /// no match creates, one match updates, more than one is an error.
    /// Whether the API user may set `object`'s audit fields on insert.
    pub fn audit_for(&self, object: &str) -> bool {
        self.audit_permission && (object != "CaseComment" || self.case_comment_audit)
    }

    pub fn upsert(
        &mut self,
        object: &str,
        field: &str,
        value: &str,
        body: &Map<String, Value>,
    ) -> Result<(String, Upserted), Errors> {
        let Some(obj) = self.object(object).cloned() else {
            return Err(vec![SfError::new(
                "NOT_FOUND",
                format!("The requested resource does not exist: sobject {object}"),
                &[],
            )]);
        };
        let Some(fd) = obj
            .field(field)
            .filter(|f| f.external_id || f.kind == FieldType::Id)
        else {
            return Err(vec![SfError::new(
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {field}"),
                &[field],
            )]);
        };
        if value.is_empty() {
            return Err(vec![SfError::new(
                "MISSING_ARGUMENT",
                format!("{} not specified", fd.name),
                &[fd.name],
            )]);
        }
        // Audit fields are set on insert only, never through an upsert
        // (help.salesforce.com 000176484, "Considerations and Activation of
        // Create Audit Fields": "this only works for INSERT, not UPSERT").
        let audit: Vec<&str> = body
            .iter()
            .filter(|(k, v)| {
                !v.is_null() && obj.field(k).is_some_and(|f| f.access == Access::Audit)
            })
            .map(|(k, _)| k.as_str())
            .collect();
        if !audit.is_empty() {
            return Err(vec![SfError::new(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!("Unable to create/update fields: {}. Audit fields can be set on insert only, not through an upsert.", audit.join(", ")),
                &audit,
            )]);
        }
        let matches = self.find_by(&obj.name, fd.name, value);
        match matches.as_slice() {
            [] => {
                let mut b = body.clone();
                b.insert(fd.name.to_string(), json!(value));
                Ok((self.insert(&obj.name, &b)?, Upserted::Created))
            }
            [id] => {
                let mut b = body.clone();
                b.remove(fd.name);
                let id = id.clone();
                self.update(&obj.name, &id, &b)?;
                Ok((id, Upserted::Updated))
            }
            _ => Err(vec![SfError::new(
                "DUPLICATE_EXTERNAL_ID",
                format!("{} duplicates value on {} records", fd.name, matches.len()),
                &[fd.name],
            )]),
        }
    }

    pub fn delete(&mut self, object: &str, id: &str) -> Result<(), Errors> {
        let id = ids::normalize(id);
        let Some(name) = self.canonical(object) else {
            return Err(vec![SfError::new(
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            )]);
        };
        // ContentVersion supports no delete call; its ContentDocument does,
        // and takes every version with it (object reference, ContentDocument).
        if name == "ContentVersion" && self.get(&name, &id).is_some() {
            return Err(vec![SfError::new(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "a ContentVersion cannot be deleted: delete its ContentDocument",
                &[],
            )]);
        }
        match self.take(&name, &id) {
            Some(_) => {
                self.blobs.remove(&id);
                self.cascade(&name, &id);
                Ok(())
            }
            None => Err(vec![SfError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            )]),
        }
    }

    /// What goes with a deleted record: a Case's EmailMessages and
    /// CaseComments, an EmailMessage's relations, a ContentDocument's
    /// versions, anything's file links.
    fn cascade(&mut self, object: &str, id: &str) {
        let children: &[(&str, &str)] = match object {
            "Case" => &[
                ("EmailMessage", "ParentId"),
                ("CaseComment", "ParentId"),
                ("ContentDocumentLink", "LinkedEntityId"),
                ("TopicAssignment", "EntityId"),
            ],
            "ContentDocument" => &[
                ("ContentVersion", "ContentDocumentId"),
                ("ContentDocumentLink", "ContentDocumentId"),
            ],
            "Group" => &[("QueueSobject", "QueueId"), ("GroupMember", "GroupId")],
            "Topic" => &[("TopicAssignment", "TopicId")],
            "EmailMessage" => &[
                ("EmailMessageRelation", "EmailMessageId"),
                ("ContentDocumentLink", "LinkedEntityId"),
            ],
            _ => &[
                ("ContentDocumentLink", "LinkedEntityId"),
                ("TopicAssignment", "EntityId"),
            ],
        };
        for (child, field) in children {
            let ids: Vec<String> = self.records[*child]
                .iter()
                .filter(|(_, r)| r.get(*field).and_then(Value::as_str) == Some(id))
                .map(|(k, _)| k.clone())
                .collect();
            for c in ids {
                self.take(child, &c);
                self.blobs.remove(&c);
                self.cascade(child, &c);
            }
        }
    }

    /// A record as `GET /sobjects/{o}/{id}` returns it.
    pub fn public(&self, object: &str, rec: &Map<String, Value>, version: &str) -> Value {
        let mut out = Map::new();
        let id = rec["Id"].as_str().unwrap_or("");
        out.insert(
            "attributes".into(),
            json!({"type": object, "url": format!("/services/data/v{version}/sobjects/{object}/{id}")}),
        );
        if let Some(obj) = self.object(object) {
            for f in &obj.fields {
                out.insert(
                    f.name.to_string(),
                    rec.get(f.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
        Value::Object(out)
    }

    /// Every record with ContentVersion bytes as SHA-256, for `/__sim/dump`.
    pub fn dump(&self) -> Value {
        let mut out = Map::new();
        for (name, recs) in &self.records {
            let list: Vec<Value> = recs
                .values()
                .map(|r| {
                    let mut r = r.clone();
                    if name == "ContentVersion" {
                        let id = r["Id"].as_str().unwrap_or("").to_string();
                        if let Some(b) = self.blobs.get(&id) {
                            r.insert("sha256".into(), json!(hex::encode(Sha256::digest(b))));
                        }
                    }
                    Value::Object(r)
                })
                .collect();
            out.insert(name.clone(), Value::Array(list));
        }
        Value::Object(out)
    }
}

/// ContentVersion's `Checksum` is an MD5 in the real org; the simulator
/// gives the first 16 bytes of the SHA-256 (no md5 crate for one field).
fn md5ish(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b)[..16].to_vec()
}
