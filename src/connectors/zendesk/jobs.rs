//! Zendesk's background jobs, watched together. Every bulk call answers
//! with a job to poll; an account may have at most 30 queued or running
//! ("Job limit", Zendesk's rate-limits reference; `TooManyJobs` past it)
//! and keeps only its last 100 job statuses for an hour (Zendesk community
//! post 4408867925914, quoting the docs). Polling each job on its own cost
//! ~20 requests a job at 10-second jobs; here one
//! `GET /api/v2/job_statuses/show_many?ids=…` (official spec,
//! ShowManyJobStatuses: up to 100 ids, each answered with a whole
//! JobStatusObject, results included) serves every job in flight.
//!
//! There is no poller task: whichever waiting batch finds the board due
//! polls for all of them and leaves each answer on the board.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{FerryError, Result};
use crate::http::ApiClient;

/// How long ferry waits for one job before giving up on it.
pub const JOB_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// Ids a show_many request takes.
const IDS_PER_POLL: usize = 100;
/// Time between polls: short while jobs keep finishing, doubling up to
/// `MAX_GAP` while none does.
const MIN_GAP: Duration = Duration::from_millis(100);
const MAX_GAP: Duration = Duration::from_secs(2);

/// The jobs in flight and what the last polls said of them.
pub struct JobBoard {
    state: Mutex<Board>,
    /// Jobs ferry may have queued or running at once; lowered by one each
    /// time Zendesk answers TooManyJobs (another integration's jobs count
    /// against the same limit). A batch holds a permit from its POST until
    /// its job is over.
    slots: AtomicUsize,
    permits: tokio::sync::Semaphore,
    /// Status requests sent (for benches and tests).
    pub polls: AtomicUsize,
}

struct Board {
    pending: HashSet<String>,
    finished: HashMap<String, Value>,
    /// Jobs Zendesk no longer knows (expired or pushed out of its last 100).
    lost: HashSet<String>,
    next_poll: Instant,
    gap: Duration,
    polling: bool,
}

impl JobBoard {
    /// A board allowing `slots` jobs in flight.
    pub fn new(slots: usize) -> JobBoard {
        JobBoard {
            state: Mutex::new(Board {
                pending: HashSet::new(),
                finished: HashMap::new(),
                lost: HashSet::new(),
                next_poll: Instant::now(),
                gap: MIN_GAP,
                polling: false,
            }),
            slots: AtomicUsize::new(slots.max(1)),
            permits: tokio::sync::Semaphore::new(slots.max(1)),
            polls: AtomicUsize::new(0),
        }
    }

    /// Jobs ferry keeps in flight now.
    pub fn slots(&self) -> usize {
        self.slots.load(Ordering::Relaxed)
    }

