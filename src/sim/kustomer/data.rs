//! The simulator's org: how many records of each kind exist, when each was
//! created and last updated, and how records relate. Record *content* is a
//! pure function of (seed, kind, index) — see `records.rs` — so an org of a
//! million messages costs a few dozen MB, not gigabytes.

use std::collections::{BTreeSet, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Milliseconds in a day.
pub const DAY: i64 = 86_400_000;
/// Kustomer's search window: records not updated for two years are archived.
pub const TWO_YEARS: i64 = 730 * DAY;

/// Every object kind the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Users = 0,
    Teams,
    Tags,
    Klasses,
    Companies,
    Customers,
    Conversations,
    Messages,
    Notes,
    Kobjects,
    Attachments,
    /// Canned replies: rules no API can carry to Zendesk (rebuilt as macros).
    Shortcuts,
    /// SLA policies: rebuilt by hand as Zendesk SLA policies.
    Slas,
}

/// All kinds, in stats order.
pub const KINDS: [Kind; 13] = [
    Kind::Users,
    Kind::Teams,
    Kind::Tags,
    Kind::Klasses,
    Kind::Companies,
    Kind::Customers,
    Kind::Conversations,
    Kind::Messages,
    Kind::Notes,
    Kind::Kobjects,
    Kind::Attachments,
    Kind::Shortcuts,
    Kind::Slas,
];

impl Kind {
    /// Plural name used in paths, stats and ferry's object names.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Teams => "teams",
            Kind::Tags => "tags",
            Kind::Klasses => "klasses",
            Kind::Companies => "companies",
            Kind::Customers => "customers",
            Kind::Conversations => "conversations",
            Kind::Messages => "messages",
            Kind::Notes => "notes",
            Kind::Kobjects => "kobjects",
            Kind::Attachments => "attachments",
            Kind::Shortcuts => "shortcuts",
            Kind::Slas => "slas",
        }
    }

    /// JSON:API `type` of a record.
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Users => "user",
            Kind::Teams => "team",
            Kind::Tags => "tag",
            Kind::Klasses => "klass",
            Kind::Companies => "company",
            Kind::Customers => "customer",
            Kind::Conversations => "conversation",
            Kind::Messages => "message",
            Kind::Notes => "note",
            Kind::Kobjects => "kobject",
            Kind::Attachments => "attachment",
            Kind::Shortcuts => "shortcut",
            Kind::Slas => "sla",
        }
    }

    /// Parses a plural path segment.
    pub fn from_plural(s: &str) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.plural() == s)
    }

    /// Parses a search `queryContext`.
    pub fn from_context(s: &str) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.singular() == s)
    }

    /// Kinds that age into the archive after two years without updates.
    pub fn archivable(self) -> bool {
        matches!(
            self,
            Kind::Companies
                | Kind::Customers
                | Kind::Conversations
                | Kind::Messages
                | Kind::Notes
                | Kind::Kobjects
        )
    }
}

/// Timestamps of one record.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub created: i64,
    pub updated: i64,
}

/// The simulated org.
pub struct Org {
    pub seed: u64,
    /// "Now" when the simulator started; the archive cut-off derives from it.
    pub now: i64,
    pub cutoff: i64,
    pub meta: HashMap<Kind, Vec<Meta>>,
    /// Per kind: records with index below this were archived at start.
    pub archived_below: HashMap<Kind, u32>,
    /// Archived records that were updated since and are live again.
    pub revived: HashMap<Kind, BTreeSet<u32>>,
    /// Per kind, every record ordered by (updated, index): the search order.
    pub by_updated: HashMap<Kind, BTreeSet<(i64, u32)>>,
    /// Revision bumps from mutations.
    pub revs: HashMap<(Kind, u32), u32>,
    /// conversation index → first message index (len = conversations + 1).
    pub conv_msgs: Vec<u32>,
    /// conversation index → first note index.
    pub conv_notes: Vec<u32>,
    /// attachment index → message index (ascending).
    pub attach_msg: Vec<u32>,
    /// The conversation with more than 5,000 messages.
    pub giant: u32,
    /// Last timestamp handed out by a mutation (strictly increasing).
    pub last_mutation: i64,
    /// Messages and notes generated at start; those added later by
    /// mutations have higher indices and their conversation here.
    pub base_msgs: u32,
    pub base_notes: u32,
    pub extra_msg_conv: Vec<u32>,
    pub extra_note_conv: Vec<u32>,
    /// Conversations deleted by a mutation (`deleted: true`).
    pub deleted_convs: BTreeSet<u32>,
    /// Mutations applied, by kind (`/__sim/stats`).
    pub mutations: std::collections::BTreeMap<&'static str, u64>,
}

