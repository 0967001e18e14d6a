//! The write side of a delta load in the Zendesk simulator: ticket
//! updates (fields and one new comment), follow-up tickets, added tags,
//! organization updates and ticket deletion, with the rule that makes a
//! cutover hard: a closed ticket is read-only (422 "Status: closed
//! prevents ticket update", the body quoted in Speedygeek/ZendeskApi_v2#59;
//! "Creating a follow-up ticket", developer.zendesk.com: a closed ticket
//! cannot be reopened, `via_followup_source_id` creates a new ticket that
//! references it and inherits its tags unless tags are given).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::store::{invalid, now_iso, record_invalid, Invalid, Store};
use super::{error, SimState};

type St = State<Arc<SimState>>;

/// The error a closed ticket answers to any change.
fn closed_error() -> Vec<Invalid> {
    vec![invalid("status", "Status: closed prevents ticket update")]
}

impl Store {
    fn ticket_closed(&self, id: u64) -> bool {
        self.tickets
            .get(&id)
            .is_some_and(|t| t["status"] == "closed")
    }

    /// Checks one new comment of an update or a new ticket.
    fn check_comment(&self, c: &Value) -> Vec<Invalid> {
        self.comment_errors(c, "comment", "Comment")
    }

    /// A comment as stored: stamped now (an update cannot set its time),
    /// with the files of its upload tokens.
    fn stored_comment(&self, c: &Value) -> Value {
        let mut c = c.clone();
        c["created_at"] = json!(now_iso());
        if c["public"].is_null() {
            c["public"] = json!(true);
        }
        c["attachments"] = json!(self.upload_attachments(&c));
        c
    }

    /// `PUT /api/v2/tickets/{id}`: fields and at most one new comment.
    /// `Ok(false)`: no such ticket.
    pub fn update_ticket(&mut self, id: u64, t: &Value) -> Result<bool, Vec<Invalid>> {
        if !self.tickets.contains_key(&id) {
            return Ok(false);
        }
        if self.ticket_closed(id) {
            return Err(closed_error());
        }
        let mut errs = self.ticket_field_errors(t);
        if let Some(c) = t.get("comment").filter(|c| !c.is_null()) {
            errs.extend(self.check_comment(c));
        }
        // Lookup fields store their target's id (as on import).
        let mut t = t.clone();
        if let Some(cfs) = t.get_mut("custom_fields").and_then(|c| c.as_array_mut()) {
            for cf in cfs.iter_mut() {
                match self.ticket_lookup(cf) {
                    Ok(Some(target)) => cf["value"] = json!(target),
                    Ok(None) => {}
                    Err(e) => errs.push(e),
                }
            }
        }
        let t = &t;
        if !errs.is_empty() {
            return Err(errs);
        }
        let comment = t
            .get("comment")
            .filter(|c| !c.is_null())
            .map(|c| self.stored_comment(c));
        let rec = self.tickets.get_mut(&id).unwrap();
        for key in [
            "status",
            "priority",
            "tags",
            "assignee_id",
            "group_id",
            "custom_fields",
            "subject",
        ] {
            if let Some(v) = t.get(key) {
                rec[key] = v.clone();
            }
        }
        if let Some(c) = comment {
            rec["comments"]
                .as_array_mut()
                .map(|cs| cs.push(c.clone()))
                .unwrap_or_else(|| rec["comments"] = json!([c]));
        }
        rec["updated_at"] = json!(now_iso());
        Ok(true)
    }

