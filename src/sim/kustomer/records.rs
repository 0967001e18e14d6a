//! Record content: the JSON the simulator serves for (kind, index), built
//! deterministically from the seed. Ugly on purpose: shared and multiple
//! emails, unicode and emoji, HTML with inline images, bodies over 65,535
//! characters, multi-assignee conversations, deleted records.

use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::data::{h, rng, Kind, Org, DAY};

/// The org every record belongs to.
pub const ORG_ID: &str = "5e664db1c9639a0019c67fd0";

/// 24-hex ObjectId-like id: creation seconds, kind, seed, index.
pub fn id(org: &Org, kind: Kind, idx: u32) -> String {
    let created = org.meta[&kind][idx as usize].created / 1000;
    format!(
        "{:08x}{:02x}{:06x}{:08x}",
        created as u32,
        kind as u8,
        org.seed & 0xff_ffff,
        idx
    )
}

/// The id of a record of `kind` the org no longer has (deleted before the
/// migration): shaped like [`id`], with an index past the last record, so
/// [`parse_id`] finds nothing.
pub fn gone_id(org: &Org, kind: Kind, n: u32) -> String {
    format!(
        "{:08x}{:02x}{:06x}{:08x}",
        (org.now / 1000) as u32,
        kind as u8,
        org.seed & 0xff_ffff,
        org.count(kind) + n
    )
}

/// Inverse of [`id`]: the index, if the id belongs to `kind` of this org.
pub fn parse_id(org: &Org, kind: Kind, id: &str) -> Option<u32> {
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let k = u8::from_str_radix(&id[8..10], 16).ok()?;
    let s = u64::from_str_radix(&id[10..16], 16).ok()?;
    let idx = u32::from_str_radix(&id[16..24], 16).ok()?;
    (k == kind as u8
        && s == org.seed & 0xff_ffff
        && idx < org.count(kind)
        && self::id(org, kind, idx) == id)
        .then_some(idx)
}

/// ISO-8601 UTC with milliseconds, as Kustomer writes timestamps.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn rel(org: &Org, kind: Kind, idx: u32) -> Value {
    let id = id(org, kind, idx);
    json!({"data": {"type": kind.singular(), "id": id}, "links": {"self": format!("/v1/{}/{}", kind.plural(), id)}})
}

fn org_rel() -> Value {
    json!({"data": {"type": "org", "id": ORG_ID}, "links": {"self": format!("/v1/orgs/{ORG_ID}")}})
}

const FIRST: &[&str] = &[
    "Ana",
    "José",
    "Zoë",
    "Björn",
    "Łukasz",
    "María José",
    "Søren",
    "Chloé",
    "李",
    "Анна",
    "محمد",
    "O'Brien",
    "Nguyễn",
    "Jürgen",
    "Émilie",
    "Kai 🙂",
    "Priya",
    "Dmitri",
    "Aoife",
    "Tomás",
];
const LAST: &[&str] = &[
    "García",
    "Müller",
    "Smith",
    "Øster",
    "王",
    "Иванова",
    "D'Angelo",
    "Nakamura",
    "Ó Súilleabháin",
    "Kowalski",
    "Dubois",
    "Silva",
    "Johnson 🚀",
    "Van der Berg",
    "Al-Hassan",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "acme.test",
    "müller.de",
    "mail.example.org",
    "corp.example.net",
];
const CHANNELS: &[&str] = &[
    "email",
    "chat",
    "sms",
    "voice",
    "facebook",
    "whatsapp",
    "form",
    "instagram",
];
const TAG_NAMES: &[&str] = &[
    "VIP Customer",
    "refund-request",
    "Bug Report",
    "shipping delay",
    "Ünïcode Tag",
    "needs_follow up",
    "Billing",
    "escalated!",
    "warranty",
    "Feedback 💬",
    "churn risk",
    "onboarding",
    "API",
    "returns & exchanges",
    "priority/high",
];

fn person_name(kind: Kind, seed: u64, idx: u32) -> (String, String) {
    let a = h(seed, kind, idx, 21) as usize;
    let b = h(seed, kind, idx, 22) as usize;
    (
        FIRST[a % FIRST.len()].to_string(),
        LAST[b % LAST.len()].to_string(),
    )
}

fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// Primary email of customer `idx`. Every 23rd customer shares the email
/// of the one before it: the same person, twice, as real helpdesks have.
pub fn customer_email(org: &Org, idx: u32) -> String {
    let i = if idx % 23 == 7 && idx > 0 {
        idx - 1
    } else {
        idx
    };
    let (f, l) = person_name(Kind::Customers, org.seed, i);
    let mut local = format!("{}.{}{}", ascii_slug(&f), ascii_slug(&l), i);
    if local.starts_with('.') {
        local = format!("user{local}");
    }
    let dom = DOMAINS[(h(org.seed, Kind::Customers, i, 23) % DOMAINS.len() as u64) as usize];
    // Case differs on purpose for some: emails are case-insensitive.
    if i % 11 == 3 {
        format!("{}@{}", local.to_uppercase(), dom)
    } else {
        format!("{local}@{dom}")
    }
}

