//! The live state of a running command (extract, load, verify, rollback,
//! archive), published outside the locked database so that a migration
//! running for days can be watched from another terminal or a browser:
//! `state/live.json`, rewritten (atomically) every two seconds and read by
//! `ferry status` and `ferry serve` while the command holds the workspace;
//! and `logs/<run>.log`, a plain-text progress line every
//! `FERRY_PROGRESS_SECS` seconds (30), also printed to stderr when stderr
//! is not a terminal (nohup, a scheduler, CI), where no bar is drawn.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Where the state lives, under the workspace.
pub const STATE_FILE: &str = "state/live.json";

/// What a running command has done and has left, as `ferry status` shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LiveState {
    pub run_id: String,
    pub command: String,
    pub pid: u32,
    pub started_at: String,
    pub updated_at: String,
    /// `running`, else how it ended (`ok`, `failed`, `interrupted`).
    pub outcome: String,
    /// Phases this run goes through, the finished ones and the current one
    /// among `phases`.
    pub phases_total: usize,
    pub phases: Vec<LivePhase>,
    pub requests: u64,
    pub throttled: u64,
    /// The API's request budget a minute (0: none set), and the requests
    /// of the last minute: the budget's use.
    #[serde(default)]
    pub budget_per_min: u32,
    #[serde(default)]
    pub requests_last_min: u64,
    /// What ferry waits for when the API is slow ("no answer from Zendesk
    /// for 60 s, still waiting").
    #[serde(default)]
    pub waiting: Option<String>,
    /// The run over time, a sample every few seconds (at most
    /// `MAX_SAMPLES`, thinned evenly): what the dashboard charts.
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// Why rows failed or were held, counted by phase and reason.
    #[serde(default)]
    pub reasons: Vec<Reason>,
}

/// The run at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the run started.
    pub secs: u64,
    /// Rows done over all phases, and each phase's.
    pub done: u64,
    pub phases: Vec<(String, u64)>,
    pub requests: u64,
    pub throttled: u64,
    pub failed: u64,
    pub held: u64,
}

/// Rows of a phase that failed (`failed`) or were held back (`held`) for
/// one reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reason {
    pub phase: String,
    pub kind: String,
    pub reason: String,
    pub count: u64,
}

/// Samples kept; older ones are thinned to every other one.
const MAX_SAMPLES: usize = 400;
/// Distinct reasons kept (the database has them all).
const MAX_REASONS: usize = 50;

/// One phase: its rows to do (pending at its start) and what became of them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LivePhase {
    pub name: String,
    pub total: u64,
    pub done: u64,
    pub created: u64,
    pub failed: u64,
    pub held: u64,
    /// Rows a minute since the phase started.
    pub rate_per_min: f64,
    /// Seconds left at that rate (none before its first row).
    pub eta_secs: Option<u64>,
    pub finished: bool,
    /// Its total is not known (an extract stream reading pages until the
    /// last): `total` is what it has so far.
    #[serde(default)]
    pub open_total: bool,
}

struct Live {
    state: LiveState,
    dir: PathBuf,
    log: Option<std::fs::File>,
    /// When each phase started and the rows it had then (a resumed extract
    /// stream starts with what earlier runs landed): the rate counts this
    /// run's rows only.
    started: HashMap<String, (Instant, u64)>,
    run_started: Instant,
}

static LIVE: Mutex<Option<Live>> = Mutex::new(None);

fn with(f: impl FnOnce(&mut Live)) {
    if let Some(l) = LIVE.lock().unwrap().as_mut() {
        f(l);
    }
}