/// One change to the org, as agents make them while a migration runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// A record edited (a customer's or company's name, a conversation's
    /// status, tags and assignee: see `records.rs`, driven by `rev`).
    Update(Kind, u32),
    /// A new message on an existing conversation.
    NewMessage(u32),
    /// A new note on an existing conversation.
    NewNote(u32),
    /// A conversation deleted.
    Delete(u32),
}

impl Mutation {
    /// The name `/__sim/stats` counts it under.
    pub fn name(self) -> &'static str {
        match self {
            Mutation::Update(Kind::Conversations, _) => "conversation_updates",
            Mutation::Update(Kind::Customers, _) => "customer_edits",
            Mutation::Update(Kind::Companies, _) => "company_edits",
            Mutation::Update(..) => "other_updates",
            Mutation::NewMessage(_) => "new_messages",
            Mutation::NewNote(_) => "new_notes",
            Mutation::Delete(_) => "deleted_conversations",
        }
    }
}

/// Messages in the giant conversation: over Zendesk's 5,000-comment limit.
pub const GIANT_MESSAGES: u32 = 5_050;

/// Deterministic hash of (seed, kind, index, salt).
pub fn h(seed: u64, kind: Kind, idx: u32, salt: u64) -> u64 {
    let mut x = seed
        ^ ((kind as u64) << 56)
        ^ ((idx as u64) << 8)
        ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A seeded RNG for one record's content.
pub fn rng(seed: u64, kind: Kind, idx: u32) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(h(seed, kind, idx, 7))
}

impl Org {
    /// Builds the org for `customers` customers; everything else scales from it.
    pub fn generate(seed: u64, customers: u32, now: i64) -> Org {
        Org::generate_with(seed, customers, now, false)
    }