fn base(
    org: &Org,
    kind: Kind,
    idx: u32,
    attributes: Map<String, Value>,
    mut relationships: Map<String, Value>,
) -> Value {
    let id = id(org, kind, idx);
    relationships.insert("org".into(), org_rel());
    json!({
        "type": kind.singular(),
        "id": id,
        "attributes": attributes,
        "relationships": relationships,
        "links": {"self": format!("/v1/{}/{}", kind.plural(), id)}
    })
}

fn stamps(org: &Org, kind: Kind, idx: u32, a: &mut Map<String, Value>) {
    let m = org.meta[&kind][idx as usize];
    a.insert("createdAt".into(), json!(iso(m.created)));
    a.insert("updatedAt".into(), json!(iso(m.updated)));
    a.insert("modifiedAt".into(), json!(iso(m.updated)));
    a.insert("rev".into(), json!(org.rev(kind, idx)));
}

fn deleted(org: &Org, kind: Kind, idx: u32) -> bool {
    h(org.seed, kind, idx, 30) % 37 == 5
}

/// The record of (kind, index) as served by list, search and GET.
pub fn record(org: &Org, kind: Kind, idx: u32) -> Value {
    match kind {
        Kind::Users => user(org, idx),
        Kind::Teams => team(org, idx),
        Kind::Tags => tag(org, idx),
        Kind::Klasses => klass(org, idx),
        Kind::Companies => company(org, idx),
        Kind::Customers => customer(org, idx),
        Kind::Conversations => conversation(org, idx),
        Kind::Messages => message(org, idx),
        Kind::Notes => note(org, idx),
        Kind::Kobjects => kobject(org, idx),
        Kind::Attachments => attachment(org, idx),
        Kind::Shortcuts => rule(org, Kind::Shortcuts, idx),
        Kind::Slas => rule(org, Kind::Slas, idx),
    }
}

fn user(org: &Org, idx: u32) -> Value {
    let (f, l) = person_name(Kind::Users, org.seed, idx);
    let machine = idx == 0;
    let mut a = Map::new();
    let name = if machine {
        "ferry export key".to_string()
    } else {
        format!("{f} {l}")
    };
    a.insert("name".into(), json!(name));
    a.insert(
        "displayName".into(),
        json!(if machine {
            "API".to_string()
        } else {
            f.clone()
        }),
    );
    a.insert(
        "email".into(),
        json!(if machine {
            "api-key@machine.kustomer.test".to_string()
        } else {
            format!(
                "{}.{}{}@support.acme.test",
                ascii_slug(&f),
                ascii_slug(&l),
                idx
            )
        }),
    );
    a.insert(
        "userType".into(),
        json!(if machine { "machine" } else { "user" }),
    );
    a.insert(
        "roles".into(),
        json!(["org.user.conversation.read", "org.user.customer.read"]),
    );
    if idx % 9 == 8 {
        a.insert(
            "deletedAt".into(),
            json!(iso(org.meta[&Kind::Users][idx as usize].updated)),
        );
    }
    if org.rev(Kind::Users, idx) > 1 {
        a.insert(
            "displayName".into(),
            json!(format!("{f} (rev {})", org.rev(Kind::Users, idx))),
        );
    }
    stamps(org, Kind::Users, idx, &mut a);
    base(org, Kind::Users, idx, a, Map::new())
}

fn team(org: &Org, idx: u32) -> Value {
    let users = org.count(Kind::Users);
    let members: Vec<String> = (1..users)
        .filter(|u| (u + idx).is_multiple_of(3) || u % org.count(Kind::Teams) == idx)
        .map(|u| id(org, Kind::Users, u))
        .collect();
    let mut a = Map::new();
    let names = [
        "Tier 1 Support",
        "Billing & Payments",
        "Escalations",
        "Returns",
        "VIP Desk",
        "Équipe France",
    ];
    a.insert(
        "name".into(),
        json!(format!("{} {}", names[idx as usize % names.len()], idx)),
    );
    a.insert(
        "displayName".into(),
        json!(names[idx as usize % names.len()]),
    );
    a.insert("members".into(), json!(members));
    a.insert("deleted".into(), json!(deleted(org, Kind::Teams, idx)));
    stamps(org, Kind::Teams, idx, &mut a);
    base(org, Kind::Teams, idx, a, Map::new())
}