/// Starts publishing for run `run_id` of `command` in workspace `ws`.
pub fn start(ws: &Path, run_id: &str, command: &str, phases_total: usize) {
    let _ = std::fs::create_dir_all(ws.join("state"));
    let _ = std::fs::create_dir_all(ws.join("logs"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ws.join("logs").join(format!("{run_id}.log")))
        .ok();
    let now = now();
    *LIVE.lock().unwrap() = Some(Live {
        state: LiveState {
            run_id: run_id.into(),
            command: command.into(),
            pid: std::process::id(),
            started_at: now.clone(),
            updated_at: now,
            outcome: "running".into(),
            phases_total,
            ..Default::default()
        },
        dir: ws.to_path_buf(),
        log,
        started: HashMap::new(),
        run_started: Instant::now(),
    });
    log_line(&format!(
        "{command} {run_id} started: {phases_total} phases"
    ));
}

/// A phase begins with `total` rows to do.
pub fn phase(name: &str, total: u64) {
    begin(name, total, 0, false);
}

/// A phase whose total is not known begins, `already` rows done by earlier
/// runs (a resumed pass counts on from them).
pub fn phase_open(name: &str, already: u64) {
    begin(name, already, already, true);
}

fn begin(name: &str, total: u64, done: u64, open_total: bool) {
    with(|l| {
        l.started.insert(name.to_string(), (Instant::now(), done));
        l.state.phases.retain(|p| p.name != name);
        l.state.phases.push(LivePhase {
            name: name.into(),
            total,
            done,
            created: done,
            open_total,
            ..Default::default()
        });
    });
    write_state();
}

/// The phase's done count as counted from outside (a rollback counts what
/// is left in the id map): `done` of its total.
pub fn set_done(name: &str, done: u64) {
    with(|l| {
        if let Some(p) = l.state.phases.iter_mut().find(|p| p.name == name) {
            let delta = done.saturating_sub(p.done);
            p.created += delta;
            p.done = done;
        }
    });
    // Rate and ETA as for any phase.
    add(name, 0, 0, 0);
}

/// A step of a command that is not row-shaped (verify's accounting, its
/// read-back): said on stderr and in the log as it starts, published as a
/// phase of one.
pub fn step(name: &str, says: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{says}");
    }
    line(says);
    phase(name, 1);
}

/// The step is over.
pub fn step_done(name: &str) {
    add(name, 1, 0, 0);
    phase_done(name);
}

/// The phase's total became known (the files to download, say).
pub fn set_total(name: &str, total: u64) {
    with(|l| {
        if let Some(p) = l.state.phases.iter_mut().find(|p| p.name == name) {
            p.total = total.max(p.done);
            p.open_total = false;
        }
    });
}

/// Why `count` rows of `phase` failed (`kind` = "failed") or were held
/// ("held").
pub fn reason(phase: &str, kind: &str, why: &str, count: u64) {
    // One line, short: a reason is a category, not a record.
    let why: String = why
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(160)
        .collect();
    with(|l| {
        let list = &mut l.state.reasons;
        if let Some(r) = list
            .iter_mut()
            .find(|r| r.phase == phase && r.kind == kind && r.reason == why)
        {
            r.count += count;
        } else if list.len() < MAX_REASONS {
            list.push(Reason {
                phase: phase.into(),
                kind: kind.into(),
                reason: why,
                count,
            });
        }
    });
}

/// Rows of `name` created, failed or held back.
pub fn add(name: &str, created: u64, failed: u64, held: u64) {
    with(|l| {
        let started = l.started.get(name).copied();
        if let Some(p) = l.state.phases.iter_mut().find(|p| p.name == name) {
            p.created += created;
            p.failed += failed;
            p.held += held;
            p.done += created + failed + held;
            if p.open_total {
                p.total = p.done;
            }
            if let Some((s, before)) = started {
                let secs = s.elapsed().as_secs_f64().max(0.001);
                let this_run = p.done.saturating_sub(before);
                p.rate_per_min = this_run as f64 / secs * 60.0;
                p.eta_secs = (this_run > 0 && !p.open_total).then(|| {
                    (p.total.saturating_sub(p.done) as f64 / (this_run as f64 / secs)).round()
                        as u64
                });
            }
        }
    });
}

/// The phase is over.
pub fn phase_done(name: &str) {
    with(|l| {
        if let Some(p) = l.state.phases.iter_mut().find(|p| p.name == name) {
            p.finished = true;
            p.eta_secs = Some(0);
        }
    });
    if let Some(s) = snapshot() {
        if let Some(p) = s.phases.iter().find(|p| p.name == name) {
            line(&format!(
                "phase {name} done: {} created, {} failed, {} held of {}",
                p.created, p.failed, p.held, p.total
            ));
        }
    }
    write_state();
}

