//! What the Enchant simulator holds, and the validation of create and
//! update bodies, written from the community OpenAPI spec
//! (`enchant-openapi-community.yaml`, from dev.enchant.com/api/v1): every
//! create body is `additionalProperties: false`, so a field the API does
//! not take is a 422, as are missing required fields and unknown ids.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// A 422 `Validation Failed` body's `errors[].message` texts.
pub type Invalid = Vec<String>;

/// One stored attachment: metadata and its bytes.
pub struct Attachment {
    pub meta: Value,
    pub bytes: Vec<u8>,
}

/// The help desk's data.
#[derive(Default)]
pub struct Store {
    seq: u64,
    pub users: Vec<Value>,
    pub inboxes: Vec<Value>,
    pub labels: Vec<Value>,
    pub customers: BTreeMap<String, Value>,
    pub tickets: BTreeMap<String, Value>,
    /// Messages per ticket id, in creation order.
    pub messages: BTreeMap<String, Vec<Value>>,
    pub attachments: BTreeMap<String, Attachment>,
    /// Outbound replies: each one is an email to a customer in the real API.
    pub emails_sent: u64,
    next_number: u64,
}

/// Every create schema's permitted keys (the spec's `properties`).
const TICKET_CREATE: &[&str] = &[
    "type",
    "subject",
    "customer_id",
    "customer",
    "user_id",
    "inbox_id",
    "messages",
    "reply_to",
    "reply_cc",
];
const TICKET_UPDATE: &[&str] = &[
    "user_id",
    "inbox_id",
    "state",
    "label_ids",
    "spam",
    "trash",
    "subject",
];
const CUSTOMER_INPUT: &[&str] = &["first_name", "last_name", "summary", "contacts"];
const CONTACT_INPUT: &[&str] = &["type", "value"];
const NOTE: &[&str] = &["type", "user_id", "body", "htmlized", "attachment_ids"];
const REPLY_IN: &[&str] = &[
    "type",
    "direction",
    "from_name",
    "from",
    "to",
    "body",
    "htmlized",
    "attachment_ids",
];
const REPLY_OUT: &[&str] = &[
    "type",
    "direction",
    "body",
    "htmlized",
    "user_id",
    "to",
    "attachment_ids",
];
const ATTACHMENT_CREATE: &[&str] = &["name", "type", "data"];

/// Unknown keys, missing required keys and non-object bodies.
fn shape(what: &str, v: &Value, allowed: &[&str], required: &[&str]) -> Invalid {
    let Some(o) = v.as_object() else {
        return vec![format!("{what} must be an object")];
    };
    let mut out: Invalid = o
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("{what}: {k} is not a permitted field"))
        .collect();
    for r in required {
        if o.get(*r).is_none_or(Value::is_null) {
            out.push(format!("{what}: {r} is required"));
        }
    }
    out
}

fn is_str(v: &Value, k: &str) -> bool {
    v.get(k).is_none_or(|x| x.is_string() || x.is_null())
}

pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Store {
    /// Seeded users, inboxes and labels (created in Enchant's UI in real
    /// life: the API has no endpoint to create them).
    pub fn seeded(
        users: &[(String, String, String)],
        inboxes: &[String],
        labels: &[String],
    ) -> Store {
        let mut s = Store {
            next_number: 1000,
            ..Default::default()
        };
        for (first, last, email) in users {
            let id = s.id(0x5010_0000);
            s.users
                .push(json!({"id": id, "first_name": first, "last_name": last, "email": email}));
        }
        for name in inboxes {
            let id = s.id(0x5330_0000);
            s.inboxes.push(json!({"id": id, "name": name}));
        }
        for name in labels {
            let id = s.id(0x41e0_0000);
            s.labels.push(json!({"id": id, "name": name}));
        }
        s
    }

    /// A new opaque hex id (the spec's ids look like `51e6e9`).
    pub fn id(&mut self, base: u64) -> String {
        self.seq += 1;
        format!("{:x}", base + self.seq)
    }

    fn user_exists(&self, id: &str) -> bool {
        self.users.iter().any(|u| u["id"] == id)
    }

    fn contacts(&self, what: &str, v: Option<&Value>) -> Invalid {
        let mut out = Invalid::new();
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return out;
        };
        let Some(list) = v.as_array() else {
            return vec![format!("{what}: contacts must be an array")];
        };
        for c in list {
            out.extend(shape(what, c, CONTACT_INPUT, &["type", "value"]));
            if !matches!(c["type"].as_str(), Some("email" | "twitter" | "phone")) {
                out.push(format!(
                    "{what}: contact type must be email, twitter or phone"
                ));
            }
        }
        out
    }

    /// Validates a `CustomerInput`.
    pub fn customer_invalid(&self, v: &Value) -> Invalid {
        let mut out = shape("customer", v, CUSTOMER_INPUT, &[]);
        for k in ["first_name", "last_name", "summary"] {
            if !is_str(v, k) {
                out.push(format!("customer: {k} must be a string"));
            }
        }
        out.extend(self.contacts("customer", v.get("contacts")));
        out
    }

    /// Creates a customer from a valid `CustomerInput`.
    pub fn create_customer(&mut self, v: &Value) -> Value {
        let id = self.id(0x51b0_0000);
        let contacts: Vec<Value> = v["contacts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let cid = self.id(0x61c0_0000);
                json!({"id": cid, "type": c["type"], "value": c["value"]})
            })
            .collect();
        let c = json!({"id": id, "first_name": v.get("first_name").cloned().unwrap_or(Value::Null),
            "last_name": v.get("last_name").cloned().unwrap_or(Value::Null),
            "summary": v.get("summary").cloned().unwrap_or(Value::Null),
            "contacts": contacts, "created_at": now()});
        self.customers.insert(id, c.clone());
        public_customer(&c)
    }

    /// The customer with an email contact `email` (case-insensitive).
    pub fn customer_by_email(&self, email: &str) -> Option<&Value> {
        self.customers.values().find(|c| {
            c["contacts"].as_array().is_some_and(|l| {
                l.iter().any(|x| {
                    x["type"] == "email"
                        && x["value"]
                            .as_str()
                            .is_some_and(|v| v.eq_ignore_ascii_case(email))
                })
            })
        })
    }

    /// Validates one `MessageCreate`; `Ok(outbound)` when it is valid.
    pub fn message_invalid(&self, m: &Value) -> Invalid {
        let (allowed, required): (&[&str], &[&str]) =
            match (m["type"].as_str(), m["direction"].as_str()) {
                (Some("note"), _) => (NOTE, &["type", "user_id", "body", "htmlized"]),
                (Some("reply"), Some("in")) => (
                    REPLY_IN,
                    &["type", "direction", "from_name", "from", "body", "htmlized"],
                ),
                (Some("reply"), Some("out")) => (
                    REPLY_OUT,
                    &["type", "direction", "body", "htmlized", "user_id", "to"],
                ),
                (Some("reply"), _) => return vec!["message: direction must be in or out".into()],
                _ => return vec!["message: type must be note or reply".into()],
            };
        let mut out = shape("message", m, allowed, required);
        if !m["htmlized"].is_boolean() && !m["htmlized"].is_null() {
            out.push("message: htmlized must be a boolean".into());
        }
        if !m["body"].is_string() && !m["body"].is_null() {
            out.push("message: body must be a string".into());
        }
        if let Some(u) = m["user_id"].as_str() {
            if !self.user_exists(u) {
                out.push(format!("message: user_id {u} does not exist"));
            }
        }
        for a in m["attachment_ids"].as_array().into_iter().flatten() {
            if !a.as_str().is_some_and(|a| self.attachments.contains_key(a)) {
                out.push(format!("message: attachment {a} does not exist"));
            }
        }
        out
    }

    /// Stores a valid message on `ticket`; returns it.
    pub fn add_message(&mut self, ticket: &str, m: &Value) -> Value {
        let id = self.id(0x6600_0000);
        let attachments: Vec<Value> = m["attachment_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .filter_map(|a| self.attachments.get(a).map(|x| x.meta.clone()))
            .collect();
        let outbound = m["direction"] == "out";
        if outbound {
            self.emails_sent += 1;
        }
        let msg = json!({"id": id, "type": m["type"], "direction": m.get("direction").cloned().unwrap_or(Value::Null),
            "from_name": m.get("from_name").cloned().unwrap_or(Value::Null),
            "from": m.get("from").cloned().unwrap_or(Value::Null),
            "to": m.get("to").cloned().unwrap_or(Value::Null),
            "body": m["body"], "more_body": null, "htmlized": m["htmlized"],
            "user_id": m.get("user_id").cloned().unwrap_or(Value::Null),
            "attachments": attachments, "created_at": now()});
        // A note has no direction. The spec's `Message.direction` is
        // optional and nullable; a null fails enchant-python-client's
        // enum (its generated model takes no value only as an absent
        // key), so a note leaves the key out, which both accept.
        let mut msg = msg;
        if msg["direction"].is_null() {
            if let Some(o) = msg.as_object_mut() {
                o.remove("direction");
            }
        }
        self.messages
            .entry(ticket.to_string())
            .or_default()
            .push(msg.clone());
        if let Some(t) = self.tickets.get_mut(ticket) {
            t["updated_at"] = json!(now());
        }
        msg
    }

    /// Validates a `TicketCreate`.
    pub fn ticket_invalid(&self, v: &Value) -> Invalid {
        let mut out = shape("ticket", v, TICKET_CREATE, &["type", "subject"]);
        if out.iter().any(|e| e.contains("must be an object")) {
            return out;
        }
        if v["type"] != "email" {
            out.push(
                "ticket: type must be email (only email tickets can be created via the public API)"
                    .into(),
            );
        }
        match (v.get("customer_id"), v.get("customer")) {
            (Some(id), None) => {
                if !id
                    .as_str()
                    .is_some_and(|id| self.customers.contains_key(id))
                {
                    out.push(format!("ticket: customer_id {id} does not exist"));
                }
            }
            (None, Some(c)) => out.extend(self.customer_invalid(c)),
            _ => out.push("ticket: exactly one of customer_id or customer is required".into()),
        }
        if let Some(u) = v.get("user_id").and_then(Value::as_str) {
            if !self.user_exists(u) {
                out.push(format!("ticket: user_id {u} does not exist"));
            }
        }
        if let Some(i) = v.get("inbox_id").and_then(Value::as_str) {
            if !self.inboxes.iter().any(|x| x["id"] == i) {
                out.push(format!("ticket: inbox_id {i} does not exist"));
            }
        }
        for m in v["messages"].as_array().into_iter().flatten() {
            out.extend(self.message_invalid(m));
        }
        out
    }

    /// Creates a ticket from a valid `TicketCreate`: state open, no labels.
    pub fn create_ticket(&mut self, v: &Value) -> Value {
        let customer_id = match v.get("customer_id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => {
                let c = &v["customer"];
                let email = c["contacts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["type"] == "email")
                    .and_then(|x| x["value"].as_str());
                // Matched by contact email, created if new.
                match email.and_then(|e| self.customer_by_email(e)) {
                    Some(found) => found["id"].as_str().unwrap_or_default().to_string(),
                    None => self.create_customer(c)["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                }
            }
        };
        let id = self.id(0x51e0_0000);
        self.next_number += 1;
        let inbox = v.get("inbox_id").cloned().unwrap_or_else(|| {
            self.inboxes
                .first()
                .map(|i| i["id"].clone())
                .unwrap_or(Value::Null)
        });
        let t = json!({"id": id, "number": self.next_number,
            "user_id": v.get("user_id").cloned().unwrap_or(Value::Null),
            "state": "open", "snoozed_until": null, "subject": v["subject"], "label_ids": [],
            "customer_id": customer_id, "type": "email", "inbox_id": inbox, "spam": false, "trash": false,
            "updated_at": now(), "created_at": now(), "summary": null});
        self.tickets.insert(id.clone(), t);
        for m in v["messages"].as_array().cloned().unwrap_or_default() {
            self.add_message(&id, &m);
        }
        self.tickets[&id].clone()
    }

    /// Validates a `TicketUpdate` against the ticket.
    pub fn ticket_update_invalid(&self, v: &Value) -> Invalid {
        let mut out = shape("ticket", v, TICKET_UPDATE, &[]);
        if let Some(s) = v.get("state") {
            if !matches!(s.as_str(), Some("open" | "hold" | "closed")) {
                out.push("ticket: state must be open, hold or closed".into());
            }
        }
        if v["spam"] == true && v["trash"] == true {
            out.push("ticket: spam and trash cannot both be true".into());
        }
        for l in v["label_ids"].as_array().into_iter().flatten() {
            if !self.labels.iter().any(|x| x["id"] == *l) {
                out.push(format!("ticket: label {l} does not exist"));
            }
        }
        if let Some(u) = v.get("user_id").and_then(Value::as_str) {
            if !self.user_exists(u) {
                out.push(format!("ticket: user_id {u} does not exist"));
            }
        }
        if v.get("label_ids").is_some_and(|l| !l.is_array()) {
            out.push("ticket: label_ids must be an array".into());
        }
        out
    }

    /// Applies a valid update.
    pub fn update_ticket(&mut self, id: &str, v: &Value) -> Value {
        let t = self.tickets.get_mut(id).expect("checked by the caller");
        if let Some(o) = v.as_object() {
            for (k, x) in o {
                t[k] = x.clone();
            }
        }
        t["updated_at"] = json!(now());
        t.clone()
    }

    /// Validates an `AttachmentCreate`; the decoded bytes when valid.
    pub fn attachment_invalid(v: &Value, max_bytes: usize) -> Result<Vec<u8>, Invalid> {
        let mut out = shape(
            "attachment",
            v,
            ATTACHMENT_CREATE,
            &["name", "type", "data"],
        );
        use base64::Engine;
        let bytes = v["data"]
            .as_str()
            .map(|d| base64::engine::general_purpose::STANDARD.decode(d));
        match bytes {
            Some(Ok(b)) if b.len() > max_bytes => {
                out.push(format!(
                    "attachment: data is {} bytes, over the {max_bytes}-byte limit",
                    b.len()
                ));
                Err(out)
            }
            Some(Ok(b)) if out.is_empty() => Ok(b),
            Some(Err(_)) => {
                out.push("attachment: data must be base64".into());
                Err(out)
            }
            _ => Err(out),
        }
    }

    pub fn add_attachment(&mut self, v: &Value, bytes: Vec<u8>) -> Value {
        let id = self.id(0x5338_0000);
        let meta = json!({"id": id, "name": v["name"], "size": bytes.len(), "type": v["type"]});
        self.attachments.insert(
            id,
            Attachment {
                meta: meta.clone(),
                bytes,
            },
        );
        meta
    }

    /// A ticket with the embeds asked for.
    pub fn ticket_with(&self, id: &str, embed: &[&str]) -> Option<Value> {
        let mut t = self.tickets.get(id)?.clone();
        for e in embed {
            match *e {
                "messages" => {
                    t["messages"] = json!(self.messages.get(id).cloned().unwrap_or_default())
                }
                "labels" => {
                    let ids = t["label_ids"].as_array().cloned().unwrap_or_default();
                    t["labels"] = json!(self
                        .labels
                        .iter()
                        .filter(|l| ids.contains(&l["id"]))
                        .collect::<Vec<_>>());
                }
                "customer" => {
                    let c = t["customer_id"]
                        .as_str()
                        .and_then(|c| self.customers.get(c));
                    t["customer"] = c.map(public_customer).unwrap_or(Value::Null);
                }
                "user" => {
                    let u = self.users.iter().find(|u| u["id"] == t["user_id"]);
                    t["user"] = u.cloned().unwrap_or(Value::Null);
                }
                "inbox" | "group" => {
                    let i = self.inboxes.iter().find(|i| i["id"] == t["inbox_id"]);
                    t["inbox"] = i.cloned().unwrap_or(Value::Null);
                }
                _ => {}
            }
        }
        Some(t)
    }

    /// Everything, for tests: `/__sim/dump`. Attachments carry the SHA-256
    /// of their stored bytes.
    pub fn dump(&self) -> Value {
        let attachments: Map<String, Value> = self
            .attachments
            .iter()
            .map(|(id, a)| {
                let mut m = a.meta.clone();
                m["sha256"] = json!(hex::encode(Sha256::digest(&a.bytes)));
                (id.clone(), m)
            })
            .collect();
        json!({"users": self.users, "inboxes": self.inboxes, "labels": self.labels,
            "customers": self.customers.values().collect::<Vec<_>>(),
            "tickets": self.tickets.values().collect::<Vec<_>>(),
            "messages": self.messages, "attachments": attachments, "emails_sent": self.emails_sent})
    }
}

/// A customer as the API shows it (no internal fields).
pub fn public_customer(c: &Value) -> Value {
    let mut c = c.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("created_at");
    }
    c
}