    /// `POST /api/v2/tickets`: a new ticket from its first comment; with
    /// `via_followup_source_id` of a closed ticket, its follow-up.
    pub fn create_ticket(&mut self, t: &Value) -> Result<u64, Vec<Invalid>> {
        let Some(comment) = t.get("comment").filter(|c| !c.is_null()) else {
            return Err(vec![invalid("comment", "Comment: cannot be blank")]);
        };
        let mut errs = self.check_comment(comment);
        if !errs.is_empty() {
            return Err(std::mem::take(&mut errs));
        }
        let parent = t
            .get("via_followup_source_id")
            .and_then(|v| v.as_u64())
            .filter(|p| self.ticket_closed(*p));
        let mut rec = t.clone();
        if let Some(o) = rec.as_object_mut() {
            o.remove("comment");
            o.remove("via_followup_source_id");
        }
        rec["comments"] = json!([]);
        if rec["status"].is_null() {
            rec["status"] = json!("open");
        }
        if let (Some(p), true) = (parent, rec["tags"].is_null()) {
            rec["tags"] = self.tickets[&p]["tags"].clone();
        }
        let id = self.import_ticket(&rec)?;
        let c = self.stored_comment(comment);
        let stored = self.tickets.get_mut(&id).unwrap();
        stored["comments"] = json!([c]);
        if let Some(p) = parent {
            stored["via_followup_source_id"] = json!(p);
            let parent = self.tickets.get_mut(&p).unwrap();
            let mut ids = parent["followup_ids"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            ids.push(json!(id));
            parent["followup_ids"] = json!(ids);
        }
        Ok(id)
    }

    /// `PUT /api/v2/tickets/{id}/tags`: adds tags.
    pub fn add_tags(&mut self, id: u64, tags: &[Value]) -> Result<Option<Value>, Vec<Invalid>> {
        if !self.tickets.contains_key(&id) {
            return Ok(None);
        }
        if self.ticket_closed(id) {
            return Err(closed_error());
        }
        let rec = self.tickets.get_mut(&id).unwrap();
        let mut now = rec["tags"].as_array().cloned().unwrap_or_default();
        for t in tags {
            if !now.contains(t) {
                now.push(t.clone());
            }
        }
        rec["tags"] = json!(now.clone());
        rec["updated_at"] = json!(now_iso());
        Ok(Some(json!(now)))
    }

    /// `PUT /api/v2/organizations/{id}`: the given fields replace the old.
    pub fn update_organization(&mut self, id: u64, o: &Value) -> Option<Value> {
        let rec = self.organizations.get_mut(&id)?;
        for (k, v) in o.as_object().into_iter().flatten() {
            if k != "id" && k != "external_id" {
                rec[k.as_str()] = v.clone();
            }
        }
        rec["updated_at"] = json!(now_iso());
        Some(rec.clone())
    }
}

fn answer(r: Result<Response, Vec<Invalid>>) -> Response {
    r.unwrap_or_else(|e| error(StatusCode::UNPROCESSABLE_ENTITY, record_invalid(&e)))
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!({"error": "RecordNotFound", "description": "Not found"}),
    )
}

pub async fn update_ticket(
    State(st): St,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    let mut store = st.store.lock().unwrap();
    answer(store.update_ticket(id, &body["ticket"]).map(|found| {
        if found {
            Json(json!({"ticket": store.ticket_view(id), "audit": {"ticket_id": id}}))
                .into_response()
        } else {
            not_found()
        }
    }))
}

pub async fn create_ticket(State(st): St, Json(body): Json<Value>) -> Response {
    let mut store = st.store.lock().unwrap();
    answer(store.create_ticket(&body["ticket"]).map(|id| {
        (
            StatusCode::CREATED,
            // Zendesk answers a create like an update: the ticket and its audit.
            Json(json!({"ticket": store.ticket_view(id), "audit": {"ticket_id": id}})),
        )
            .into_response()
    }))
}

pub async fn destroy_ticket(State(st): St, Path(id): Path<u64>) -> Response {
    if st.store.lock().unwrap().destroy("tickets", &[id]) == 0 {
        return not_found();
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn add_tags(State(st): St, Path(id): Path<u64>, Json(body): Json<Value>) -> Response {
    let tags = body["tags"].as_array().cloned().unwrap_or_default();
    answer(
        st.store
            .lock()
            .unwrap()
            .add_tags(id, &tags)
            .map(|t| match t {
                Some(t) => Json(json!({"tags": t})).into_response(),
                None => not_found(),
            }),
    )
}

pub async fn update_organization(
    State(st): St,
    Path(id): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    match st
        .store
        .lock()
        .unwrap()
        .update_organization(id, &body["organization"])
    {
        Some(o) => Json(json!({"organization": o})).into_response(),
        None => not_found(),
    }
}