/// What the APIs' clients say now: requests sent and 429s so far, the
/// budget, and what they wait for; taken as a sample of the run.
pub fn pulse(p: &Pulse) {
    with(|l| {
        let secs = l.run_started.elapsed().as_secs();
        let s = &mut l.state;
        s.requests = p.requests;
        s.throttled = p.throttled;
        s.budget_per_min = p.budget_per_min;
        s.waiting = p.waiting.clone();
        // Requests of the last minute, from the sample of a minute ago.
        s.requests_last_min = match s
            .samples
            .iter()
            .rev()
            .find(|x| secs.saturating_sub(x.secs) >= 60)
        {
            Some(old) => p.requests.saturating_sub(old.requests) * 60 / (secs - old.secs).max(1),
            None if secs > 0 => p.requests * 60 / secs.max(60),
            None => 0,
        };
        let sample = Sample {
            secs,
            done: s.phases.iter().map(|x| x.done).sum(),
            phases: s.phases.iter().map(|x| (x.name.clone(), x.done)).collect(),
            requests: p.requests,
            throttled: p.throttled,
            failed: s.phases.iter().map(|x| x.failed).sum(),
            held: s.phases.iter().map(|x| x.held).sum(),
        };
        s.samples.push(sample);
        if s.samples.len() > MAX_SAMPLES {
            // Thin the older half evenly; the newest stay dense.
            let keep = s.samples.split_off(MAX_SAMPLES / 2);
            let mut old: Vec<Sample> = s.samples.drain(..).step_by(2).collect();
            old.extend(keep);
            s.samples = old;
        }
    });
}

/// What the APIs' clients report at one moment (see [`pulse`]).
#[derive(Debug, Clone, Default)]
pub struct Pulse {
    pub requests: u64,
    pub throttled: u64,
    pub budget_per_min: u32,
    pub waiting: Option<String>,
}