    /// [`Org::generate`]; with `distinct_times`, the bulk-imported thread's
    /// messages get updatedAt values 1 ms apart instead of one shared value
    /// (for clients without a keyset tie-break, e.g. Singer's tap-kustomer).
    pub fn generate_with(seed: u64, customers: u32, now: i64, distinct_times: bool) -> Org {
        let customers = customers.max(1);
        let users = (customers / 40).max(6);
        let teams = (users / 4).max(3);
        let tags = 25 + customers / 50;
        let klasses = 3;
        let companies = (customers / 8).max(3);
        let conversations = customers * 2 + 1;
        let kobjects = customers / 2 + 2;

        let cutoff = now - TWO_YEARS;
        let mut org = Org {
            seed,
            now,
            cutoff,
            meta: HashMap::new(),
            archived_below: HashMap::new(),
            revived: HashMap::new(),
            by_updated: HashMap::new(),
            revs: HashMap::new(),
            conv_msgs: Vec::new(),
            conv_notes: Vec::new(),
            attach_msg: Vec::new(),
            giant: 0,
            last_mutation: now,
            base_msgs: 0,
            base_notes: 0,
            extra_msg_conv: Vec::new(),
            extra_note_conv: Vec::new(),
            deleted_convs: BTreeSet::new(),
            mutations: Default::default(),
        };

        // Plain objects: spread over three years, the oldest 12% archived.
        for (kind, n) in [
            (Kind::Users, users),
            (Kind::Teams, teams),
            (Kind::Tags, tags),
            (Kind::Klasses, klasses),
            (Kind::Companies, companies),
            (Kind::Customers, customers),
            (Kind::Conversations, conversations),
            (Kind::Kobjects, kobjects),
            (Kind::Shortcuts, 12),
            (Kind::Slas, 3),
        ] {
            // At least one archived record per archivable kind, so every
            // org exercises the archive search.
            let archived = if kind.archivable() {
                ((n as u64 * 12 / 100) as u32).max(1).min(n - 1)
            } else {
                0
            };
            let metas = timeline(seed, kind, n, archived, now);
            org.archived_below.insert(kind, archived);
            org.meta.insert(kind, metas);
        }
        org.giant = org.archived_below[&Kind::Conversations];

        // Children follow their conversation's time line.
        let convs = org.meta[&Kind::Conversations].clone();
        let mut msgs = Vec::new();
        let mut notes = Vec::new();
        let mut attach_msg = Vec::new();
        let (mut msg_arch, mut note_arch) = (0u32, 0u32);
        for (c, cm) in convs.iter().enumerate() {
            let c = c as u32;
            org.conv_msgs.push(msgs.len() as u32);
            org.conv_notes.push(notes.len() as u32);
            let giant = c == org.giant;
            let count = if giant {
                GIANT_MESSAGES
            } else {
                1 + (h(seed, Kind::Conversations, c, 1) % 19) as u32
            };
            for j in 0..count {
                let created = if giant {
                    cm.created + j as i64 * 1000
                } else {
                    cm.created + j as i64 * 30_000
                };
                // The giant thread was bulk-imported: thousands of messages
                // share one updatedAt, which breaks naive keyset paging.
                let updated = if giant {
                    cm.created + 2 * 3_600_000 + if distinct_times { j as i64 } else { 0 }
                } else {
                    created + (h(seed, Kind::Messages, msgs.len() as u32, 2) % 600_000) as i64
                };
                let m = msgs.len() as u32;
                if !giant && h(seed, Kind::Messages, m, 3).is_multiple_of(12) {
                    attach_msg.push(m);
                }
                msgs.push(Meta {
                    created,
                    updated: updated.min(now - 60_000),
                });
            }
            for k in 0..(h(seed, Kind::Conversations, c, 4) % 3) as u32 {
                let created = cm.created + (k as i64 + 1) * 45_000;
                notes.push(Meta {
                    created,
                    updated: (created + 5_000).min(now - 60_000),
                });
            }
            if c < org.archived_below[&Kind::Conversations] {
                msg_arch = msgs.len() as u32;
                note_arch = notes.len() as u32;
            }
        }
        org.conv_msgs.push(msgs.len() as u32);
        org.conv_notes.push(notes.len() as u32);
        let attachments: Vec<Meta> = attach_msg.iter().map(|&m| msgs[m as usize]).collect();
        let att_arch = attach_msg.iter().filter(|&&m| m < msg_arch).count() as u32;
        org.base_msgs = msgs.len() as u32;
        org.base_notes = notes.len() as u32;
        org.meta.insert(Kind::Messages, msgs);
        org.meta.insert(Kind::Notes, notes);
        org.meta.insert(Kind::Attachments, attachments);
        org.archived_below.insert(Kind::Messages, msg_arch);
        org.archived_below.insert(Kind::Notes, note_arch);
        // Attachments are fetched by id, never searched: not archived.
        let _ = att_arch;
        org.archived_below.insert(Kind::Attachments, 0);
        org.attach_msg = attach_msg;

        for kind in KINDS {
            let set: BTreeSet<(i64, u32)> = org.meta[&kind]
                .iter()
                .enumerate()
                .map(|(i, m)| (m.updated, i as u32))
                .collect();
            org.by_updated.insert(kind, set);
            org.revived.insert(kind, BTreeSet::new());
        }
        org
    }

    /// Number of records of `kind`.
    pub fn count(&self, kind: Kind) -> u32 {
        self.meta[&kind].len() as u32
    }

    /// Number of live (not archived) records: what plain lists return.
    pub fn live_count(&self, kind: Kind) -> u32 {
        self.count(kind) - self.archived_below[&kind] + self.revived[&kind].len() as u32
    }

    /// The `pos`-th record of a plain list (id order, archived excluded).
    /// Revived records have old ids, so they sort first.
    pub fn live_at(&self, kind: Kind, pos: u32) -> Option<u32> {
        let revived = &self.revived[&kind];
        if (pos as usize) < revived.len() {
            return revived.iter().nth(pos as usize).copied();
        }
        let idx = self.archived_below[&kind] + pos - revived.len() as u32;
        (idx < self.count(kind)).then_some(idx)
    }