/// A shortcut or an SLA: named rules of the org (one deleted).
fn rule(org: &Org, kind: Kind, idx: u32) -> Value {
    const SHORTCUTS: &[&str] = &[
        "Refund approved",
        "Where is my order",
        "Password reset",
        "Escalate to tier 2",
        "Shipping delay apology",
        "Cancel subscription",
        "Invoice copy",
        "Warranty claim",
        "Thank you & close",
        "Ask for order number",
        "Données personnelles (RGPD)",
        "Out of office",
    ];
    const SLAS: &[&str] = &[
        "VIP: first reply in 1 h",
        "Standard: first reply in 8 h",
        "Email: resolve in 3 days",
    ];
    let mut a = Map::new();
    let names = if kind == Kind::Shortcuts {
        SHORTCUTS
    } else {
        SLAS
    };
    a.insert("name".into(), json!(names[idx as usize % names.len()]));
    if kind == Kind::Shortcuts {
        a.insert(
            "draft".into(),
            json!({"text": format!("Hello {{{{customer.firstName}}}}, … ({idx})")}),
        );
    } else {
        a.insert(
            "metrics".into(),
            json!({"firstResponse": {"target": 3600 * (idx + 1)}}),
        );
    }
    a.insert("deleted".into(), json!(idx == 5));
    stamps(org, kind, idx, &mut a);
    base(org, kind, idx, a, Map::new())
}

fn tag(org: &Org, idx: u32) -> Value {
    let mut a = Map::new();
    let name = TAG_NAMES[idx as usize % TAG_NAMES.len()];
    let name = if idx as usize >= TAG_NAMES.len() {
        format!("{name} {idx}")
    } else {
        name.to_string()
    };
    a.insert("name".into(), json!(name));
    a.insert(
        "color".into(),
        json!(format!(
            "#{:06x}",
            h(org.seed, Kind::Tags, idx, 5) & 0xff_ffff
        )),
    );
    let del = deleted(org, Kind::Tags, idx);
    a.insert("deleted".into(), json!(del));
    if del {
        a.insert(
            "deletedAt".into(),
            json!(iso(org.meta[&Kind::Tags][idx as usize].updated)),
        );
    }
    stamps(org, Kind::Tags, idx, &mut a);
    base(org, Kind::Tags, idx, a, Map::new())
}

/// Slug of klass `idx`.
pub fn klass_name(idx: u32) -> String {
    ["ecomm-order", "subscription", "wide-device"][idx as usize % 3].to_string()
}

/// Custom field names of klass `idx`; the third has over 100 fields,
/// more than a Zendesk custom object may hold.
pub fn klass_fields(idx: u32) -> Vec<(String, &'static str)> {
    match idx % 3 {
        0 => vec![
            ("orderNumberStr".into(), "string"),
            ("totalNum".into(), "number"),
            ("placedAt".into(), "date"),
            ("giftBool".into(), "boolean"),
            ("notesTxt".into(), "text"),
        ],
        // A subscription references the order that bought it: an `Id`
        // attribute, Kustomer's reference to another object
        // (https://developer.kustomer.com/docs/concepts/custom-attributes,
        // suffix `Id`), here a KObject of the order klass.
        1 => vec![
            ("planStr".into(), "string"),
            ("seatsNum".into(), "number"),
            ("renewsAt".into(), "date"),
            ("orderId".into(), "id"),
            ("portalUrl".into(), "url"),
        ],
        _ => (0..120)
            .map(|i| (format!("sensor{i:03}Num"), "number"))
            .collect(),
    }
}

/// `status` of klass `idx`. Kustomer's `GET /v1/klasses` returns only
/// `enabled` ones unless asked (spec: `status` = enabled | disabled |
/// existing_only, default enabled); the kobjects of a disabled klass are
/// still returned by search, so one klass here is disabled.
pub fn klass_status(idx: u32) -> &'static str {
    if idx == 1 {
        "disabled"
    } else {
        "enabled"
    }
}

fn klass(org: &Org, idx: u32) -> Value {
    let mut props = Map::new();
    for (name, ty) in klass_fields(idx) {
        props.insert(name.clone(), json!({"displayName": name, "type": ty}));
    }
    let mut a = Map::new();
    a.insert("name".into(), json!(klass_name(idx)));
    a.insert(
        "displayName".into(),
        json!(["E-commerce Order", "Subscription", "Wide Device"][idx as usize % 3]),
    );
    a.insert("icon".into(), json!("box"));
    a.insert("color".into(), json!("#1f78d1"));
    a.insert("status".into(), json!(klass_status(idx)));
    a.insert("metadata".into(), json!({"properties": props}));
    stamps(org, Kind::Klasses, idx, &mut a);
    base(org, Kind::Klasses, idx, a, Map::new())
}

