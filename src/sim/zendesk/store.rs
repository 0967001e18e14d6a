//! What the Zendesk simulator has accepted, and the validation rules the
//! real API applies before accepting it.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::lookups::Lookups;

/// Zendesk's per-comment body limit: about 64 KB, in bytes of the body
/// as sent (HTML included), not characters.
pub const MAX_COMMENT_BYTES: usize = 65_535;
/// Zendesk's per-ticket comment limit.
pub const MAX_COMMENTS: usize = 5_000;
/// Fields per custom object.
pub const MAX_OBJECT_FIELDS: usize = 100;
/// Bytes per custom object record.
pub const MAX_RECORD_BYTES: usize = 32 * 1024;
const STATUSES: &[&str] = &["new", "open", "pending", "hold", "solved", "closed"];
const PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];

/// A per-item failure: (field, description), rendered like Zendesk's
/// `RecordInvalid` details.
pub type Invalid = (String, String);

pub(super) fn invalid(field: &str, description: impl Into<String>) -> Invalid {
    (field.to_string(), description.into())
}

/// Renders a 422 body.
pub fn record_invalid(errors: &[Invalid]) -> Value {
    let mut details = Map::new();
    for (field, desc) in errors {
        details
            .entry(field.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(json!({"description": desc, "error": "InvalidValue"}));
    }
    json!({"error": "RecordInvalid", "description": "Record validation errors", "details": details})
}

/// Everything stored, keyed by Zendesk id.
#[derive(Default)]
pub struct Store {
    next_id: u64,
    pub organizations: BTreeMap<u64, Value>,
    pub users: BTreeMap<u64, Value>,
    pub identities: BTreeMap<u64, Value>,
    pub groups: BTreeMap<u64, Value>,
    pub group_memberships: BTreeMap<u64, Value>,
    pub uploads: BTreeMap<String, Value>,
    pub tickets: BTreeMap<u64, Value>,
    pub custom_objects: BTreeMap<String, Value>,
    pub custom_object_records: BTreeMap<u64, Value>,
    /// Field definitions: `user_fields`, `organization_fields`, `ticket_fields`.
    pub fields: BTreeMap<&'static str, BTreeMap<u64, Value>>,
    /// Uploaded bytes by (token, file name), served at each attachment's
    /// `content_url` so a verifier can hash what Zendesk really holds.
    pub files: std::collections::HashMap<(String, String), bytes::Bytes>,
    lookups: Lookups,
    /// When each upload token was issued, and how long tokens live.
    upload_issued: std::collections::HashMap<String, std::time::Instant>,
    upload_ttl: std::time::Duration,
}

/// A custom object record id as the records API gives it: a string
/// (Custom Object Records API: `id` is a string, ULID-like in the docs'
/// examples), never a number a client could mistake for a row id.
pub fn record_id(n: u64) -> String {
    format!("01HSIM{n:020}")
}

/// The store key behind a record id from [`record_id`].
pub fn parse_record_id(id: &str) -> Option<u64> {
    id.strip_prefix("01HSIM")?.parse().ok()
}

/// A date field's value: null, or a day as `YYYY-MM-DD` (the form the
/// Zendesk UI and API give date fields; a timestamp is refused).
fn is_day(v: &Value) -> bool {
    match v.as_str() {
        None => v.is_null(),
        Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() && t.len() == 10,
    }
}

pub(super) fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

impl Store {
    pub fn with_upload_ttl(upload_ttl: std::time::Duration) -> Store {
        Store {
            upload_ttl,
            ..Store::default()
        }
    }

    /// A token Zendesk still accepts: issued, and younger than its TTL.
    pub(super) fn upload_usable(&self, token: &str) -> bool {
        self.uploads.contains_key(token)
            && self
                .upload_issued
                .get(token)
                .is_some_and(|t| t.elapsed() < self.upload_ttl)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        // Zendesk ids are large integers; start high so an id is never
        // mistaken for a row number in tests.
        360_000_000_000 + self.next_id
    }

    /// Counts for `/__sim/stats`.
    pub fn counts(&self) -> Value {
        let comments: usize = self
            .tickets
            .values()
            .map(|t| t["comments"].as_array().map(|c| c.len()).unwrap_or(0))
            .sum();
        json!({
            "organizations": self.organizations.len(), "users": self.users.len(),
            "identities": self.identities.len(), "groups": self.groups.len(),
            "group_memberships": self.group_memberships.len(), "uploads": self.uploads.len(),
            "tickets": self.tickets.len(), "comments": comments,
            "custom_objects": self.custom_objects.len(),
            "custom_object_records": self.custom_object_records.len(),
        })
    }

    /// Everything, for `/__sim/dump`.
    pub fn dump(&self) -> Value {
        json!({
            "organizations": self.organizations.values().collect::<Vec<_>>(),
            "users": self.users.values().collect::<Vec<_>>(),
            "identities": self.identities.values().collect::<Vec<_>>(),
            "groups": self.groups.values().collect::<Vec<_>>(),
            "group_memberships": self.group_memberships.values().collect::<Vec<_>>(),
            "uploads": self.uploads.values().collect::<Vec<_>>(),
            "tickets": self.tickets.values().collect::<Vec<_>>(),
            "custom_objects": self.custom_objects.values().collect::<Vec<_>>(),
            "custom_object_records": self.custom_object_records.values().collect::<Vec<_>>(),
            "user_fields": self.fields.get("user_fields").map(|m| m.values().collect::<Vec<_>>()).unwrap_or_default(),
            "organization_fields": self.fields.get("organization_fields").map(|m| m.values().collect::<Vec<_>>()).unwrap_or_default(),
            "ticket_fields": self.fields.get("ticket_fields").map(|m| m.values().collect::<Vec<_>>()).unwrap_or_default(),
        })
    }

    /// Looks up records of `object` by external id.
    pub fn by_external_ids(&self, object: &str, ids: &[&str]) -> Vec<Value> {
        let map = match object {
            "organizations" => &self.organizations,
            "users" => &self.users,
            "tickets" => &self.tickets,
            "custom_object_records" => &self.custom_object_records,
            _ => return Vec::new(),
        };
        map.values()
            .filter(|v| s(v, "external_id").is_some_and(|e| ids.contains(&e)))
            .cloned()
            .collect()
    }

    /// `organizations/create_many` item.
    pub fn create_organization(&mut self, o: &Value) -> Result<u64, Vec<Invalid>> {
        let mut errs = Vec::new();
        let name = s(o, "name").unwrap_or("").trim().to_string();
        if name.is_empty() {
            errs.push(invalid("name", "Name: cannot be blank"));
        } else if self.lookups.org_name_taken(&name) {
            errs.push(invalid("name", "Name: has already been taken"));
        }
        if let Some(ext) = s(o, "external_id") {
            if self.lookups.org_by_external_id(ext).is_some() {
                errs.push(invalid("external_id", "External: has already been taken"));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let id = self.id();
        let mut rec = o.clone();
        rec["id"] = json!(id);
        rec["created_at"] = json!(now_iso());
        rec["updated_at"] = rec["created_at"].clone();
        if rec.get("organization_fields").is_some() {
            rec["organization_fields"] =
                self.known_fields("organization_fields", o.get("organization_fields"));
        }
        self.lookups.add_org(id, &rec);
        self.organizations.insert(id, rec);
        Ok(id)
    }

    /// A user the account held before the migration (created in its UI
    /// long ago); returns its id.
    pub fn seed_user(&mut self, u: &Value) -> u64 {
        let id = self.id();
        let mut rec = u.clone();
        rec["id"] = json!(id);
        if rec.get("role").is_none() {
            rec["role"] = json!("end-user");
        }
        if let Some(e) = s(u, "email") {
            rec["email"] = json!(e.to_lowercase());
        }
        rec["active"] = json!(true);
        rec["created_at"] = json!("2019-03-04T09:00:00Z");
        rec["updated_at"] = rec["created_at"].clone();
        self.lookups.add_user(id, &rec);
        self.users.insert(id, rec);
        id
    }

    /// The user with this (lowercased) primary email.
    pub fn user_id_by_email(&self, email: &str) -> Option<u64> {
        self.lookups.user_by_email(&email.to_lowercase())
    }

    /// `POST /api/v2/users` (Create User): a new user only; an email or
    /// external id already taken is refused.
    pub fn create_user(&mut self, u: &Value) -> Result<u64, Vec<Invalid>> {
        let email = s(u, "email").map(|e| e.to_lowercase());
        let mut errs = Vec::new();
        if let Some(e) = &email {
            if self.lookups.owner_of(e).is_some() {
                errs.push(invalid(
                    "email",
                    format!("Email: {e} is already being used by another user"),
                ));
            }
        }
        if let Some(x) = s(u, "external_id") {
            if self.lookups.user_by_external_id(x).is_some() {
                errs.push(invalid("external_id", "External: has already been taken"));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        self.create_or_update_user(u).map(|(id, _)| id)
    }

    /// `PUT /api/v2/users/{id}` (Update User): the given fields replace
    /// the stored ones.
    pub fn update_user(&mut self, id: u64, u: &Value) -> Result<Value, Vec<Invalid>> {
        let Some(existing) = self.users.get(&id).cloned() else {
            return Err(vec![invalid("id", "User: not found")]);
        };
        if let Some(org) = u.get("organization_id").and_then(|v| v.as_u64()) {
            if !self.organizations.contains_key(&org) {
                return Err(vec![invalid("organization_id", "Organization: is invalid")]);
            }
        }
        let mut rec = existing.clone();
        self.lookups.remove_user(id, &existing);
        for (k, v) in u.as_object().into_iter().flatten() {
            if k == "user_fields" {
                rec[k] = self.known_fields("user_fields", Some(v));
            } else if k != "id" {
                rec[k] = v.clone();
            }
        }
        rec["updated_at"] = json!(now_iso());
        self.lookups.add_user(id, &rec);
        self.users.insert(id, rec.clone());
        Ok(rec)
    }

    /// `users/create_or_update_many` item: matched by external_id, then email.
    pub fn create_or_update_user(&mut self, u: &Value) -> Result<(u64, bool), Vec<Invalid>> {
        let mut errs = Vec::new();
        if s(u, "name").unwrap_or("").trim().is_empty() {
            errs.push(invalid("name", "Name: cannot be blank"));
        }
        let role = s(u, "role").unwrap_or("end-user");
        if !["end-user", "agent", "admin"].contains(&role) {
            errs.push(invalid("role", format!("Role: {role} is not valid")));
        }
        if let Some(org) = u.get("organization_id").and_then(|v| v.as_u64()) {
            if !self.organizations.contains_key(&org) {
                errs.push(invalid("organization_id", "Organization: is invalid"));
            }
        }
        let email = s(u, "email").map(|e| e.to_lowercase());
        if let Some(e) = &email {
            if !e.contains('@') {
                errs.push(invalid(
                    "email",
                    format!("Email: {e} is not properly formatted"),
                ));
            }
        }
        let matched = s(u, "external_id")
            .and_then(|x| self.lookups.user_by_external_id(x))
            .or_else(|| email.as_deref().and_then(|e| self.lookups.user_by_email(e)));
        if let Some(e) = &email {
            let owner = self.lookups.owner_of(e);
            if owner.is_some() && owner != matched {
                errs.push(invalid(
                    "email",
                    format!("Email: {e} is already being used by another user"),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut rec = u.clone();
        if let Some(e) = email {
            rec["email"] = json!(e);
        }
        if rec.get("user_fields").is_some() {
            rec["user_fields"] = self.known_fields("user_fields", u.get("user_fields"));
        }
        match matched {
            Some(id) => {
                let existing = self.users.get_mut(&id).unwrap();
                self.lookups.remove_user(id, existing);
                for (k, v) in rec.as_object().unwrap() {
                    existing[k] = v.clone();
                }
                existing["updated_at"] = json!(now_iso());
                self.lookups.add_user(id, existing);
                Ok((id, false))
            }
            None => {
                let id = self.id();
                rec["id"] = json!(id);
                rec["role"] = json!(role);
                rec["created_at"] = json!(now_iso());
                rec["updated_at"] = rec["created_at"].clone();
                self.lookups.add_user(id, &rec);
                self.users.insert(id, rec);
                Ok((id, true))
            }
        }
    }

    /// `POST users/{id}/identities`.
    pub fn create_identity(&mut self, user: u64, i: &Value) -> Result<u64, Vec<Invalid>> {
        if !self.users.contains_key(&user) {
            return Err(vec![invalid("user_id", "User: not found")]);
        }
        let ty = s(i, "type").unwrap_or("");
        if !["email", "phone_number"].contains(&ty) {
            return Err(vec![invalid("type", format!("Type: {ty} is not valid"))]);
        }
        let value = s(i, "value").unwrap_or("").to_string();
        let value = if ty == "email" {
            value.to_lowercase()
        } else {
            value
        };
        let taken = self.lookups.identity_taken(&value)
            || (ty == "email" && self.lookups.user_by_email(&value).is_some());
        if value.is_empty() || taken {
            return Err(vec![invalid(
                "value",
                format!("Value: {value} is already being used by another user"),
            )]);
        }
        let id = self.id();
        self.lookups.add_identity(user, &value);
        self.identities.insert(
            id,
            json!({"id": id, "user_id": user, "type": ty, "value": value}),
        );
        Ok(id)
    }

    /// `POST groups`.
    pub fn create_group(&mut self, g: &Value) -> Result<u64, Vec<Invalid>> {
        let name = s(g, "name").unwrap_or("").trim().to_string();
        if name.is_empty() {
            return Err(vec![invalid("name", "Name: cannot be blank")]);
        }
        if self
            .groups
            .values()
            .any(|x| s(x, "name") == Some(name.as_str()))
        {
            return Err(vec![invalid("name", "Name: has already been taken")]);
        }
        let id = self.id();
        let mut rec = g.clone();
        rec["id"] = json!(id);
        rec["created_at"] = json!(now_iso());
        rec["updated_at"] = rec["created_at"].clone();
        self.groups.insert(id, rec);
        Ok(id)
    }

    /// `group_memberships/create_many` item.
    pub fn create_membership(&mut self, m: &Value) -> Result<u64, Vec<Invalid>> {
        let user = m["user_id"].as_u64().filter(|u| {
            self.users
                .get(u)
                .is_some_and(|x| s(x, "role") != Some("end-user"))
        });
        let group = m["group_id"]
            .as_u64()
            .filter(|g| self.groups.contains_key(g));
        if user.is_none() || group.is_none() {
            return Err(vec![invalid(
                "user_id",
                "User and group must exist; the user must be an agent",
            )]);
        }
        if self
            .group_memberships
            .values()
            .any(|m| m["user_id"].as_u64() == user && m["group_id"].as_u64() == group)
        {
            return Err(vec![invalid(
                "user_id",
                "User: is already a member of this group",
            )]);
        }
        let id = self.id();
        let now = now_iso();
        self.group_memberships.insert(
            id,
            json!({"id": id, "user_id": user, "group_id": group, "default": false,
                   "created_at": now, "updated_at": now}),
        );
        Ok(id)
    }

    /// `POST uploads`: returns the token.
    pub fn create_upload(
        &mut self,
        base_url: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        token: Option<String>,
    ) -> Value {
        let id = self.id();
        let token = token.unwrap_or_else(|| format!("tok{id:x}"));
        let name_q: String = url::form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
        let attachment = json!({"id": id, "file_name": file_name, "content_type": content_type, "size": bytes.len(),
            "content_url": format!("{base_url}/attachments/token/{token}/?name={name_q}"),
            "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))});
        self.files.insert(
            (token.clone(), file_name.to_string()),
            bytes::Bytes::copy_from_slice(bytes),
        );
        self.upload_issued
            .entry(token.clone())
            .or_insert_with(std::time::Instant::now);
        let entry = self
            .uploads
            .entry(token.clone())
            .or_insert_with(|| json!({"token": token, "attachments": []}));
        entry["attachments"]
            .as_array_mut()
            .unwrap()
            .push(attachment.clone());
        json!({"upload": {"token": token, "attachment": attachment, "attachments": entry["attachments"].clone()}})
    }

    /// A ticket as `GET /api/v2/tickets/{id}` shows it: comments are not
    /// part of the ticket resource.
    pub fn ticket_view(&self, id: u64) -> Option<Value> {
        let mut t = self.tickets.get(&id)?.clone();
        // The ticket resource's own fields (Tickets API, "JSON format"):
        // `description` is the first comment, `fields` repeats
        // `custom_fields`, `is_public` says whether any comment is public.
        let comments = t["comments"].as_array().cloned().unwrap_or_default();
        let first = comments.first();
        t["description"] = first
            .and_then(|c| c.get("body").or(c.get("html_body")).cloned())
            .unwrap_or(Value::Null);
        t["is_public"] = json!(comments.iter().any(|c| c["public"] != Value::Bool(false)));
        if t["custom_fields"].is_null() {
            t["custom_fields"] = json!([]);
        }
        t["fields"] = t["custom_fields"].clone();
        if t["tags"].is_null() {
            t["tags"] = json!([]);
        }
        for key in [
            "type",
            "assignee_id",
            "group_id",
            "organization_id",
            "priority",
            "due_at",
            "problem_id",
        ] {
            if t.get(key).is_none() {
                t[key] = Value::Null;
            }
        }
        t["via"] = json!({"channel": "api", "source": {"from": {}, "to": {}, "rel": null}});
        if t["followup_ids"].is_null() {
            t["followup_ids"] = json!([]);
        }
        if let Some(o) = t.as_object_mut() {
            o.remove("comments");
        }
        Some(t)
    }

    /// `GET /api/v2/tickets/{id}/comments`: oldest first, with ids.
    pub fn ticket_comments(&self, id: u64) -> Option<Vec<Value>> {
        let t = self.tickets.get(&id)?;
        Some(
            t["comments"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| {
                    let mut c = c.clone();
                    c["id"] = json!(id * 10_000 + i as u64);
                    c["type"] = json!("Comment");
                    // Zendesk answers every comment with both bodies
                    // (official spec, Ticket Comments "Bodies": `body` the
                    // text, `html_body` the HTML, `plain_body`), whichever
                    // one it was created with.
                    rendered_bodies(&mut c);
                    if let Some(o) = c.as_object_mut() {
                        o.remove("uploads");
                    }
                    c
                })
                .collect(),
        )
    }

    /// Records of `object` by Zendesk id.
    pub fn by_ids(&self, object: &str, ids: &[u64]) -> Vec<Value> {
        match object {
            "tickets" => ids.iter().filter_map(|i| self.ticket_view(*i)).collect(),
            "users" => ids
                .iter()
                .filter_map(|i| self.users.get(i).cloned())
                .collect(),
            "organizations" => ids
                .iter()
                .filter_map(|i| self.organizations.get(i).cloned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `POST /api/v2/{kind}` for a field definition.
    pub fn create_field(&mut self, kind: &'static str, f: &Value) -> Result<u64, Vec<Invalid>> {
        const TYPES: &[&str] = &[
            "text",
            "textarea",
            "checkbox",
            "date",
            "integer",
            "decimal",
            "regexp",
            "dropdown",
            "tagger",
            "multiselect",
            "lookup",
        ];
        let mut errs = Vec::new();
        if s(f, "title").unwrap_or("").trim().is_empty() {
            errs.push(invalid("title", "Title: cannot be blank"));
        }
        match s(f, "type") {
            Some(t) if TYPES.contains(&t) => {}
            other => errs.push(invalid("type", format!("Type: {other:?} is not valid"))),
        }
        // A lookup field names its target (Lookup Relationships:
        // relationship_target_type, e.g. "zen:custom_object:{key}").
        if s(f, "type") == Some("lookup") && s(f, "relationship_target_type").is_none() {
            errs.push(invalid(
                "relationship_target_type",
                "Relationship target type: cannot be blank",
            ));
        }
        let existing = self.fields.entry(kind).or_default();
        if kind != "ticket_fields" {
            match s(f, "key") {
                None => errs.push(invalid("key", "Key: cannot be blank")),
                Some(k) if existing.values().any(|x| s(x, "key") == Some(k)) => {
                    errs.push(invalid("key", "Key: has already been taken"))
                }
                _ => {}
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let id = self.id();
        let mut rec = f.clone();
        rec["id"] = json!(id);
        rec["active"] = json!(true);
        rec["created_at"] = json!(now_iso());
        rec["updated_at"] = rec["created_at"].clone();
        self.fields.entry(kind).or_default().insert(id, rec);
        Ok(id)
    }

    /// The type of a field definition.
    fn field_type(&self, kind: &'static str, id: u64) -> Option<&str> {
        self.fields.get(kind)?.get(&id).and_then(|f| s(f, "type"))
    }

    /// A ticket's value for a lookup field (`{id, value}`): the id of the
    /// record it names (Lookup Relationships, "Setting lookup field
    /// values": by id or by `external_id:`), which must exist; `None` for a
    /// field that is not a lookup or an empty value.
    pub(super) fn ticket_lookup(&self, cf: &Value) -> Result<Option<String>, Invalid> {
        let Some(f) = cf["id"]
            .as_u64()
            .and_then(|id| self.fields.get("ticket_fields")?.get(&id))
        else {
            return Ok(None);
        };
        if s(f, "type") != Some("lookup") || cf["value"].is_null() {
            return Ok(None);
        }
        let target = s(f, "relationship_target_type").unwrap_or("");
        let text = cf["value"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| cf["value"].to_string());
        self.lookup_target(target, &text).map(Some).ok_or_else(|| {
            invalid(
                "custom_fields",
                format!(
                    "Custom field {}: {text} is not a valid {target} record",
                    cf["id"]
                ),
            )
        })
    }

    /// Keeps only the custom field values whose key is defined (Zendesk
    /// ignores the others).
    fn known_fields(&self, kind: &'static str, values: Option<&Value>) -> Value {
        let defined: Vec<&str> = self
            .fields
            .get(kind)
            .map(|m| m.values().filter_map(|f| s(f, "key")).collect())
            .unwrap_or_default();
        match values.and_then(|v| v.as_object()) {
            Some(o) => Value::Object(
                o.iter()
                    .filter(|(k, _)| defined.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            None => json!({}),
        }
    }

    /// `imports/tickets/create_many` item.
    pub fn import_ticket(&mut self, t: &Value) -> Result<u64, Vec<Invalid>> {
        let mut errs = Vec::new();
        for cf in t
            .get("custom_fields")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            let known = cf["id"].as_u64().is_some_and(|id| {
                self.fields
                    .get("ticket_fields")
                    .is_some_and(|m| m.contains_key(&id))
            });
            if !known {
                errs.push(invalid(
                    "custom_fields",
                    format!(
                        "Custom field {} is not a ticket field of this account",
                        cf["id"]
                    ),
                ));
            } else if let Err(e) = self.ticket_lookup(cf) {
                errs.push(e);
            } else if self.field_type("ticket_fields", cf["id"].as_u64().unwrap_or(0))
                == Some("date")
                && !is_day(&cf["value"])
            {
                errs.push(invalid(
                    "custom_fields",
                    format!(
                        "Custom field {}: {} is not a date (YYYY-MM-DD)",
                        cf["id"], cf["value"]
                    ),
                ));
            }
        }
        match t.get("requester_id").and_then(|v| v.as_u64()) {
            None => errs.push(invalid("requester_id", "Requester: cannot be blank")),
            Some(r) if !self.users.contains_key(&r) => {
                errs.push(invalid("requester_id", "Requester: is invalid"))
            }
            _ => {}
        }
        errs.extend(self.ticket_field_errors(t));
        let now = chrono::Utc::now();
        for field in ["created_at", "updated_at", "solved_at"] {
            if let Some(ts) = s(t, field).and_then(|x| chrono::DateTime::parse_from_rfc3339(x).ok())
            {
                if ts > now + chrono::Duration::minutes(5) {
                    errs.push(invalid(field, format!("{field}: cannot be in the future")));
                }
            }
        }
        let comments = t
            .get("comments")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        if comments.len() > MAX_COMMENTS {
            errs.push(invalid(
                "comments",
                format!("Comments: a ticket can have at most {MAX_COMMENTS} comments"),
            ));
        }
        for (i, c) in comments.iter().enumerate() {
            errs.extend(self.comment_errors(c, "comments", &format!("Comment {i}")));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let id = self.id();
        let mut rec = t.clone();
        rec["id"] = json!(id);
        // A lookup field stores its target's id, whichever way it was set.
        if let Some(cfs) = rec.get_mut("custom_fields").and_then(|c| c.as_array_mut()) {
            for cf in cfs.iter_mut() {
                if let Ok(Some(target)) = self.ticket_lookup(cf) {
                    cf["value"] = json!(target);
                }
            }
        }
        // The import API keeps the given times; a ticket without them is
        // stamped now, as any new ticket.
        let now = now_iso();
        if rec["created_at"].is_null() {
            rec["created_at"] = json!(now);
        }
        if rec["updated_at"].is_null() {
            rec["updated_at"] = rec["created_at"].clone();
        }
        // Comments keep the attachments their upload tokens carried.
        if let Some(cs) = rec.get_mut("comments").and_then(|c| c.as_array_mut()) {
            for c in cs.iter_mut() {
                c["attachments"] = json!(self.upload_attachments(c));
            }
        }
        self.tickets.insert(id, rec);
        Ok(id)
    }

    /// What is wrong with a ticket's settable fields (an import, an update
    /// or a new ticket): people and groups that do not exist, statuses and
    /// priorities Zendesk does not have.
    pub(super) fn ticket_field_errors(&self, t: &Value) -> Vec<Invalid> {
        let mut errs = Vec::new();
        for (field, map) in [("assignee_id", &self.users), ("submitter_id", &self.users)] {
            if let Some(id) = t.get(field).and_then(|v| v.as_u64()) {
                if !map.contains_key(&id) {
                    errs.push(invalid(field, format!("{field}: is invalid")));
                }
            }
        }
        if let Some(g) = t.get("group_id").and_then(|v| v.as_u64()) {
            if !self.groups.contains_key(&g) {
                errs.push(invalid("group_id", "Group: is invalid"));
            }
        }
        if let Some(st) = s(t, "status") {
            if !STATUSES.contains(&st) {
                errs.push(invalid("status", format!("Status: {st} is not valid")));
            }
        }
        if let Some(p) = s(t, "priority") {
            if !PRIORITIES.contains(&p) {
                errs.push(invalid("priority", format!("Priority: {p} is not valid")));
            }
        }
        errs
    }

    /// What is wrong with one comment (`label` names it in the message,
    /// `field` is the key of Zendesk's error details).
    pub(super) fn comment_errors(&self, c: &Value, field: &str, label: &str) -> Vec<Invalid> {
        let mut errs = Vec::new();
        let body = s(c, "html_body")
            .or(s(c, "body"))
            .or(s(c, "value"))
            .unwrap_or("");
        if body.len() > MAX_COMMENT_BYTES {
            errs.push(invalid(
                field,
                format!("{label}: body is longer than {MAX_COMMENT_BYTES} bytes"),
            ));
        }
        if body.is_empty() {
            errs.push(invalid(field, format!("{label}: body cannot be blank")));
        }
        if let Some(a) = c.get("author_id").and_then(|v| v.as_u64()) {
            if !self.users.contains_key(&a) {
                errs.push(invalid(field, format!("{label}: author is invalid")));
            }
        }
        for tok in c
            .get("uploads")
            .and_then(|u| u.as_array())
            .into_iter()
            .flatten()
        {
            if !tok.as_str().is_some_and(|t| self.upload_usable(t)) {
                errs.push(invalid(
                    field,
                    format!("{label}: upload token {tok} is invalid or has expired"),
                ));
            }
        }
        errs
    }

    /// The files a comment's upload tokens carry.
    pub(super) fn upload_attachments(&self, c: &Value) -> Vec<Value> {
        c.get("uploads")
            .and_then(|u| u.as_array())
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str())
            .flat_map(|t| {
                self.uploads[t]["attachments"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// `POST custom_objects`.
    pub fn create_custom_object(&mut self, o: &Value) -> Result<String, Vec<Invalid>> {
        let key = s(o, "key").unwrap_or("").to_string();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(vec![invalid("key", format!("Key: {key:?} is not valid"))]);
        }
        if self.custom_objects.contains_key(&key) {
            return Err(vec![invalid("key", "Key: has already been taken")]);
        }
        let mut rec = o.clone();
        rec["fields"] = json!([]);
        self.custom_objects.insert(key.clone(), rec);
        Ok(key)
    }

    /// `POST custom_objects/{key}/fields`.
    pub fn create_custom_object_field(
        &mut self,
        key: &str,
        f: &Value,
    ) -> Result<u64, Vec<Invalid>> {
        let id = self.id();
        let Some(obj) = self.custom_objects.get_mut(key) else {
            return Err(vec![invalid("custom_object", "Custom object not found")]);
        };
        let fields = obj["fields"].as_array_mut().unwrap();
        if fields.iter().any(|x| x["key"] == f["key"]) {
            return Err(vec![invalid("key", "Key: has already been taken")]);
        }
        if fields.len() >= MAX_OBJECT_FIELDS {
            return Err(vec![invalid(
                "fields",
                format!("A custom object can have at most {MAX_OBJECT_FIELDS} fields"),
            )]);
        }
        // A lookup field names what it points at (official spec,
        // CustomObjectField.relationship_target_type: "zen:user",
        // "zen:organization", "zen:ticket" or "zen:custom_object:{key}").
        if s(f, "type") == Some("lookup") {
            let target = s(f, "relationship_target_type").unwrap_or("");
            let known = matches!(target, "zen:user" | "zen:organization" | "zen:ticket")
                || target
                    .strip_prefix("zen:custom_object:")
                    .is_some_and(|k| !k.is_empty());
            if !known {
                return Err(vec![invalid(
                    "relationship_target_type",
                    format!("Relationship target type: {target:?} is not a valid target"),
                )]);
            }
        }
        let mut rec = f.clone();
        rec["id"] = json!(id);
        fields.push(rec);
        Ok(id)
    }

    /// The id a lookup field stores for `value`: the target record's id, or
    /// `external_id:<x>` resolved to it (developer.zendesk.com, Lookup
    /// Relationships, "Setting lookup field values": by id, or by external
    /// id prefixed `external_id:`, "the id is stored as the lookup field
    /// value").
    fn lookup_target(&self, target: &str, value: &str) -> Option<String> {
        let by_ext = value.strip_prefix("external_id:");
        match target {
            "zen:user" => match by_ext {
                Some(x) => self.lookups.user_by_external_id(x).map(|i| i.to_string()),
                None => value
                    .parse::<u64>()
                    .ok()
                    .filter(|i| self.users.contains_key(i))
                    .map(|i| i.to_string()),
            },
            "zen:organization" => match by_ext {
                Some(x) => self.lookups.org_by_external_id(x).map(|i| i.to_string()),
                None => value
                    .parse::<u64>()
                    .ok()
                    .filter(|i| self.organizations.contains_key(i))
                    .map(|i| i.to_string()),
            },
            "zen:ticket" => value
                .parse::<u64>()
                .ok()
                .filter(|i| self.tickets.contains_key(i))
                .map(|i| i.to_string()),
            other => {
                let key = other.strip_prefix("zen:custom_object:")?;
                self.custom_object_records
                    .values()
                    .find(|r| {
                        s(r, "custom_object_key") == Some(key)
                            && match by_ext {
                                Some(x) => s(r, "external_id") == Some(x),
                                None => s(r, "id") == Some(value),
                            }
                    })
                    .and_then(|r| s(r, "id").map(str::to_string))
            }
        }
    }

    /// `custom_objects/{key}/jobs` create item.
    pub fn create_custom_object_record(
        &mut self,
        key: &str,
        r: &Value,
    ) -> Result<u64, Vec<Invalid>> {
        let Some(obj) = self.custom_objects.get(key) else {
            return Err(vec![invalid("custom_object", "Custom object not found")]);
        };
        // External ids are unique within a custom object.
        if let Some(ext) = s(r, "external_id") {
            if self
                .custom_object_records
                .values()
                .any(|x| x["custom_object_key"] == key && s(x, "external_id") == Some(ext))
            {
                return Err(vec![invalid(
                    "external_id",
                    "External id: has already been taken",
                )]);
            }
        }
        let size = serde_json::to_vec(r).map(|b| b.len()).unwrap_or(0);
        if size > MAX_RECORD_BYTES {
            return Err(vec![invalid(
                "custom_object_fields",
                format!("Record is {size} bytes; the limit is {MAX_RECORD_BYTES}"),
            )]);
        }
        let obj = obj.clone();
        let mut rec = self.checked_fields(&obj, r)?;
        let id = self.id();
        let now = now_iso();
        rec["id"] = json!(record_id(id));
        rec["custom_object_key"] = json!(key);
        rec["created_at"] = json!(now);
        rec["updated_at"] = json!(now);
        self.custom_object_records.insert(id, rec);
        Ok(id)
    }

    /// `r` with its custom object fields checked against the object's
    /// field definitions (known keys, dates as days) and each lookup
    /// resolved to its target's id, which must exist (Lookup
    /// Relationships: "To set by external id, provide an external id
    /// prefixed with the string external_id:").
    fn checked_fields(&self, obj: &Value, r: &Value) -> Result<Value, Vec<Invalid>> {
        let known: Vec<&str> = obj["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| s(f, "key"))
            .collect();
        for k in r
            .get("custom_object_fields")
            .and_then(|f| f.as_object())
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !known.contains(&k.as_str()) {
                return Err(vec![invalid(
                    "custom_object_fields",
                    format!("Unknown field {k}"),
                )]);
            }
            let is_date = obj["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| s(f, "key") == Some(k.as_str()) && s(f, "type") == Some("date"));
            if is_date && !is_day(&r["custom_object_fields"][k]) {
                return Err(vec![invalid(
                    "custom_object_fields",
                    format!(
                        "{k}: {} is not a date (YYYY-MM-DD)",
                        r["custom_object_fields"][k]
                    ),
                )]);
            }
        }
        let mut rec = r.clone();
        // Lookup fields hold the target's id, which must exist.
        let lookups: Vec<(String, String)> = obj["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| s(f, "type") == Some("lookup"))
            .filter_map(|f| {
                Some((
                    s(f, "key")?.to_string(),
                    s(f, "relationship_target_type")?.to_string(),
                ))
            })
            .collect();
        for (k, target) in lookups {
            let v = &r["custom_object_fields"][&k];
            if v.is_null() {
                continue;
            }
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match self.lookup_target(&target, &text) {
                Some(id) => rec["custom_object_fields"][&k] = json!(id),
                None => {
                    return Err(vec![invalid(
                        "custom_object_fields",
                        format!("{k}: {text} is not a valid {target} record"),
                    )])
                }
            }
        }
        Ok(rec)
    }

    /// A bulk job's `update` item: the record of this object with that
    /// `id` gets the given fields (checked as on create); others keep
    /// their values.
    pub fn update_custom_object_record(
        &mut self,
        key: &str,
        r: &Value,
    ) -> Result<u64, Vec<Invalid>> {
        let Some(obj) = self.custom_objects.get(key).cloned() else {
            return Err(vec![invalid("custom_object", "Custom object not found")]);
        };
        let Some(id) = s(r, "id").and_then(|i| {
            self.custom_object_records
                .iter()
                .find(|(_, x)| s(x, "id") == Some(i) && s(x, "custom_object_key") == Some(key))
                .map(|(k, _)| *k)
        }) else {
            return Err(vec![invalid(
                "id",
                "RecordNotFound: Custom object record not found",
            )]);
        };
        let checked = self.checked_fields(&obj, r)?;
        let rec = self.custom_object_records.get_mut(&id).unwrap();
        if let Some(fields) = checked["custom_object_fields"].as_object() {
            for (k, v) in fields {
                rec["custom_object_fields"][k] = v.clone();
            }
        }
        rec["updated_at"] = json!(now_iso());
        Ok(id)
    }

    /// `destroy_many`: the ids that existed and are gone now.
    pub fn destroy_ids(&mut self, object: &str, ids: &[u64]) -> Vec<u64> {
        ids.iter()
            .copied()
            .filter(|id| self.destroy(object, &[*id]) == 1)
            .collect()
    }

    /// Deletes records for rollback; returns how many existed.
    pub fn destroy(&mut self, object: &str, ids: &[u64]) -> usize {
        let map = match object {
            "organizations" => {
                for id in ids {
                    if let Some(o) = self.organizations.get(id) {
                        self.lookups.remove_org(o);
                    }
                }
                &mut self.organizations
            }
            "users" => {
                for id in ids {
                    if let Some(u) = self.users.get(id) {
                        self.lookups.remove_user(*id, u);
                    }
                }
                // A user's identities go with it.
                let gone_users: std::collections::HashSet<u64> = ids.iter().copied().collect();
                let lookups = &mut self.lookups;
                self.identities.retain(|_, i| {
                    let gone = i["user_id"]
                        .as_u64()
                        .is_some_and(|u| gone_users.contains(&u));
                    if gone {
                        lookups.remove_identity(s(i, "value").unwrap_or_default());
                    }
                    !gone
                });
                &mut self.users
            }
            "tickets" => &mut self.tickets,
            "groups" => &mut self.groups,
            "group_memberships" => &mut self.group_memberships,
            "custom_object_records" => &mut self.custom_object_records,
            "user_fields" | "organization_fields" | "ticket_fields" => {
                let kind = match object {
                    "user_fields" => "user_fields",
                    "organization_fields" => "organization_fields",
                    _ => "ticket_fields",
                };
                self.fields.entry(kind).or_default()
            }
            _ => return 0,
        };
        ids.iter().filter(|id| map.remove(id).is_some()).count()
    }
}

/// Fills the body a comment was not created with: a text comment's HTML
/// as Zendesk renders it (`<div class="zd-comment" dir="auto"><p …>`),
/// an HTML comment's text without its tags.
fn rendered_bodies(c: &mut Value) {
    let html = c["html_body"].as_str().map(str::to_string);
    let text = c["body"].as_str().map(str::to_string);
    match (text, html) {
        (Some(t), None) => {
            let escaped = t
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('\n', "<br>");
            c["html_body"] = json!(format!(
                "<div class=\"zd-comment\" dir=\"auto\"><p dir=\"auto\">{escaped}</p></div>"
            ));
            c["plain_body"] = json!(t);
        }
        (None, Some(h)) => {
            let mut out = String::new();
            let mut in_tag = false;
            for ch in h.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    _ if !in_tag => out.push(ch),
                    _ => {}
                }
            }
            let t = out
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            c["body"] = json!(t);
            c["plain_body"] = json!(t);
        }
        _ => {}
    }
}