    /// Conversation of a message.
    pub fn message_conv(&self, m: u32) -> u32 {
        if m >= self.base_msgs {
            return self.extra_msg_conv[(m - self.base_msgs) as usize];
        }
        (self.conv_msgs.partition_point(|&s| s <= m) - 1) as u32
    }

    /// Conversation of a note.
    pub fn note_conv(&self, n: u32) -> u32 {
        if n >= self.base_notes {
            return self.extra_note_conv[(n - self.base_notes) as usize];
        }
        (self.conv_notes.partition_point(|&s| s <= n) - 1) as u32
    }

    /// Messages of conversation `c`, oldest first (added ones last).
    pub fn conv_messages(&self, c: u32) -> Vec<u32> {
        let (a, b) = (self.conv_msgs[c as usize], self.conv_msgs[c as usize + 1]);
        let extra = self
            .extra_msg_conv
            .iter()
            .enumerate()
            .filter(|(_, &x)| x == c)
            .map(|(i, _)| self.base_msgs + i as u32);
        (a..b).chain(extra).collect()
    }

    /// Notes of conversation `c`, oldest first.
    pub fn conv_notes_of(&self, c: u32) -> Vec<u32> {
        let (a, b) = (self.conv_notes[c as usize], self.conv_notes[c as usize + 1]);
        let extra = self
            .extra_note_conv
            .iter()
            .enumerate()
            .filter(|(_, &x)| x == c)
            .map(|(i, _)| self.base_notes + i as u32);
        (a..b).chain(extra).collect()
    }

    /// Attachments of a message (indices).
    pub fn message_attachments(&self, m: u32) -> Vec<u32> {
        let start = self.attach_msg.partition_point(|&x| x < m);
        let end = self.attach_msg.partition_point(|&x| x <= m);
        (start as u32..end as u32).collect()
    }

    /// Revision of a record (1 + mutations).
    pub fn rev(&self, kind: Kind, idx: u32) -> u32 {
        1 + self.revs.get(&(kind, idx)).copied().unwrap_or(0)
    }

    /// Updates one record "now": bumps its revision and `updatedAt`.
    pub fn mutate(&mut self, kind: Kind, idx: u32, wall_now: i64) -> i64 {
        let ts = self.touch(kind, idx, wall_now);
        *self.revs.entry((kind, idx)).or_insert(0) += 1;
        ts
    }

    /// Moves a record's `updatedAt` to "now" (strictly increasing), its
    /// content unchanged.
    fn touch(&mut self, kind: Kind, idx: u32, wall_now: i64) -> i64 {
        let ts = wall_now.max(self.last_mutation + 1);
        self.last_mutation = ts;
        let m = &mut self.meta.get_mut(&kind).unwrap()[idx as usize];
        let old = m.updated;
        m.updated = ts;
        let set = self.by_updated.get_mut(&kind).unwrap();
        set.remove(&(old, idx));
        set.insert((ts, idx));
        if idx < self.archived_below[&kind] {
            self.revived.get_mut(&kind).unwrap().insert(idx);
        }
        ts
    }

    /// A new record of `kind` (messages, notes) created "now".
    fn append(&mut self, kind: Kind, wall_now: i64) -> (u32, i64) {
        let ts = wall_now.max(self.last_mutation + 1);
        self.last_mutation = ts;
        let list = self.meta.get_mut(&kind).unwrap();
        let idx = list.len() as u32;
        list.push(Meta {
            created: ts,
            updated: ts,
        });
        self.by_updated.get_mut(&kind).unwrap().insert((ts, idx));
        (idx, ts)
    }