fn company(org: &Org, idx: u32) -> Value {
    let mut r = rng(org.seed, Kind::Companies, idx);
    let names = [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Müller GmbH",
        "株式会社テスト",
        "Soylent",
    ];
    let name = format!("{} {}", names[idx as usize % names.len()], idx);
    // Every 7th company shares a domain with the previous one: dedup by domain.
    let dom_idx = if idx % 7 == 6 { idx - 1 } else { idx };
    let domain = format!(
        "{}{}.example",
        ascii_slug(names[dom_idx as usize % names.len()]),
        dom_idx
    );
    // An edited company (rev > 1) is renamed.
    let rev = org.rev(Kind::Companies, idx);
    let name = if rev > 1 {
        format!("{name} (rev {rev})")
    } else {
        name
    };
    let mut a = Map::new();
    a.insert("name".into(), json!(name));
    a.insert("externalId".into(), json!(format!("crm-{idx}")));
    a.insert("domains".into(), json!([domain]));
    a.insert(
        "phones".into(),
        json!([{"type": "work", "phone": format!("+1 555 {:04}", idx)}]),
    );
    // Every fifth company is tagged.
    let ntags = org.count(Kind::Tags);
    let tags: Vec<String> = if idx % 5 == 2 && ntags > 0 {
        vec![id(org, Kind::Tags, (idx * 5 + 1) % ntags)]
    } else {
        vec![]
    };
    a.insert("tags".into(), json!(tags));
    a.insert(
        "custom".into(),
        json!({"industryStr": (["retail", "saas", "logistics"][r.gen_range(0..3)]), "employeesNum": r.gen_range(1..5000), "partnerBool": r.gen_bool(0.2), "contractRenewalAt": iso(org.now + r.gen_range(1..400) * DAY)}),
    );
    stamps(org, Kind::Companies, idx, &mut a);
    base(org, Kind::Companies, idx, a, Map::new())
}

/// Company of customer `idx`, if any.
pub fn customer_company(org: &Org, idx: u32) -> Option<u32> {
    let x = h(org.seed, Kind::Customers, idx, 40);
    (!x.is_multiple_of(3)).then(|| (x / 3 % org.count(Kind::Companies) as u64) as u32)
}

fn customer(org: &Org, idx: u32) -> Value {
    let mut r = rng(org.seed, Kind::Customers, idx);
    let (f, l) = person_name(Kind::Customers, org.seed, idx);
    let mut emails = vec![json!({"type": "home", "email": customer_email(org, idx)})];
    if idx.is_multiple_of(5) {
        emails.push(
            json!({"type": "work", "email": format!("{}{}@work.example.com", ascii_slug(&l), idx)}),
        );
        if idx.is_multiple_of(10) {
            emails.push(json!({"type": "other", "email": format!("alt{}+{}@example.org", idx, ascii_slug(&f))}));
        }
    }
    let phones: Vec<Value> = (0..(idx % 3)).map(|p| json!({"type": (["mobile", "work"][p as usize]), "phone": format!("+44 7700 9{:05}", idx * 3 + p)})).collect();
    let mut a = Map::new();
    let rev = org.rev(Kind::Customers, idx);
    let name = if rev > 1 {
        format!("{f} {l} (rev {rev})")
    } else {
        format!("{f} {l}")
    };
    a.insert("name".into(), json!(name));
    a.insert("displayName".into(), json!(name));
    a.insert("firstName".into(), json!(f));
    a.insert("lastName".into(), json!(l));
    // Some customers have no email at all, only a phone (or nothing).
    if idx % 17 != 13 {
        a.insert("emails".into(), json!(emails));
    } else {
        a.insert("emails".into(), json!([]));
    }
    a.insert("phones".into(), json!(phones));
    a.insert("externalId".into(), json!(format!("shop-{idx}")));
    a.insert(
        "locale".into(),
        json!(["en_US", "de_DE", "fr_FR", "ja_JP", "es_MX"][idx as usize % 5]),
    );
    let ntags = org.count(Kind::Tags);
    a.insert(
        "tags".into(),
        json!((0..(idx % 3))
            .map(|t| id(org, Kind::Tags, (idx + t * 7) % ntags))
            .collect::<Vec<_>>()),
    );
    a.insert(
        "custom".into(),
        json!({"loyaltyTierStr": (["bronze", "silver", "gold", "platinum 💎"][r.gen_range(0..4)]), "lifetimeValueNum": (r.gen_range(0.0..10_000.0f64) * 100.0).round() / 100.0, "vipBool": r.gen_bool(0.1), "signupAt": iso(org.meta[&Kind::Customers][idx as usize].created - DAY), "bioTxt": "Prefers email. <b>Never</b> call before 9am.", "accountUrl": format!("https://admin.acme.test/customers/{idx}")}),
    );
    a.insert("deleted".into(), json!(deleted(org, Kind::Customers, idx)));
    let mut rels = Map::new();
    if let Some(c) = customer_company(org, idx) {
        a.insert("companyName".into(), json!(format!("company {c}")));
        rels.insert("company".into(), rel(org, Kind::Companies, c));
    }
    stamps(org, Kind::Customers, idx, &mut a);
    base(org, Kind::Customers, idx, a, rels)
}

/// Customer of conversation `c`.
pub fn conversation_customer(org: &Org, c: u32) -> u32 {
    (h(org.seed, Kind::Conversations, c, 50) % org.count(Kind::Customers) as u64) as u32
}