impl Pulse {
    /// The sum over `clients`; a request unanswered for `FERRY_WAIT_SECS`
    /// (60) is waited for in words.
    pub fn of(clients: &[std::sync::Arc<crate::http::ApiClient>]) -> Pulse {
        use std::sync::atomic::Ordering::Relaxed;
        let after = Duration::from_secs(
            std::env::var("FERRY_WAIT_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60),
        );
        let mut p = Pulse::default();
        for c in clients {
            p.requests += c.stats.requests.load(Relaxed);
            p.throttled += c.stats.throttled.load(Relaxed);
            p.budget_per_min += c.limiter.per_minute();
            if p.waiting.is_none() {
                p.waiting = c.stats.waiting(c.api(), after);
            }
        }
        p
    }
}

/// The run ended (`ok`, `failed`, `interrupted`): published once more.
/// Said on stderr (without a terminal) only after a run long enough to
/// have printed progress: a command that fails at once says one line.
pub fn finish(outcome: &str) {
    with(|l| l.state.outcome = outcome.into());
    let text = format!("ended: {outcome}");
    if PROGRESS_SAID.load(std::sync::atomic::Ordering::Relaxed) {
        line(&text);
    } else {
        log_line(&text);
    }
    write_state();
}

/// Whether a progress line went to stderr in this run.
static PROGRESS_SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The state this process publishes, as it is now.
pub fn snapshot() -> Option<LiveState> {
    LIVE.lock().unwrap().as_ref().map(|l| l.state.clone())
}

/// Rewrites `state/live.json` (a temporary file renamed over it, so a
/// reader never sees half a file).
fn write_state() {
    let mut guard = LIVE.lock().unwrap();
    let Some(l) = guard.as_mut() else { return };
    l.state.updated_at = now();
    let path = l.dir.join(STATE_FILE);
    let tmp = path.with_extension("json.tmp");
    if let Ok(body) = serde_json::to_vec_pretty(&l.state) {
        if std::fs::write(&tmp, body).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

/// A line in the run's log, and on stderr when it is not a terminal.
fn line(text: &str) {
    if !std::io::stderr().is_terminal() {
        eprintln!("{} {text}", now());
        PROGRESS_SAID.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    log_line(text);
}

/// A line in the run's log only.
fn log_line(text: &str) {
    let stamped = format!("{} {text}", now());
    with(|l| {
        if let Some(f) = l.log.as_mut() {
            let _ = writeln!(f, "{stamped}");
        }
    });
}

/// Publishes until aborted: the state every two seconds, a progress line
/// every `FERRY_PROGRESS_SECS` (30), and at once when ferry starts or
/// stops waiting for an API. `clients` are the run's APIs.
pub async fn publish(clients: Vec<std::sync::Arc<crate::http::ApiClient>>) {
    let every = std::env::var("FERRY_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    let mut last_line = Instant::now();
    let mut was_waiting = false;
    loop {
        let p = Pulse::of(&clients);
        pulse(&p);
        write_state();
        if let Some(w) = &p.waiting {
            // Said once when it starts, then with every progress line.
            if !was_waiting {
                line(w);
                if std::io::stderr().is_terminal() {
                    eprintln!("{w}");
                }
            }
        }
        was_waiting = p.waiting.is_some();
        if last_line.elapsed() >= Duration::from_secs(every) {
            last_line = Instant::now();
            if let Some(s) = snapshot() {
                line(&progress_line(&s));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The publishing task of a run, stopped with one last pulse so the state
/// a finished run leaves has its final counts.
pub struct Publisher {
    handle: tokio::task::JoinHandle<()>,
    clients: Vec<std::sync::Arc<crate::http::ApiClient>>,
}

impl Publisher {
    /// Starts [`publish`] for `clients` on the current runtime.
    pub fn start(clients: Vec<std::sync::Arc<crate::http::ApiClient>>) -> Publisher {
        Publisher {
            handle: tokio::spawn(publish(clients.clone())),
            clients,
        }
    }

    /// Stops publishing after a last pulse.
    pub fn stop(self) {
        self.handle.abort();
        pulse(&Pulse::of(&self.clients));
        write_state();
    }
}

/// A line for the run's log (and stderr when it is not a terminal): what a
/// command that is not phase-shaped has to say.
pub fn note(text: &str) {
    line(text);
}

/// One line: the current phase, its progress, rate and ETA, the run's
/// phases and requests.
pub fn progress_line(s: &LiveState) -> String {
    let finished = s.phases.iter().filter(|p| p.finished).count();
    // Extract streams run side by side: every running one is named.
    let current: Vec<String> = s
        .phases
        .iter()
        .filter(|p| !p.finished)
        .map(|p| {
            if p.open_total {
                format!(
                    "{} {} so far, {}/min",
                    p.name,
                    p.done,
                    p.rate_per_min.round()
                )
            } else {
                format!(
                    "phase {} {}/{} ({}%), {} failed, {} held, {}/min, ETA {}",
                    p.name,
                    p.done,
                    p.total,
                    percent(p.done, p.total),
                    p.failed,
                    p.held,
                    p.rate_per_min.round(),
                    p.eta_secs.map_or("unknown yet".to_string(), duration)
                )
            }
        })
        .collect();
    let phase = if current.is_empty() {
        "between phases".to_string()
    } else {
        current.join("; ")
    };
    let mut out = format!(
        "{phase}; {finished} of {} phases done ({}% of the run); {} requests{}, {} throttled",
        s.phases_total,
        overall_percent(s),
        s.requests,
        budget_use(s).map_or(String::new(), |b| format!(" ({b})")),
        s.throttled
    );
    if let Some(w) = &s.waiting {
        out.push_str(&format!("; {w}"));
    }
    out
}

/// The run in one line for a terminal: phases done, share, ETA.
pub fn overall_line(s: &LiveState) -> String {
    format!(
        "{} {}: {} of {} phases done, {}% of the run, ETA {}",
        s.command,
        s.run_id,
        s.phases.iter().filter(|p| p.finished).count(),
        s.phases_total,
        overall_percent(s),
        overall_eta(s).map_or("-".to_string(), duration)
    )
}

/// `930/min, 93% of the 1000/min budget`, where a budget is set.
pub fn budget_use(s: &LiveState) -> Option<String> {
    (s.budget_per_min > 0).then(|| {
        format!(
            "{}/min, {}% of the {}/min budget",
            s.requests_last_min,
            s.requests_last_min * 100 / u64::from(s.budget_per_min),
            s.budget_per_min
        )
    })
}

/// Share of the run done: finished phases whole, the current one by its rows.
pub fn overall_percent(s: &LiveState) -> u64 {
    if s.phases_total == 0 {
        return 0;
    }
    let mut done = s.phases.iter().filter(|p| p.finished).count() as f64;
    // Running phases by their rows, where their totals are known.
    for p in s.phases.iter().filter(|p| !p.finished && !p.open_total) {
        if p.total > 0 {
            done += p.done as f64 / p.total as f64;
        }
    }
    ((done / s.phases_total as f64) * 100.0).floor().min(100.0) as u64
}

fn percent(done: u64, total: u64) -> u64 {
    (done * 100).checked_div(total).unwrap_or(100)
}

/// `1h 05m`, `4m 10s`, `12s`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// The state another process published in workspace `ws`, if any.
pub fn read(ws: &Path) -> Option<LiveState> {
    let body = std::fs::read(ws.join(STATE_FILE)).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The state as `ferry status` prints it.
pub fn render(s: &LiveState) -> String {
    let mut out = format!(
        "{} {} (pid {}) started {}, {}; state of {}\n\n{:<24} {:>17} {:>5} {:>7} {:>6} {:>9} {:>9}\n",
        s.command,
        s.run_id,
        s.pid,
        s.started_at,
        s.outcome,
        s.updated_at,
        "phase",
        "done/total",
        "%",
        "failed",
        "held",
        "rows/min",
        "ETA"
    );
    for p in &s.phases {
        let open = p.open_total && !p.finished;
        out.push_str(&format!(
            "{:<24} {:>17} {:>5} {:>7} {:>6} {:>9} {:>9}\n",
            p.name,
            if open {
                format!("{}/?", p.done)
            } else {
                format!("{}/{}", p.done, p.total)
            },
            if open {
                "-".to_string()
            } else {
                format!("{}%", percent(p.done, p.total))
            },
            p.failed,
            p.held,
            p.rate_per_min.round(),
            if p.finished {
                "done".to_string()
            } else {
                p.eta_secs.map_or("-".to_string(), duration)
            }
        ));
    }
    out.push_str(&format!(
        "\noverall: {} of {} phases done, {}% of the run{}; {} requests{} ({} throttled)\n",
        s.phases.iter().filter(|p| p.finished).count(),
        s.phases_total,
        overall_percent(s),
        overall_eta(s).map_or(String::new(), |e| format!(", ETA {}", duration(e))),
        s.requests,
        budget_use(s).map_or(String::new(), |b| format!(", {b}")),
        s.throttled
    ));
    if let Some(w) = &s.waiting {
        out.push_str(&format!("waiting: {w}\n"));
    }
    for r in &s.reasons {
        out.push_str(&format!(
            "{} {} {}: {}\n",
            r.count, r.phase, r.kind, r.reason
        ));
    }
    out
}

/// Seconds left in the run: the share done so far took the time it took
/// (none before 1 % is done, where it would be a guess).
pub fn overall_eta(s: &LiveState) -> Option<u64> {
    if s.outcome != "running" {
        return None;
    }
    let pct = overall_percent(s);
    let elapsed = s.samples.last()?.secs;
    (1..100).contains(&pct).then(|| elapsed * (100 - pct) / pct)
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_measured_by_its_phases_and_the_current_one() {
        let s = LiveState {
            phases_total: 4,
            phases: vec![
                LivePhase {
                    name: "users".into(),
                    total: 10,
                    done: 10,
                    finished: true,
                    ..Default::default()
                },
                LivePhase {
                    name: "tickets".into(),
                    total: 200,
                    done: 100,
                    rate_per_min: 60.0,
                    eta_secs: Some(100),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(overall_percent(&s), 37);
        let l = progress_line(&s);
        assert!(
            l.contains("phase tickets 100/200 (50%)") && l.contains("ETA 1m 40s"),
            "{l}"
        );
        assert!(render(&s).contains("1 of 4 phases done, 37% of the run"));
        assert_eq!(duration(3725), "1h 02m");
    }
}
