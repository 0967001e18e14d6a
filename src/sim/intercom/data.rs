//! The simulated Intercom workspace, generated from a seed: admins,
//! teams, tags, segments, data attributes (every type, some archived),
//! companies, contacts (users and leads; a lead and a user share an
//! email; merged leads are gone from lists), their notes, conversations
//! (the first message is `source`, the rest `conversation_parts` of every
//! kind; one conversation has 600 parts, more than the 500 the API
//! returns; HTML bodies with inline images), tickets and ticket types,
//! Help Center collections and articles with translations, and data
//! events. Shapes follow `intercom-openapi-2.14.yaml`.

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// One attachment's bytes, served from the simulated CDN.
#[derive(Debug, Clone)]
pub struct Blob {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Everything the workspace holds.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    pub app_id: String,
    pub admins: Vec<Value>,
    pub teams: Vec<Value>,
    pub tags: Vec<Value>,
    pub segments: Vec<Value>,
    pub data_attributes: Vec<Value>,
    pub companies: Vec<Value>,
    /// Contacts as `GET /contacts/{id}` returns them (merged ones are
    /// left out of lists and searches: `merged` holds their ids).
    pub contacts: Vec<Value>,
    pub merged: Vec<String>,
    /// Contact id → its notes.
    pub notes: Vec<(String, Vec<Value>)>,
    /// Contact id → segment ids.
    pub contact_segments: Vec<(String, Vec<String>)>,
    /// Conversations with every part (the API returns the newest 500).
    pub conversations: Vec<Value>,
    pub ticket_types: Vec<Value>,
    pub tickets: Vec<Value>,
    pub collections: Vec<Value>,
    pub articles: Vec<Value>,
    /// (contact id, events) of the contacts that have data events.
    pub events: Vec<(String, Vec<Value>)>,
    /// Attachment id → bytes.
    pub blobs: Vec<(String, Blob)>,
    /// Lookups and search inputs derived from the above (`reindex`), so a
    /// request costs what the real API's would, not a scan of the workspace.
    pub index: Index,
}

/// What `Workspace::reindex` derives.
#[derive(Debug, Default, Clone)]
pub struct Index {
    pub contact_at: HashMap<String, usize>,
    pub conversation_at: HashMap<String, usize>,
    /// Live contacts (merged ones are in no list or search), each with its
    /// segment ids under `__segments` for search (never returned).
    pub live_contacts: Vec<Value>,
    /// Conversations as lists and searches return them (no parts).
    pub conversation_heads: Vec<Value>,
}

impl Workspace {
    /// Rebuilds `index`: after generating, and after every mutation.
    pub fn reindex(&mut self) {
        let merged: HashSet<&str> = self.merged.iter().map(String::as_str).collect();
        let segments: HashMap<&str, &Vec<String>> = self
            .contact_segments
            .iter()
            .map(|(c, s)| (c.as_str(), s))
            .collect();
        let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
        let live_contacts = self
            .contacts
            .iter()
            .filter(|c| !merged.contains(c["id"].as_str().unwrap_or_default()))
            .map(|c| {
                let mut c = c.clone();
                let segs = segments.get(c["id"].as_str().unwrap_or_default());
                c["__segments"] = json!(segs.map(|s| s.to_vec()).unwrap_or_default());
                c
            })
            .collect();
        let conversation_heads = self
            .conversations
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if let Some(o) = c.as_object_mut() {
                    o.remove("conversation_parts");
                }
                c
            })
            .collect();
        self.index = Index {
            contact_at: self
                .contacts
                .iter()
                .enumerate()
                .map(|(i, c)| (id(c), i))
                .collect(),
            conversation_at: self
                .conversations
                .iter()
                .enumerate()
                .map(|(i, c)| (id(c), i))
                .collect(),
            live_contacts,
            conversation_heads,
        };
    }

    /// The contact with this id (merged ones too: a GET still finds them).
    pub fn contact(&self, id: &str) -> Option<&Value> {
        self.index.contact_at.get(id).map(|&i| &self.contacts[i])
    }

    /// The conversation with this id, every part included.
    pub fn conversation(&self, id: &str) -> Option<&Value> {
        self.index
            .conversation_at
            .get(id)
            .map(|&i| &self.conversations[i])
    }
}