fn conversation(org: &Org, idx: u32) -> Value {
    let mut r = rng(org.seed, Kind::Conversations, idx);
    let rev = org.rev(Kind::Conversations, idx);
    let statuses = ["open", "snoozed", "done"];
    let status =
        statuses[((h(org.seed, Kind::Conversations, idx, 51) + rev as u64 - 1) % 3) as usize];
    let channel = CHANNELS[r.gen_range(0..CHANNELS.len())];
    let users = org.count(Kind::Users);
    let n_assignees = match idx % 6 {
        0 => 0,
        1..=3 => 1,
        4 => 2,
        _ => 3,
    };
    // An edited conversation (rev > 1) is reassigned: every assignee
    // moves on by one user per revision.
    let shift = rev - 1;
    let assigned: Vec<String> = (0..n_assignees)
        .map(|k| id(org, Kind::Users, 1 + (idx + k * 3 + shift) % (users - 1)))
        .collect();
    let teams: Vec<String> = if idx.is_multiple_of(4) {
        vec![]
    } else {
        vec![id(org, Kind::Teams, idx % org.count(Kind::Teams))]
    };
    let ntags = org.count(Kind::Tags);
    let mut tags: Vec<String> = (0..(idx % 4))
        .map(|t| id(org, Kind::Tags, (idx * 3 + t) % ntags))
        .collect();
    // ...and gets a tag more per revision.
    for r in 1..rev {
        let t = id(org, Kind::Tags, (idx * 3 + 4 + r * 5) % ntags);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let msgs = org.conv_messages(idx);
    let notes = org.conv_notes_of(idx);
    let last_msg = *msgs.last().expect("a conversation has a message");
    let meta = org.meta[&Kind::Conversations][idx as usize];
    let mut a = Map::new();
    // Some conversations have no subject: the transform falls back to the
    // first message's preview.
    let subjects = [
        "Where is my order?",
        "Refund für Bestellung",
        "Can't log in 😤",
        "Facture incorrecte",
        "",
        "Re: Re: Fwd: <script>alert(1)</script>",
        "配送について",
    ];
    a.insert(
        "name".into(),
        json!(subjects[idx as usize % subjects.len()]),
    );
    a.insert(
        "preview".into(),
        json!(format!(
            "Conversation {idx} about {}",
            subjects[idx as usize % subjects.len()]
        )),
    );
    // Conversations imported from an earlier helpdesk keep its ticket id.
    a.insert(
        "externalId".into(),
        if idx.is_multiple_of(4) {
            json!(format!("legacy-{idx}"))
        } else {
            Value::Null
        },
    );
    a.insert("status".into(), json!(status));
    a.insert("priority".into(), json!(1 + (idx % 5)));
    a.insert(
        "direction".into(),
        json!(if idx.is_multiple_of(5) { "out" } else { "in" }),
    );
    a.insert("channels".into(), json!([channel]));
    a.insert("tags".into(), json!(tags));
    a.insert("assignedUsers".into(), json!(assigned));
    a.insert("assignedTeams".into(), json!(teams));
    a.insert("messageCount".into(), json!(msgs.len()));
    a.insert("noteCount".into(), json!(notes.len()));
    let mut custom = json!({"orderNumberStr": format!("#{}", 10_000 + idx), "refundAmountNum": r.gen_range(0..500), "escalatedBool": r.gen_bool(0.1)});
    // Every third conversation references the order it is about (an `Id`
    // attribute naming a KObject of the order klass).
    // One in seven of those names an order gone from the org (deleted in
    // the shop): an id no KObject has.
    if idx.is_multiple_of(3) {
        let k = org.count(Kind::Kobjects);
        custom["orderId"] = json!(if idx % 7 == 3 {
            gone_id(org, Kind::Kobjects, idx)
        } else {
            id(org, Kind::Kobjects, order_kobject(org, idx % k))
        });
    }
    a.insert("custom".into(), custom);
    a.insert(
        "deleted".into(),
        // The giant thread is never deleted: it exists to be split downstream.
        json!(
            deleted(org, Kind::Conversations, idx) && idx != org.giant
                || org.deleted_convs.contains(&idx)
        ),
    );
    a.insert(
        "lastMessageAt".into(),
        json!(iso(org.meta[&Kind::Messages][last_msg as usize].created)),
    );
    if status == "snoozed" {
        a.insert(
            "snooze".into(),
            json!({"time": iso(meta.updated + 3 * DAY), "status": "scheduled"}),
        );
    }
    if status == "done" {
        a.insert(
            "firstDone".into(),
            json!({"createdAt": iso(meta.updated), "messageCount": msgs.len()}),
        );
    }
    let mut rels = Map::new();
    rels.insert(
        "customer".into(),
        rel(org, Kind::Customers, conversation_customer(org, idx)),
    );
    let cid = id(org, Kind::Conversations, idx);
    rels.insert(
        "messages".into(),
        json!({"links": {"self": format!("/v1/conversations/{cid}/messages")}}),
    );
    stamps(org, Kind::Conversations, idx, &mut a);
    base(org, Kind::Conversations, idx, a, rels)
}

/// Full body of message `m` (HTML for email). A few are far over
/// Zendesk's 65,535-character comment limit.
pub fn message_body(org: &Org, m: u32, email: bool) -> String {
    let mut r = rng(org.seed, Kind::Messages, m);
    let words = [
        "order",
        "refund",
        "thanks",
        "délai",
        "paquete",
        "お願い",
        "please",
        "🙏",
        "tracking",
        "invoice",
        "&amp;",
        "ASAP",
    ];
    let n = r.gen_range(5..60);
    let mut text: Vec<&str> = (0..n).map(|_| *words.choose(&mut r).unwrap()).collect();
    text.insert(0, "Hello,");
    let mut body = text.join(" ");
    let big = h(org.seed, Kind::Messages, m, 60) % 331 == 17;
    if big {
        let target = if m.is_multiple_of(2) { 70_000 } else { 140_000 };
        let para = "Log line ünïcode ✓ repeated for a very long pasted stack trace. ";
        while body.chars().count() < target {
            body.push_str(para);
        }
    }
    if email {
        let img = if m.is_multiple_of(4) {
            format!("<img src=\"https://cdn.kustomer.test/inline/{m}.png\" alt=\"screenshot\">")
        } else {
            String::new()
        };
        format!(
            "<html><body><p>{}</p>{img}<p>--<br>Sent from my phone</p></body></html>",
            body
        )
    } else {
        body
    }
}

/// Longest `preview` Kustomer stores: its create-message schema caps it at
/// 10,240 characters (kustomer-openapi.json, `POST /conversations/{id}/messages`).
pub const PREVIEW_MAX: usize = 10_240;
/// Length of an email's plain-text snippet in `preview` (the spec's
/// example is a short snippet; the exact length is the simulator's choice).
const EMAIL_PREVIEW: usize = 200;

/// Conversation, direction and channel app of message `m`.
pub fn message_shape(org: &Org, m: u32) -> (u32, bool, &'static str) {
    let c = org.message_conv(m);
    let first = org.conv_msgs[c as usize];
    let mut r = rng(org.seed, Kind::Messages, m);
    let inbound = (m - first).is_multiple_of(2) || c == org.giant && r.gen_bool(0.5);
    let conv_channel = {
        let mut cr = rng(org.seed, Kind::Conversations, c);
        CHANNELS[cr.gen_range(0..CHANNELS.len())]
    };
    (c, inbound, conv_channel)
}

/// The channel app a message came through; its full content sits at
/// `links.related` = `/v1/{app}/messages/{id}` (the spec's example:
/// `/v1/postmark/messages/{id}` for an email).
pub fn message_app(channel: &str) -> &'static str {
    if channel == "email" {
        "postmark"
    } else {
        "chat"
    }
}

