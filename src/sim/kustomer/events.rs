//! A Kustomer org's event history (read side), for the archive, in the
//! shapes of the official spec (`kustomer-openapi.json`):
//!
//! - The audit log, `GET /v1/audit-logs` (`GetAuditLogs`, role
//!   `org.permission.audit_logs.read`): entries of type `audit_log`
//!   (`eventName`, `eventVerb`, `org`, `userId`, `userType`, `objectId`,
//!   `objectType`, `client`, `ip`, `changes`, `createdAt`, `publishedAt`,
//!   `expiresAt`; `relationships.user`), newest first, `count` per page
//!   (default 100, at most 1,000). As the spec's example shows, `links.next`
//!   is `?count=N&before=<the page's last id>` and `links.prev`
//!   `?count=N&after=<its first id>`; `meta` has `count`, `total`,
//!   `cursorCount`.
//! - A customer's sessions, `GET /v1/customers/{id}/sessions` ("Get all
//!   customer sessions": `sessionId`, `firstEventAt`, `lastEventAt`,
//!   `count`), and each session's events, `GET
//!   /v1/customers/{customerId}/sessions/{sessionId}/events` ("Get all
//!   events by customer for session": `customer_event` records with
//!   `name`, `trackingEvent`, `app`, `publishedAt`, `createdAt`,
//!   `location`, `meta`, `sessionId`, `realIp`), both paged by
//!   `page`/`pageSize`.
//!
//! Both derive from the generated customers: one `kustomer.customer.create`
//! entry each and a `kustomer.customer.update` for every fourth; a session
//! of two tracking events for every second customer, and a second session
//! for every sixth.

use serde_json::{json, Value};

use super::data::{Kind, Org};
use super::records::{id, iso};

const ORG: &str = "57bb5d2e32e83a130052e94e";

/// Every audit log entry, newest (highest id) first.
pub fn audit_logs(org: &Org) -> Vec<Value> {
    let users = org.count(Kind::Users).max(1);
    let mut out = Vec::new();
    for c in 0..org.count(Kind::Customers) {
        let meta = &org.meta[&Kind::Customers][c as usize];
        let customer = id(org, Kind::Customers, c);
        let user = id(org, Kind::Users, c % users);
        let mut entry = |k: u32, verb: &str, at: i64, changes: Value| {
            out.push(json!({
                "type": "audit_log",
                "id": format!("{:08x}{:016x}", 0xa0d1_7000u32, (c as u64) * 2 + k as u64),
                "attributes": {
                    "eventName": format!("kustomer.customer.{verb}"), "eventVerb": verb, "org": ORG,
                    "userId": user, "userType": "user", "objectId": customer, "objectType": "customer",
                    "client": "web", "ip": "203.0.113.7", "changes": changes,
                    "createdAt": iso(at), "publishedAt": iso(at + 1000), "expiresAt": iso(at + 365 * 86_400_000),
                },
                "relationships": {"user": {"links": {"self": format!("/v1/users/{user}")},
                                           "data": {"type": "user", "id": user}}},
                "links": {"self": format!("/v1/audit-logs/{:08x}{:016x}", 0xa0d1_7000u32, (c as u64) * 2 + k as u64)},
            }));
        };
        entry(
            0,
            "create",
            meta.created,
            json!({"attributes": {}, "relationships": {}}),
        );
        if c.is_multiple_of(4) {
            entry(
                1,
                "update",
                meta.updated,
                json!({"attributes": {"name": {"op": "replace", "before": "Old name", "after": "New name"}}, "relationships": {}}),
            );
        }
    }
    out.sort_by(|a, b| b["id"].as_str().cmp(&a["id"].as_str()));
    out
}

fn session_id(c: u32, s: u32) -> String {
    format!("{:08x}{:016x}", 0x5e55_1000u32, (c as u64) * 2 + s as u64)
}

fn relationship(kind: &str, path: &str, id: &str) -> Value {
    json!({"links": {"self": format!("/v1/{path}/{id}")}, "data": {"type": kind, "id": id}})
}

/// The sessions of customer `c`: (session record, its events).
pub fn sessions(org: &Org, c: u32) -> Vec<(Value, Vec<Value>)> {
    if !c.is_multiple_of(2) {
        return Vec::new();
    }
    let meta = &org.meta[&Kind::Customers][c as usize];
    let customer = id(org, Kind::Customers, c);
    let n = if c.is_multiple_of(6) { 2 } else { 1 };
    (0..n)
        .map(|s| {
            let at = meta.created + s as i64 * 86_400_000;
            let sid = session_id(c, s);
            let events: Vec<Value> = [("tracking.page-viewed", 0), ("tracking.checkout-started", 60_000)]
                .iter()
                .enumerate()
                .map(|(e, (name, after))| {
                    let eid = format!("{:08x}{:016x}", 0xe7e1_2000u32, ((c as u64) * 2 + s as u64) * 2 + e as u64);
                    json!({
                        "type": "customer_event", "id": eid,
                        "attributes": {
                            "name": "kustomer.tracking.identified.event", "trackingEvent": name, "app": null,
                            "publishedAt": iso(at + after), "createdAt": iso(at + after + 500),
                            "location": {"countryCode": "US", "countryName": "United States", "regionCode": "NY",
                                         "cityName": "Huntington", "zipCode": "11743", "latitude": 40.8719,
                                         "longitude": -73.4347, "areaCode": "631", "regionName": "New York"},
                            "meta": {"statusStr": if s == 0 { "Silver" } else { "Gold" }},
                            "sessionId": sid, "realIp": "198.51.100.23",
                        },
                        "relationships": {"org": relationship("org", "orgs", ORG), "createdBy": null, "modifiedBy": null,
                                          "customer": relationship("customer", "customers", &customer)},
                        "links": {"self": format!("/v1/customers/{customer}/events/{eid}")},
                    })
                })
                .collect();
            let session = json!({
                "type": "session", "id": sid,
                "attributes": {"sessionId": sid, "firstEventAt": iso(at), "lastEventAt": iso(at + 60_000), "count": events.len()},
                "relationships": {"org": relationship("org", "orgs", ORG),
                                  "customer": relationship("customer", "customers", &customer)},
                "links": {"self": format!("/v1/customers/{customer}/sessions/{sid}")},
            });
            (session, events)
        })
        .collect()
}

/// Every customer event id, for `/__sim/ids/customer_events`.
pub fn event_ids(org: &Org) -> Vec<String> {
    (0..org.count(Kind::Customers))
        .flat_map(|c| sessions(org, c))
        .flat_map(|(_, events)| events)
        .filter_map(|e| e["id"].as_str().map(str::to_string))
        .collect()
}