/// The attachment types of data attributes the spec names.
const TYPES: &[&str] = &["string", "integer", "float", "boolean", "date"];

fn hex_id(seed: u64, kind: u64, n: u64) -> String {
    format!("{:08x}{:016x}", 0x6500_0000u64 + kind, seed * 1_000_003 + n)
}

impl Workspace {
    /// A workspace of `contacts` contacts (≈1.5 conversations each), its
    /// clock at `now` (epoch seconds).
    pub fn generate(seed: u64, contacts: u32, now: i64) -> Workspace {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let mut w = Workspace {
            app_id: format!("sim{:05x}", seed % 0xfffff),
            ..Default::default()
        };
        let start = now - 400 * DAY;
        // Admins (one without an inbox seat, one bot-like operator) and teams.
        let first = ["Ann", "Bo", "Cai", "Dee", "Eli", "Fay", "Gus", "Hal"];
        for (i, n) in first.iter().enumerate() {
            w.admins.push(json!({
                "type": "admin", "id": format!("{}", 814_860 + i),
                "name": format!("{n} Agent"), "email": format!("{}@support.example.com", n.to_lowercase()),
                "job_title": "Support", "away_mode_enabled": i == 5, "away_mode_reassign": false,
                "has_inbox_seat": i != 6, "team_ids": [814_900 + (i as i64 % 3)], "avatar": null,
            }));
        }
        for (i, n) in ["Support", "Billing", "Tier 2"].iter().enumerate() {
            let members: Vec<i64> = (0..first.len() as i64)
                .filter(|a| a % 3 == i as i64)
                .map(|a| 814_860 + a)
                .collect();
            w.teams.push(json!({"type": "team", "id": format!("{}", 814_900 + i), "name": n, "admin_ids": members}));
        }
        let tag_names = [
            "VIP",
            "vip",
            "Bug",
            "Refund",
            "Feature request",
            "Churn risk",
            "Enterprise",
            "Onboarding",
        ];
        for (i, n) in tag_names.iter().enumerate() {
            w.tags
                .push(json!({"type": "tag", "id": format!("{}", 7_522_900 + i), "name": n}));
        }
        for (i, (n, who)) in [
            ("Active users", "user"),
            ("New leads", "contact"),
            ("Enterprise", "user"),
        ]
        .iter()
        .enumerate()
        {
            w.segments.push(json!({"type": "segment", "id": hex_id(seed, 9, i as u64), "name": n,
                "created_at": start + i as i64 * DAY, "updated_at": start + 30 * DAY, "person_type": who}));
        }
        // Custom data attributes: every type on contacts and companies,
        // one archived per model.
        let mut attr_id = 12_870;
        for model in ["contact", "company"] {
            for (i, ty) in TYPES.iter().enumerate() {
                attr_id += 1;
                let name = format!("{model}_{ty}_attr");
                w.data_attributes.push(json!({
                    "type": "data_attribute", "id": attr_id, "model": model, "name": name,
                    "full_name": format!("custom_attributes.{name}"), "label": format!("{} {ty}", model),
                    "description": "", "data_type": ty, "options": if *ty == "string" { json!(["gold", "silver"]) } else { json!([]) },
                    "api_writable": true, "messenger_writable": false, "ui_writable": true, "custom": true,
                    "archived": false, "created_at": start + i as i64, "updated_at": start + i as i64, "admin_id": "814860",
                }));
            }
            attr_id += 1;
            w.data_attributes.push(json!({
                "type": "data_attribute", "id": attr_id, "model": model, "name": format!("{model}_legacy_code"),
                "full_name": format!("custom_attributes.{model}_legacy_code"), "label": "Legacy code",
                "description": "retired", "data_type": "string", "options": [], "api_writable": false,
                "messenger_writable": false, "ui_writable": false, "custom": true, "archived": true,
                "created_at": start, "updated_at": start + DAY, "admin_id": "814860",
            }));
            for name in ["name", "email"] {
                if model == "contact" {
                    attr_id += 1;
                    w.data_attributes.push(json!({
                        "type": "data_attribute", "id": attr_id, "model": model, "name": name, "full_name": name,
                        "label": name, "description": "", "data_type": "string", "options": [],
                        "api_writable": true, "messenger_writable": false, "ui_writable": true, "custom": false,
                        "archived": false, "created_at": start, "updated_at": start, "admin_id": "814860",
                    }));
                }
            }
        }
        let custom = |r: &mut ChaCha8Rng, model: &str| {
            json!({
                format!("{model}_string_attr"): (["gold", "silver"][r.gen_range(0..2)]),
                format!("{model}_integer_attr"): r.gen_range(0..500),
                format!("{model}_float_attr"): (r.gen_range(0..10_000) as f64) / 100.0,
                format!("{model}_boolean_attr"): r.gen_bool(0.5),
                format!("{model}_date_attr"): start + r.gen_range(0..300) * DAY,
            })
        };
        // Companies.
        let n_companies = (contacts / 8).max(3);
        for i in 0..n_companies {
            let created = start + i as i64 * 3600;
            w.companies.push(json!({
                "type": "company", "id": hex_id(seed, 1, i as u64), "name": format!("Company {i}"),
                "app_id": w.app_id, "plan": {"type": "plan", "id": "1", "name": "pro"},
                "company_id": format!("acct-{i}"), "remote_created_at": created, "created_at": created,
                "updated_at": created + 10 * DAY, "last_request_at": created + 20 * DAY,
                "size": 10 + i, "website": format!("https://company{i}.example.com"), "industry": "Software",
                "monthly_spend": 100 * i, "session_count": 3, "user_count": 0,
                "custom_attributes": custom(&mut r, "company"),
                "tags": {"type": "tag.list", "tags": if i % 4 == 0 { json!([{"type": "tag", "id": "7522906", "name": "Enterprise"}]) } else { json!([]) }},
                "segments": {"type": "segment.list", "segments": []},
            }));
        }
        // Contacts: every 7th a lead; contact 3 is a lead sharing user 2's
        // email; every third lead was merged into a user (gone from lists).
        for i in 0..contacts {
            let id = hex_id(seed, 2, i as u64);
            let lead = i % 7 == 3;
            let email = if i == 3 {
                "person2@example.org".to_string()
            } else {
                format!("person{i}@example.org")
            };
            let created = start + i as i64 * 1800;
            let updated = created + r.gen_range(1..200) * DAY / 2;
            let company = (!lead && i % 3 != 0).then(|| (i % n_companies) as usize);
            let tags: Vec<Value> = if i % 5 == 0 {
                vec![json!({"type": "tag", "id": "7522900", "url": "/tags/7522900"})]
            } else {
                vec![]
            };
            let n_notes = i % 4;
            let companies: Vec<Value> = company.iter().map(|c| {
                let cid = w.companies[*c]["id"].clone();
                json!({"type": "company", "id": cid, "url": format!("/companies/{}", cid.as_str().unwrap())})
            }).collect();
            w.contacts.push(json!({
                "type": "contact", "id": id, "external_id": if lead { Value::Null } else { json!(format!("user-{i}")) },
                "workspace_id": w.app_id, "role": if lead { "lead" } else { "user" },
                "email": email, "email_domain": "example.org", "phone": if i % 2 == 0 { json!(format!("+1555{:07}", i)) } else { Value::Null },
                "name": if i % 11 == 5 { Value::Null } else { json!(format!("Person {i}")) },
                "owner_id": null, "has_hard_bounced": false, "marked_email_as_spam": false, "unsubscribed_from_emails": i % 9 == 0,
                "created_at": created, "updated_at": updated, "signed_up_at": if lead { Value::Null } else { json!(created) },
                "last_seen_at": updated, "last_replied_at": null, "last_contacted_at": null,
                "last_email_opened_at": null, "last_email_clicked_at": null, "language_override": null,
                "browser": "chrome", "browser_version": "120.0", "browser_language": "en", "os": "Linux",
                "custom_attributes": custom(&mut r, "contact"), "avatar": null,
                "tags": {"type": "list", "data": tags, "url": format!("/contacts/{id}/tags"), "total_count": tags.len(), "has_more": false},
                "notes": {"type": "list", "data": (0..n_notes).map(|k| json!({"type": "note", "id": format!("{}", 900_000 + i * 10 + k), "url": format!("/notes/{}", 900_000 + i * 10 + k)})).collect::<Vec<_>>(),
                          "url": format!("/contacts/{id}/notes"), "total_count": n_notes, "has_more": false},
                "companies": {"type": "list", "data": companies, "url": format!("/contacts/{id}/companies"), "total_count": companies.len(), "has_more": false},
                "location": {"type": "location", "country": "Ireland", "region": "Dublin", "city": "Dublin"},
                "social_profiles": {"type": "list", "data": []},
            }));
            if lead && (i / 7) % 3 == 1 {
                w.merged.push(id.clone());
            }
            let notes: Vec<Value> = (0..n_notes).map(|k| json!({
                "type": "note", "id": format!("{}", 900_000 + i * 10 + k), "created_at": created + k as i64 * 3600,
                "contact": {"type": "contact", "id": id}, "author": w.admins[(k as usize) % w.admins.len()],
                "body": format!("<p>Profile note {k} for person {i}</p>"),
            })).collect();
            w.notes.push((id.clone(), notes));
            w.contact_segments.push((
                id.clone(),
                if lead {
                    vec![w.segments[1]["id"].as_str().unwrap().to_string()]
                } else {
                    vec![w.segments[0]["id"].as_str().unwrap().to_string()]
                },
            ));
            if i % 6 == 0 {
                let evs: Vec<Value> = (0..4).map(|k| json!({
                    "type": "event", "event_name": (["ordered-item", "viewed-pricing"][k % 2]),
                    // Half are older than the 90 days the API lists.
                    "created_at": now - (k as i64 * 60 + 5) * DAY, "user_id": format!("user-{i}"),
                    "id": format!("ev{i}x{k}"), "intercom_user_id": id, "email": format!("person{i}@example.org"),
                    "metadata": {"order": format!("o-{i}-{k}")},
                })).collect();
                w.events.push((id.clone(), evs));
            }
        }
        for c in &mut w.companies {
            let cid = c["id"].as_str().unwrap().to_string();
            let n = w
                .contacts
                .iter()
                .filter(|p| {
                    p["companies"]["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x["id"] == cid.as_str())
                })
                .count();
            c["user_count"] = json!(n);
        }
        // Conversations.
        let live: Vec<usize> = (0..w.contacts.len())
            .filter(|i| {
                !w.merged
                    .contains(&w.contacts[*i]["id"].as_str().unwrap().to_string())
            })
            .collect();
        let n_conv = (contacts as usize * 3 / 2).max(2);
        let n_tickets = (contacts as usize / 4).max(1);
        for k in 0..n_conv {
            let who = live[k % live.len()];
            let contact = w.contacts[who].clone();
            let created = contact["created_at"].as_i64().unwrap() + (k as i64 % 5) * DAY;
            let n_parts = if k == 1 { 600 } else { r.gen_range(1..12) };
            let id = format!("{}", 2_000_000 + k);
            let admin = w.admins[k % w.admins.len()].clone();
            let author_contact = json!({"type": contact["role"], "id": contact["id"], "name": contact["name"], "email": contact["email"]});
            let author_admin = json!({"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]});
            let mut parts = Vec::new();
            let mut t = created;
            let mut att_seq = 0;
            let mut attachment = |w: &mut Workspace, seed_n: usize| -> Value {
                att_seq += 1;
                let aid = format!("att{k}x{att_seq}");
                let bytes: Vec<u8> = (0..(200 + seed_n * 37 % 3000))
                    .map(|b| (b * 31 + seed_n) as u8)
                    .collect();
                let v = json!({"type": "upload", "name": format!("file-{k}-{att_seq}.png"), "url": format!("/__cdn/{aid}"),
                               "content_type": "image/png", "filesize": bytes.len(), "width": 10, "height": 10});
                w.blobs.push((
                    aid,
                    Blob {
                        name: format!("file-{k}-{att_seq}.png"),
                        content_type: "image/png".into(),
                        bytes,
                    },
                ));
                v
            };
            for p in 0..n_parts {
                t += r.gen_range(60..7200);
                let (part_type, author, body) = match (p % 7, k % 4) {
                    (0, _) | (2, _) => (
                        "comment",
                        author_admin.clone(),
                        Some(format!("<p>Reply {p} from the team</p>")),
                    ),
                    (1, _) | (4, _) => (
                        "comment",
                        author_contact.clone(),
                        Some(format!("<p>Customer message {p}</p>")),
                    ),
                    (3, 0) => (
                        "note",
                        author_admin.clone(),
                        Some(format!(
                            "<p>Internal note {p} <img src=\"/__cdn/inline{k}x{p}\"></p>"
                        )),
                    ),
                    (3, _) => (
                        "note",
                        author_admin.clone(),
                        Some(format!("<p>Internal note {p}</p>")),
                    ),
                    (5, _) => ("assignment", author_admin.clone(), None),
                    _ => (
                        if p % 2 == 0 { "close" } else { "open" },
                        author_admin.clone(),
                        None,
                    ),
                };
                let atts = if part_type == "comment" && p % 5 == 1 {
                    vec![attachment(&mut w, k * 100 + p)]
                } else {
                    vec![]
                };
                parts.push(json!({
                    "type": "conversation_part", "id": format!("{}", 100_000_000 + k * 1000 + p),
                    "part_type": part_type, "body": body, "created_at": t, "updated_at": t, "notified_at": t,
                    "assigned_to": if part_type == "assignment" { json!({"type": "team", "id": w.teams[k % 3]["id"]}) } else { Value::Null },
                    "author": author, "attachments": atts, "external_id": null, "redacted": false,
                }));
            }
            let state = ["open", "closed", "snoozed"][k % 3];
            let source_atts = if k % 3 == 0 {
                vec![attachment(&mut w, k)]
            } else {
                vec![]
            };
            let channel = ["conversation", "email", "conversation", "whatsapp"][k % 4];
            let tags: Vec<Value> = if k % 2 == 0 {
                vec![w.tags[k % w.tags.len()].clone()]
            } else {
                vec![]
            };
            w.conversations.push(json!({
                "type": "conversation", "id": id, "title": if channel == "email" { json!(format!("Email subject {k}")) } else { Value::Null },
                "created_at": created, "updated_at": t, "waiting_since": null,
                "snoozed_until": if state == "snoozed" { json!(now + DAY) } else { Value::Null },
                "open": state != "closed", "state": state, "read": true,
                "priority": if k % 5 == 0 { "priority" } else { "not_priority" },
                "admin_assignee_id": admin["id"].as_str().and_then(|s| s.parse::<i64>().ok()), "team_assignee_id": w.teams[k % 3]["id"],
                "tags": {"type": "tag.list", "tags": tags},
                // Some conversations were rated, some had Fin take part,
                // some link a ticket (intercom-openapi-2.14.yaml:
                // conversation_rating, linked_object).
                "conversation_rating": if k % 6 == 1 {
                    json!({"rating": 1 + k % 5, "remark": if k % 12 == 1 { json!("Quick and kind") } else { Value::Null },
                           "created_at": t, "updated_at": t,
                           "contact": {"type": "contact", "id": contact["id"]}, "teammate": {"type": "admin", "id": admin["id"]}})
                } else { Value::Null },
                "source": {"type": channel, "id": format!("{}", 3_000_000 + k), "delivered_as": "customer_initiated",
                           "subject": if channel == "email" { format!("Email subject {k}") } else { String::new() },
                           "body": format!("<p>Hello, I need help with order {k}</p>"), "author": author_contact,
                           "attachments": source_atts, "url": null, "redacted": false},
                "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact["id"], "external_id": contact["external_id"]}]},
                "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": admin["id"]}]},
                "custom_attributes": {"Order number": format!("o-{k}")},
                "first_contact_reply": null, "sla_applied": null,
                "statistics": {"type": "conversation_statistics", "count_conversation_parts": n_parts + 1},
                "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts, "total_count": n_parts},
                "linked_objects": if k % 5 == 1 {
                    json!({"type": "list", "data": [{"type": "ticket", "id": format!("{}", 5_000_000 + k % n_tickets), "category": "Customer"}], "total_count": 1, "has_more": false})
                } else {
                    json!({"type": "list", "data": [], "total_count": 0, "has_more": false})
                },
                "ai_agent_participated": k % 7 == 2,
            }));
        }
        // Ticket types and tickets.
        w.ticket_types.push(json!({
            "type": "ticket_type", "id": "1", "category": "Customer", "name": "Bug report", "description": "A bug a customer hit",
            "icon": "🐞", "workspace_id": w.app_id, "archived": false, "created_at": start, "updated_at": start,
            "ticket_type_attributes": {"type": "ticket_type_attributes.list", "ticket_type_attributes": [
                {"type": "ticket_type_attribute", "id": "1", "workspace_id": w.app_id, "name": "_default_title_", "description": "", "data_type": "string", "input_options": {}, "order": 0, "required_to_create": true, "required_to_create_for_contacts": true, "visible_on_create": true, "visible_to_contacts": true, "default": true, "ticket_type_id": 1, "archived": false, "created_at": start, "updated_at": start},
                {"type": "ticket_type_attribute", "id": "2", "workspace_id": w.app_id, "name": "Severity", "description": "", "data_type": "list", "input_options": {"list_options": [{"id": "s1", "label": "High"}, {"id": "s2", "label": "Low"}]}, "order": 1, "required_to_create": false, "required_to_create_for_contacts": false, "visible_on_create": true, "visible_to_contacts": false, "default": false, "ticket_type_id": 1, "archived": false, "created_at": start, "updated_at": start},
            ]},
            "ticket_states": {"type": "list", "data": []},
        }));
        for k in 0..n_tickets {
            let who = &w.contacts[live[k % live.len()]];
            let created = who["created_at"].as_i64().unwrap() + DAY;
            w.tickets.push(json!({
                "type": "ticket", "id": format!("{}", 5_000_000 + k), "ticket_id": format!("{}", 100 + k), "category": "Customer",
                "ticket_attributes": {"_default_title_": format!("Bug {k}"), "_default_description_": "It broke", "Severity": (["High", "Low"][k % 2])},
                "ticket_state": {"type": "ticket_state", "id": "1", "category": "submitted", "internal_label": "Submitted", "external_label": "Submitted"},
                "ticket_type": w.ticket_types[0].clone(),
                "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": who["id"], "external_id": who["external_id"]}]},
                "admin_assignee_id": format!("{}", 814_860 + k % 5), "team_assignee_id": format!("{}", 814_900 + k % 3), "created_at": created, "updated_at": created + 3600,
                "open": true, "snoozed_until": null, "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
                "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [{"type": "ticket_part", "id": format!("{}", 6_000_000 + k), "part_type": "comment",
                    "body": "<p>We are on it</p>", "created_at": created + 60, "updated_at": created + 60,
                    "author": {"type": "admin", "id": "814860", "name": "Ann Agent", "email": "ann@support.example.com"}, "attachments": [], "redacted": false},
                    {"type": "ticket_part", "id": format!("{}", 6_500_000 + k), "part_type": "note",
                    "body": format!("<p>Reproduced on build {k}</p>"), "created_at": created + 120, "updated_at": created + 120,
                    "author": {"type": "admin", "id": "814861", "name": "Bo Agent", "email": "bo@support.example.com"}, "attachments": [], "redacted": false}], "total_count": 2},
                "is_shared": k % 3 != 0,
            }));
        }
        // Help Center.
        for (i, n) in ["Getting started", "Billing"].iter().enumerate() {
            w.collections.push(json!({
                "id": format!("{}", 4_000 + i), "workspace_id": w.app_id, "name": n, "description": format!("All about {n}"),
                "created_at": start, "updated_at": start + DAY, "url": null, "icon": "book", "order": i + 1, "default_locale": "en",
                "translated_content": {"type": "group_translated_content", "fr": {"type": "group_content", "name": format!("{n} (fr)"), "description": ""}},
                "parent_id": null, "help_center_id": 1,
            }));
        }
        // A collection nested in Billing (Help Center collections nest;
        // the reference types parent_id as a string).
        w.collections.push(json!({
            "id": "4002", "workspace_id": w.app_id, "name": "Invoices", "description": "Invoices and receipts",
            "created_at": start, "updated_at": start + DAY, "url": null, "icon": "receipt", "order": 1, "default_locale": "en",
            "translated_content": {"type": "group_translated_content"},
            "parent_id": "4001", "help_center_id": 1,
        }));
        w.articles.push(json!({
            "type": "article", "id": "7005", "workspace_id": w.app_id, "title": "Download an invoice",
            "description": "", "body": "<p>Open Billing, then Invoices. See also <a href=\"https://intercom.help/sim/en/articles/7000-how-to-0\">How to 0</a>.</p>",
            "author_id": 814_861, "state": "published",
            "created_at": start, "updated_at": start + 60, "url": "https://intercom.help/sim/en/articles/7005-download-an-invoice",
            "parent_id": 4_002, "parent_ids": [4_001, 4_002], "parent_type": "collection", "default_locale": "en",
            "translated_content": {"type": "article_translated_content"},
        }));
        for a in 0..5 {
            w.articles.push(json!({
                "type": "article", "id": format!("{}", 7_000 + a), "workspace_id": w.app_id, "title": format!("How to {a}"),
                "description": "A guide",
                // One article shows an image, on the CDN as a conversation's.
                "body": if a == 1 { format!("<p>Step one of {a} <img src=\"/__cdn/inlinekb{a}\"></p>") } else { format!("<p>Step one of {a}</p>") }, "author_id": 814_860, "state": if a == 4 { "draft" } else { "published" },
                "created_at": start + a * DAY, "updated_at": start + a * DAY + 60,
                // A draft has no public URL.
                "url": if a == 4 { Value::Null } else { json!(format!("https://intercom.help/sim/en/articles/{}-how-to-{a}", 7_000 + a)) },
                "parent_id": 4_000 + (a % 2), "parent_ids": [4_000 + (a % 2)], "parent_type": "collection", "default_locale": "en",
                "translated_content": {"type": "article_translated_content", "fr": {"type": "article_content", "title": format!("Comment {a}"), "description": "",
                    "body": "<p>Étape un</p>", "author_id": 814_860, "state": "published",
                    "url": format!("https://intercom.help/sim/fr/articles/{}-comment-{a}", 7_000 + a)}},
            }));
        }
        w.reindex();
        w
    }
}