/// The full content of message `m` as its channel app serves it at
/// `links.related`. Kustomer documents no schema for it: the simulator
/// answers with Postmark's field names for email (`HtmlBody`,
/// `TextBody`) and `body` for chat; `ferry probe` checks the real shape.
pub fn message_content(org: &Org, m: u32) -> Value {
    let (_, _, channel) = message_shape(org, m);
    let email = channel == "email";
    let body = message_body(org, m, email);
    let mid = id(org, Kind::Messages, m);
    let app = message_app(channel);
    let attributes = if email {
        json!({"HtmlBody": body, "TextBody": strip_tags_all(&body), "Subject": "Re: your order"})
    } else {
        json!({"body": body})
    };
    json!({"data": {"type": format!("{app}-message"), "id": mid, "attributes": attributes,
        "links": {"self": format!("/v1/{app}/messages/{mid}")}}})
}

/// Whether ferry must read message `m`'s content at `links.related` to
/// have its whole text: every email, and any preview at the cap.
pub fn needs_content(org: &Org, m: u32) -> bool {
    let (_, _, channel) = message_shape(org, m);
    channel == "email" || message_body(org, m, false).chars().count() >= PREVIEW_MAX
}

/// Whether message `m`'s body shows an inline image (every fourth email).
pub fn has_inline_image(org: &Org, m: u32) -> bool {
    let (_, _, channel) = message_shape(org, m);
    channel == "email" && m.is_multiple_of(4)
}

/// Ids ferry lands for the inline images the CDN still serves
/// (`<message id>:img1`; one image a body).
pub fn inline_image_ids(org: &Org) -> Vec<String> {
    (0..org.count(Kind::Messages))
        .filter(|&m| has_inline_image(org, m) && !super::storage::inline_image_gone(m))
        .map(|m| format!("{}:img1", id(org, Kind::Messages, m)))
        .collect()
}

