//! Secondary indexes over the simulator's unique keys.
//!
//! Zendesk matches users by external id and email, and refuses an email or
//! organization name already taken. Scanning every stored record for each
//! of those checks made the simulator, not ferry, the bottleneck of the
//! 20k-ticket benchmark (86 s for 200 user requests), so the keys live in
//! hash maps kept in step with every insert, update and delete.

use std::collections::HashMap;

use serde_json::Value;

fn key<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(|x| x.as_str())
}

#[derive(Default)]
pub struct Lookups {
    user_by_external_id: HashMap<String, u64>,
    /// Primary emails, lowercased as stored.
    user_by_email: HashMap<String, u64>,
    /// Secondary identity value → the user that owns it.
    identity_owner: HashMap<String, u64>,
    org_by_external_id: HashMap<String, u64>,
    /// Organization names, lowercased: Zendesk names are unique regardless of case.
    org_by_name: HashMap<String, u64>,
}

impl Lookups {
    pub fn user_by_external_id(&self, ext: &str) -> Option<u64> {
        self.user_by_external_id.get(ext).copied()
    }

    pub fn user_by_email(&self, email: &str) -> Option<u64> {
        self.user_by_email.get(email).copied()
    }

    /// The user holding `value` as primary email or as a secondary identity.
    pub fn owner_of(&self, value: &str) -> Option<u64> {
        self.user_by_email(value)
            .or_else(|| self.identity_owner.get(value).copied())
    }

    pub fn identity_taken(&self, value: &str) -> bool {
        self.identity_owner.contains_key(value)
    }

    pub fn org_by_external_id(&self, ext: &str) -> Option<u64> {
        self.org_by_external_id.get(ext).copied()
    }

    pub fn org_name_taken(&self, name: &str) -> bool {
        self.org_by_name.contains_key(&name.to_lowercase())
    }

    pub fn add_user(&mut self, id: u64, u: &Value) {
        if let Some(e) = key(u, "external_id") {
            self.user_by_external_id.insert(e.to_string(), id);
        }
        if let Some(e) = key(u, "email") {
            self.user_by_email.insert(e.to_string(), id);
        }
    }

    /// Forgets `u`'s keys, but only where they still point at `id`: an
    /// update may have handed a key to this user from nobody else.
    pub fn remove_user(&mut self, id: u64, u: &Value) {
        for (map, field) in [
            (&mut self.user_by_external_id, "external_id"),
            (&mut self.user_by_email, "email"),
        ] {
            if let Some(k) = key(u, field) {
                if map.get(k) == Some(&id) {
                    map.remove(k);
                }
            }
        }
    }

    pub fn add_identity(&mut self, user: u64, value: &str) {
        self.identity_owner.insert(value.to_string(), user);
    }

    pub fn remove_identity(&mut self, value: &str) {
        self.identity_owner.remove(value);
    }

    pub fn add_org(&mut self, id: u64, o: &Value) {
        if let Some(e) = key(o, "external_id") {
            self.org_by_external_id.insert(e.to_string(), id);
        }
        if let Some(n) = key(o, "name") {
            self.org_by_name.insert(n.trim().to_lowercase(), id);
        }
    }

    pub fn remove_org(&mut self, o: &Value) {
        if let Some(e) = key(o, "external_id") {
            self.org_by_external_id.remove(e);
        }
        if let Some(n) = key(o, "name") {
            self.org_by_name.remove(&n.trim().to_lowercase());
        }
    }
}
