//! The live state of a running load, published outside the locked
//! database so that a migration running for days can be watched from
//! another terminal: `state/live.json`, rewritten (atomically) every two
//! seconds and read by `ferry status` while the load holds the workspace;
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
}

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
}

struct Live {
    state: LiveState,
    dir: PathBuf,
    log: Option<std::fs::File>,
    started: HashMap<String, Instant>,
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
    });
    line(&format!(
        "{command} {run_id} started: {phases_total} phases"
    ));
}

/// A phase begins with `total` rows to do.
pub fn phase(name: &str, total: u64) {
    with(|l| {
        l.started.insert(name.to_string(), Instant::now());
        l.state.phases.retain(|p| p.name != name);
        l.state.phases.push(LivePhase {
            name: name.into(),
            total,
            ..Default::default()
        });
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
            if let Some(s) = started {
                let secs = s.elapsed().as_secs_f64().max(0.001);
                p.rate_per_min = p.done as f64 / secs * 60.0;
                p.eta_secs = (p.done > 0).then(|| {
                    (p.total.saturating_sub(p.done) as f64 / (p.done as f64 / secs)).round() as u64
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
}

/// Requests sent and 429s so far.
pub fn requests(requests: u64, throttled: u64) {
    with(|l| {
        l.state.requests = requests;
        l.state.throttled = throttled;
    });
}

/// The run ended (`ok`, `failed`, `interrupted`): published once more.
pub fn finish(outcome: &str) {
    with(|l| l.state.outcome = outcome.into());
    line(&format!("ended: {outcome}"));
    write_state();
}

fn snapshot() -> Option<LiveState> {
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
    let stamped = format!("{} {text}", now());
    if !std::io::stderr().is_terminal() {
        eprintln!("{stamped}");
    }
    with(|l| {
        if let Some(f) = l.log.as_mut() {
            let _ = writeln!(f, "{stamped}");
        }
    });
}

/// Publishes until the process ends: the state every two seconds, a
/// progress line every `FERRY_PROGRESS_SECS` (30). `counters` gives the
/// requests and 429s so far.
pub async fn publish(counters: impl Fn() -> (u64, u64) + Send + 'static) {
    let every = std::env::var("FERRY_PROGRESS_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    let mut last_line = Instant::now();
    loop {
        let (r, t) = counters();
        requests(r, t);
        write_state();
        if last_line.elapsed() >= Duration::from_secs(every) {
            last_line = Instant::now();
            if let Some(s) = snapshot() {
                line(&progress_line(&s));
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// One line: the current phase, its progress, rate and ETA, the run's
/// phases and requests.
pub fn progress_line(s: &LiveState) -> String {
    let finished = s.phases.iter().filter(|p| p.finished).count();
    let current = s.phases.iter().rev().find(|p| !p.finished);
    let phase = match current {
        Some(p) => format!(
            "phase {} {}/{} ({}%), {} failed, {} held, {}/min, ETA {}",
            p.name,
            p.done,
            p.total,
            percent(p.done, p.total),
            p.failed,
            p.held,
            p.rate_per_min.round(),
            p.eta_secs.map_or("unknown yet".to_string(), duration)
        ),
        None => "between phases".to_string(),
    };
    format!(
        "{phase}; {finished} of {} phases done ({}% of the run); {} requests, {} throttled",
        s.phases_total,
        overall_percent(s),
        s.requests,
        s.throttled
    )
}

/// Share of the run done: finished phases whole, the current one by its rows.
pub fn overall_percent(s: &LiveState) -> u64 {
    if s.phases_total == 0 {
        return 0;
    }
    let mut done = s.phases.iter().filter(|p| p.finished).count() as f64;
    if let Some(p) = s.phases.iter().rev().find(|p| !p.finished) {
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
        out.push_str(&format!(
            "{:<24} {:>17} {:>4}% {:>7} {:>6} {:>9} {:>9}\n",
            p.name,
            format!("{}/{}", p.done, p.total),
            percent(p.done, p.total),
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
        "\noverall: {} of {} phases done, {}% of the run; {} requests ({} throttled)\n",
        s.phases.iter().filter(|p| p.finished).count(),
        s.phases_total,
        overall_percent(s),
        s.requests,
        s.throttled
    ));
    out
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