/// Ids of the messages whose content ferry reads (`message_contents`).
pub fn content_ids(org: &Org) -> Vec<String> {
    (0..org.count(Kind::Messages))
        .filter(|&m| needs_content(org, m))
        .map(|m| id(org, Kind::Messages, m))
        .collect()
}

fn message(org: &Org, m: u32) -> Value {
    let (c, inbound, conv_channel) = message_shape(org, m);
    let first = org.conv_msgs[c as usize];
    let email = conv_channel == "email";
    let body = message_body(org, m, email);
    // Kustomer's message records carry `preview`, never the body: an
    // email's preview is a plain-text snippet, a chat message's preview is
    // its text up to the 10,240-character cap.
    let preview: String = if email {
        strip_tags(&body).chars().take(EMAIL_PREVIEW).collect()
    } else {
        body.chars().take(PREVIEW_MAX).collect()
    };
    let cust = conversation_customer(org, c);
    let users = org.count(Kind::Users);
    let meta = org.meta[&Kind::Messages][m as usize];
    let mut a = Map::new();
    a.insert("channel".into(), json!(conv_channel));
    a.insert("app".into(), json!(message_app(conv_channel)));
    a.insert(
        "direction".into(),
        json!(if inbound { "in" } else { "out" }),
    );
    a.insert(
        "directionType".into(),
        json!(match (m == first, inbound) {
            (true, true) => "initial-in",
            (true, false) => "initial-out",
            (false, true) => "followup-in",
            (false, false) => "response-out",
        }),
    );
    a.insert("preview".into(), json!(preview));
    a.insert(
        "subject".into(),
        json!(if email { "Re: your order" } else { "" }),
    );
    a.insert("size".into(), json!(body.len()));
    a.insert(
        "status".into(),
        json!(if inbound { "received" } else { "sent" }),
    );
    a.insert("auto".into(), json!(false));
    a.insert("sentAt".into(), json!(iso(meta.created)));
    a.insert("lang".into(), json!("en"));
    if email {
        a.insert("meta".into(), json!({"from": if inbound { customer_email(org, cust) } else { "support@acme.test".to_string() }, "to": [{"email": if inbound { "support@acme.test".to_string() } else { customer_email(org, cust) }}], "subject": "Re: your order"}));
    } else {
        a.insert("meta".into(), json!({}));
    }
    let mut rels = Map::new();
    rels.insert("customer".into(), rel(org, Kind::Customers, cust));
    rels.insert("conversation".into(), rel(org, Kind::Conversations, c));
    if !inbound {
        rels.insert(
            "createdBy".into(),
            rel(org, Kind::Users, 1 + m % (users - 1)),
        );
    }
    let atts: Vec<Value> = org
        .message_attachments(m)
        .into_iter()
        .map(|x| json!({"type": "attachment", "id": id(org, Kind::Attachments, x)}))
        .collect();
    if !atts.is_empty() {
        rels.insert("attachments".into(), json!({"data": atts}));
    }
    stamps(org, Kind::Messages, m, &mut a);
    let mut v = base(org, Kind::Messages, m, a, rels);
    v["links"]["related"] = json!(format!(
        "/v1/{}/messages/{}",
        message_app(conv_channel),
        id(org, Kind::Messages, m)
    ));
    v
}

/// The whole text of an HTML body (no length bound).
fn strip_tags_all(s: &str) -> String {
    strip_tags_upto(s, usize::MAX)
}

fn strip_tags(s: &str) -> String {
    strip_tags_upto(s, 1000)
}

/// The text of an HTML body, tags dropped, stopping past `max` bytes.
fn strip_tags_upto(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_add(1).min(1 << 20)));
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
        if out.len() > max {
            break;
        }
    }
    out
}

fn note(org: &Org, n: u32) -> Value {
    let c = org.note_conv(n);
    let users = org.count(Kind::Users);
    let mut a = Map::new();
    a.insert(
        "body".into(),
        json!(format!(
            "Internal: checked order #{} — customer is ok with a partial refund. @agent{} ✅",
            10_000 + c,
            n % 7
        )),
    );
    a.insert("createdByTeams".into(), json!([]));
    let mut rels = Map::new();
    rels.insert(
        "customer".into(),
        rel(org, Kind::Customers, conversation_customer(org, c)),
    );
    rels.insert("conversation".into(), rel(org, Kind::Conversations, c));
    rels.insert(
        "createdBy".into(),
        rel(org, Kind::Users, 1 + n % (users - 1)),
    );
    stamps(org, Kind::Notes, n, &mut a);
    base(org, Kind::Notes, n, a, rels)
}

/// The order kobject (of klass 0, `ecomm-order`) that kobject `idx`
/// references: the order just before it.
pub fn order_kobject(org: &Org, idx: u32) -> u32 {
    let klasses = org.count(Kind::Klasses);
    idx - idx % klasses
}