    /// A place for one more job in flight.
    pub async fn slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .expect("the job board's semaphore is never closed")
    }

    /// Zendesk refused a job as one too many while `held` was this batch's
    /// place: ferry keeps one fewer job in flight from now on (never fewer
    /// than one) and the batch waits for a place again.
    pub async fn too_many<'a>(
        &'a self,
        held: tokio::sync::SemaphorePermit<'a>,
    ) -> tokio::sync::SemaphorePermit<'a> {
        let shrunk = self
            .slots
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                (s > 1).then_some(s - 1)
            })
            .is_ok();
        if shrunk {
            tracing::info!(
                slots = self.slots(),
                "Zendesk answered TooManyJobs: fewer jobs in flight"
            );
            // The place is given up for good: one fewer from now on.
            held.forget();
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.slot().await
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            held
        }
    }

    /// Waits until job `id` is completed, failed or killed and returns its
    /// `{"job_status": …}`. `after` says what giving up leaves behind.
    pub async fn wait(&self, client: &ApiClient, id: &str, after: &str) -> Result<Value> {
        let started = Instant::now();
        {
            let mut b = self.state.lock().unwrap();
            b.pending.insert(id.to_string());
            // A new job: look again soon.
            b.gap = MIN_GAP;
            b.next_poll = b.next_poll.min(Instant::now() + MIN_GAP);
        }
        loop {
            let due = {
                let mut b = self.state.lock().unwrap();
                let now = Instant::now();
                if let Some(v) = b.finished.remove(id) {
                    Step::Finished(v)
                } else if b.lost.remove(id) {
                    Step::Lost
                } else if !b.polling && now >= b.next_poll {
                    b.polling = true;
                    Step::Poll(b.pending.iter().cloned().collect::<Vec<_>>())
                } else {
                    Step::Sleep(b.next_poll.max(now + Duration::from_millis(20)))
                }
            };
            let due = match due {
                Step::Finished(v) => return self.complete(client, id, v).await,
                Step::Lost => {
                    return Err(FerryError::Other(format!(
                        "job {id}: Zendesk no longer has its status (it keeps the last 100 jobs for an hour) {after}"
                    )))
                }
                Step::Poll(ids) => Ok(ids),
                Step::Sleep(until) => Err(until),
            };
            match due {
                Ok(ids) => {
                    let res = self.poll(client, &ids).await;
                    let failed = {
                        let mut b = self.state.lock().unwrap();
                        b.polling = false;
                        match res {
                            Ok(found) => {
                                let any = !found.is_empty();
                                for (jid, v) in found {
                                    b.pending.remove(&jid);
                                    if v.is_null() {
                                        b.lost.insert(jid);
                                    } else {
                                        b.finished.insert(jid, v);
                                    }
                                }
                                b.gap = if any {
                                    MIN_GAP
                                } else {
                                    (b.gap * 2).min(MAX_GAP)
                                };
                                b.next_poll = Instant::now() + b.gap;
                                None
                            }
                            Err(e) => {
                                b.pending.remove(id);
                                Some(e)
                            }
                        }
                    };
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
                Err(until) => {
                    if started.elapsed() > JOB_DEADLINE {
                        self.state.lock().unwrap().pending.remove(id);
                        return Err(FerryError::Other(format!(
                            "job {id} is still not finished after {} minutes: ferry gave up waiting {after}",
                            JOB_DEADLINE.as_secs() / 60
                        )));
                    }
                    tokio::time::sleep_until(tokio::time::Instant::from_std(until)).await;
                }
            }
        }
    }

    /// The statuses of `ids` that are over (`Null` for one Zendesk no
    /// longer has), in show_many requests of up to 100 ids.
    async fn poll(&self, client: &ApiClient, ids: &[String]) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_POLL) {
            self.polls.fetch_add(1, Ordering::Relaxed);
            let v: Value = client
                .get_json(&format!(
                    "/api/v2/job_statuses/show_many?ids={}",
                    chunk.join(",")
                ))
                .await?;
            let list = v["job_statuses"].as_array().cloned().unwrap_or_default();
            for id in chunk {
                match list.iter().find(|s| s["id"].as_str() == Some(id.as_str())) {
                    Some(s) if is_over(s) => out.push((id.clone(), s.clone())),
                    Some(_) => {}
                    None => out.push((id.clone(), Value::Null)),
                }
            }
        }
        Ok(out)
    }

    /// A finished job's status as Show Job Status gives it. Where the
    /// show_many answer left its results out, they are read from the job
    /// itself (the spec gives show_many whole job objects; this keeps
    /// ferry right if an account answers with less).
    async fn complete(&self, client: &ApiClient, id: &str, v: Value) -> Result<Value> {
        let total = v["total"].as_u64().unwrap_or(0);
        if total > 0 && !v["results"].is_array() && !v["results"].is_object() {
            self.polls.fetch_add(1, Ordering::Relaxed);
            return client.get_json(&format!("/api/v2/job_statuses/{id}")).await;
        }
        Ok(serde_json::json!({ "job_status": v }))
    }
}

/// What a waiting batch does next.
enum Step {
    Finished(Value),
    Lost,
    Poll(Vec<String>),
    Sleep(Instant),
}

/// Whether a job is over: completed, failed or killed.
fn is_over(s: &Value) -> bool {
    matches!(
        s["status"].as_str(),
        Some("completed" | "failed" | "killed")
    )
}