    /// Applies one mutation "now"; returns the changed record and its new
    /// `updatedAt`.
    pub fn apply(&mut self, m: Mutation, wall_now: i64) -> (Kind, u32, i64) {
        *self.mutations.entry(m.name()).or_insert(0) += 1;
        match m {
            Mutation::Update(kind, idx) => (kind, idx, self.mutate(kind, idx, wall_now)),
            Mutation::NewMessage(c) => {
                let (idx, _) = self.append(Kind::Messages, wall_now);
                self.extra_msg_conv.push(c);
                // The conversation's updatedAt moves with its new message.
                self.touch(Kind::Conversations, c, wall_now);
                let ts = self.meta[&Kind::Messages][idx as usize].updated;
                (Kind::Messages, idx, ts)
            }
            Mutation::NewNote(c) => {
                let (idx, ts) = self.append(Kind::Notes, wall_now);
                self.extra_note_conv.push(c);
                self.touch(Kind::Conversations, c, wall_now);
                (Kind::Notes, idx, ts)
            }
            Mutation::Delete(c) => {
                self.deleted_convs.insert(c);
                (
                    Kind::Conversations,
                    c,
                    self.touch(Kind::Conversations, c, wall_now),
                )
            }
        }
    }

    /// A live conversation a mutation can change: not archived, not the
    /// giant thread, not deleted.
    fn live_conversation(&self, rng: &mut impl Rng) -> u32 {
        let lo = self.archived_below[&Kind::Conversations];
        let n = self.count(Kind::Conversations);
        loop {
            let c = rng.gen_range(lo..n);
            if c != self.giant && !self.deleted_convs.contains(&c) {
                return c;
            }
        }
    }

    /// A random mutation, of `only` kind when given (`update`,
    /// `conversation`, `customer`, `company`, `message`, `note`, `delete`).
    pub fn random_mutation(&self, rng: &mut impl Rng, only: Option<&str>) -> Option<Mutation> {
        let pick = match only {
            Some(k) => k.to_string(),
            None => [
                "update",
                "update",
                "conversation",
                "customer",
                "company",
                "message",
                "message",
                "note",
                "delete",
            ][rng.gen_range(0..9)]
            .to_string(),
        };
        Some(match pick.as_str() {
            "update" => {
                let (k, i) = self.random_target(rng);
                Mutation::Update(k, i)
            }
            "conversation" => Mutation::Update(Kind::Conversations, self.live_conversation(rng)),
            "customer" => Mutation::Update(
                Kind::Customers,
                rng.gen_range(0..self.count(Kind::Customers)),
            ),
            "company" => Mutation::Update(
                Kind::Companies,
                rng.gen_range(0..self.count(Kind::Companies)),
            ),
            "message" => Mutation::NewMessage(self.live_conversation(rng)),
            "note" => Mutation::NewNote(self.live_conversation(rng)),
            "delete" => Mutation::Delete(self.live_conversation(rng)),
            _ => return None,
        })
    }

    /// Picks a random record to mutate.
    pub fn random_target(&self, rng: &mut impl Rng) -> (Kind, u32) {
        const MUTABLE: [Kind; 8] = [
            Kind::Users,
            Kind::Tags,
            Kind::Companies,
            Kind::Customers,
            Kind::Conversations,
            Kind::Messages,
            Kind::Notes,
            Kind::Kobjects,
        ];
        let kind = MUTABLE[rng.gen_range(0..MUTABLE.len())];
        (kind, rng.gen_range(0..self.count(kind)))
    }
}

/// Created/updated times for `n` records, the first `archived` of them more
/// than two years old.
fn timeline(seed: u64, kind: Kind, n: u32, archived: u32, now: i64) -> Vec<Meta> {
    let old_start = now - 3 * 365 * DAY;
    // Archived records live in [now-3y, now-2y-2d): with at most 6 h of
    // jitter their updatedAt stays clear of the two-year cut-off.
    let old_span = (now - TWO_YEARS - 2 * DAY) - old_start;
    let live_start = now - TWO_YEARS + 2 * DAY;
    let live_span = TWO_YEARS - 3 * DAY;
    (0..n)
        .map(|i| {
            let created = if i < archived {
                old_start + (i as i64 * (old_span.max(DAY) / archived.max(1) as i64))
            } else {
                live_start + ((i - archived) as i64 * (live_span / (n - archived).max(1) as i64))
            };
            let jitter = (h(seed, kind, i, 9) % (6 * 3_600_000)) as i64;
            let updated = if i < archived {
                created + jitter
            } else {
                (created + jitter).min(now - 60_000)
            };
            Meta { created, updated }
        })
        .collect()
}