fn kobject(org: &Org, idx: u32) -> Value {
    let klass = idx % org.count(Kind::Klasses);
    let mut r = rng(org.seed, Kind::Kobjects, idx);
    let mut custom = Map::new();
    for (name, ty) in klass_fields(klass) {
        let v = match ty {
            "number" => json!(r.gen_range(0..10_000)),
            "date" => json!(iso(
                org.meta[&Kind::Kobjects][idx as usize].created + r.gen_range(0..90) * DAY
            )),
            "boolean" => json!(r.gen_bool(0.5)),
            // The order kobject (klass 0) bought with this one; one in nine
            // names an order gone from the org.
            "id" if idx % 27 == 1 => json!(gone_id(org, Kind::Kobjects, idx)),
            "id" => json!(id(org, Kind::Kobjects, order_kobject(org, idx))),
            "url" => json!(format!("https://portal.acme.test/subscriptions/{idx}")),
            "text" => {
                // One record carries a text field far over Zendesk's 32 KB
                // per custom object record.
                if idx % 50 == 3 {
                    json!("gift message ".repeat(3_000))
                } else {
                    json!("Leave at the door, please")
                }
            }
            _ => json!(format!("#{}", 50_000 + idx)),
        };
        custom.insert(name, v);
    }
    let mut a = Map::new();
    a.insert(
        "title".into(),
        json!(format!("{} {}", klass_name(klass), idx)),
    );
    a.insert("description".into(), json!("Synced from the shop"));
    a.insert("externalId".into(), json!(format!("ko-{idx}")));
    a.insert("custom".into(), Value::Object(custom));
    // Every fourth record is tagged (a KObject takes tags like any
    // Kustomer object).
    let ntags = org.count(Kind::Tags);
    let tags: Vec<String> = if idx % 4 == 1 && ntags > 0 {
        vec![id(org, Kind::Tags, (idx * 3) % ntags)]
    } else {
        vec![]
    };
    a.insert("tags".into(), json!(tags));
    let mut rels = Map::new();
    rels.insert("klass".into(), rel(org, Kind::Klasses, klass));
    // "It belongs to a customer or company" (developer.kustomer.com/docs/
    // concepts/custom-objects): most belong to a customer, some to a
    // company as well, and some to a company alone.
    let companies = org.count(Kind::Companies);
    let company = (h(org.seed, Kind::Kobjects, idx, 71) % companies.max(1) as u64) as u32;
    if !(idx % 13 == 6 && companies > 0) {
        rels.insert(
            "customer".into(),
            rel(
                org,
                Kind::Customers,
                (h(org.seed, Kind::Kobjects, idx, 70) % org.count(Kind::Customers) as u64) as u32,
            ),
        );
    }
    if matches!(idx % 13, 2 | 6) && companies > 0 {
        rels.insert("company".into(), rel(org, Kind::Companies, company));
    }
    stamps(org, Kind::Kobjects, idx, &mut a);
    base(org, Kind::Kobjects, idx, a, rels)
}

/// File name, content type and bytes of attachment `idx`.
pub fn attachment_file(org: &Org, idx: u32) -> (String, &'static str, Vec<u8>) {
    let mut r = rng(org.seed, Kind::Attachments, idx);
    match idx % 9 {
        // The same logo attached again and again: content addressing dedups it.
        0 => ("logo.png".into(), "image/png", logo()),
        // A hostile file name.
        4 => (
            "../../etc/passwd".into(),
            "text/plain",
            b"root:x:0:0:not really\n".to_vec(),
        ),
        // An empty file.
        7 => ("empty.txt".into(), "text/plain", Vec::new()),
        _ => {
            let n = r.gen_range(200..6_000);
            let mut bytes = b"%PDF-1.4\n".to_vec();
            bytes.extend((0..n).map(|_| r.gen::<u8>()));
            (
                format!("invoice-{idx} (copy).pdf"),
                "application/pdf",
                bytes,
            )
        }
    }
}

fn logo() -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    v.extend((0..1024u32).map(|i| (i * 31 % 251) as u8));
    v
}

fn attachment(org: &Org, idx: u32) -> Value {
    let (name, ctype, bytes) = attachment_file(org, idx);
    let m = org.attach_msg[idx as usize];
    let mut a = Map::new();
    a.insert("name".into(), json!(name));
    a.insert("contentType".into(), json!(ctype));
    a.insert("contentLength".into(), json!(bytes.len()));
    a.insert("redacted".into(), json!(false));
    a.insert("uploaded".into(), json!(true));
    a.insert("context".into(), json!("attachment"));
    let mut rels = Map::new();
    rels.insert("message".into(), rel(org, Kind::Messages, m));
    stamps(org, Kind::Attachments, idx, &mut a);
    let mut v = base(org, Kind::Attachments, idx, a, rels);
    // A presigned storage link is set when the record is served
    // (`storage::sign_record`): it expires, so it is made per answer.
    v["links"]["related"] = Value::Null;
    v
}
