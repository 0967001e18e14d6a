//! The page `ferry serve` shows: the live state a running command
//! publishes (crate::live) and the newest verify report, as HTML with
//! inline SVG charts. No script, no CDN: it works offline, and it
//! refreshes itself (a meta refresh) while a command runs.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;

use crate::live::{self, LiveState, Sample};

/// Seconds between refreshes while a command runs.
const REFRESH_SECS: u32 = 2;

/// Colours of the phases' lines, in turn.
const PALETTE: &[&str] = &[
    "#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777",
];

/// The whole page. `state`: what the last or running command published;
/// `report`: the newest verify report (its JSON).
pub fn page(workspace: &str, state: Option<&LiveState>, report: Option<&Value>) -> String {
    let running = state.is_some_and(|s| s.outcome == "running");
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                @if running {
                    meta http-equiv="refresh" content=(REFRESH_SECS);
                }
                title { "ferry — " (workspace) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { "ferry" }
                    span.ws { (workspace) }
                }
                @match state {
                    Some(s) => (run(s)),
                    None => p #no-run { "No run has published its state in this workspace yet: start `ferry extract` or `ferry load` and this page follows it." },
                }
                @if let Some(r) = report {
                    (funnel(r))
                }
                footer { "Reads state/live.json and reports/ only; refreshes every " (REFRESH_SECS) " s while a command runs." }
            }
        }
    };
    markup.into_string()
}

fn run(s: &LiveState) -> Markup {
    let finished = s.phases.iter().filter(|p| p.finished).count();
    let pct = live::overall_percent(s);
    html! {
        section #run {
            h2 {
                (s.command) " " span.mono { (s.run_id) } " — "
                span #run-outcome class=(format!("outcome {}", s.outcome)) { (s.outcome) }
            }
            p {
                "pid " (s.pid) ", started " (s.started_at) ", state of " (s.updated_at)
            }
            div.progress {
                div.fill style=(format!("width:{pct}%")) {}
            }
            p.big {
                span #overall-percent { (pct) } "% of the run · "
                span #phases-done { (finished) } " of " (s.phases_total) " phases done · ETA "
                span #eta { (live::overall_eta(s).map_or("-".to_string(), live::duration)) }
            }
            p {
                span #requests { (s.requests) } " requests · "
                span #throttled { (s.throttled) } " throttled (429)"
                @if let Some(b) = live::budget_use(s) { " · " (b) }
            }
            @if let Some(w) = &s.waiting {
                p.waiting #waiting { "waiting: " (w) }
            }
        }
        section {
            h2 { "Phases" }
            table #phases {
                thead { tr {
                    th { "phase" } th { "done" } th { "total" } th { "%" } th { "created" }
                    th { "failed" } th { "held" } th { "rows/min" } th { "ETA" }
                } }
                tbody {
                    @for p in &s.phases {
                        tr id=(format!("phase-{}", p.name)) {
                            td { (p.name) }
                            td.n.done { (p.done) }
                            td.n { @if p.open_total && !p.finished { "?" } @else { (p.total) } }
                            td.n { @if p.open_total && !p.finished { "-" } @else { (percent(p.done, p.total)) "%" } }
                            td.n.created id=(format!("created-{}", p.name)) { (p.created) }
                            td.n.failed { (p.failed) }
                            td.n.held { (p.held) }
                            td.n { (p.rate_per_min.round()) }
                            td { @if p.finished { "done" } @else { (p.eta_secs.map_or("-".to_string(), live::duration)) } }
                        }
                    }
                }
            }
        }
        section.charts {
            div {
                h3 { "Records per phase over time" }
                (records_chart(&s.samples))
            }
            div {
                h3 { "Requests a minute and 429s over time" }
                (requests_chart(&s.samples, s.budget_per_min))
            }
        }
        section {
            h2 { "Failures and holds" }
            @if s.reasons.is_empty() {
                p #no-reasons { "None so far." }
            } @else {
                table #reasons {
                    thead { tr { th { "phase" } th { "kind" } th { "rows" } th { "reason" } } }
                    tbody {
                        @for r in &s.reasons {
                            tr { td { (r.phase) } td { (r.kind) } td.n { (r.count) } td { (r.reason) } }
                        }
                    }
                }
            }
        }
    }
}

/// The newest verify report's funnel and verdict.
fn funnel(r: &Value) -> Markup {
    let rows = r["funnel"].as_array().cloned().unwrap_or_default();
    let cols =
        std::iter::once("extracted").chain(crate::verify::report::FINAL_STATES.iter().copied());
    html! {
        section #verify {
            h2 {
                "Last verify " span.mono { (r["run_id"].as_str().unwrap_or("")) } " — "
                @if r["ok"] == true { span.outcome.ok { "PASS" } } @else { span.outcome.failed { "FAIL" } }
            }
            table #funnel {
                thead { tr { th { "object" } @for c in cols.clone() { th { (c) } } } }
                tbody {
                    @for f in &rows {
                        tr id=(format!("funnel-{}", f["object"].as_str().unwrap_or(""))) {
                            td { (f["object"].as_str().unwrap_or("")) }
                            @for c in cols.clone() { td.n { (f[c].as_i64().unwrap_or(0)) } }
                        }
                    }
                }
            }
        }
    }
}

const W: f64 = 560.0;
const H: f64 = 200.0;
const PAD: f64 = 34.0;

/// One polyline a phase: its rows done over time.
fn records_chart(samples: &[Sample]) -> Markup {
    let mut names: Vec<&str> = Vec::new();
    for s in samples {
        for (n, _) in &s.phases {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
    }
    let series: Vec<(String, Vec<(f64, f64)>)> = names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                samples
                    .iter()
                    .filter_map(|s| {
                        s.phases
                            .iter()
                            .find(|(p, _)| p == n)
                            .map(|(_, d)| (s.secs as f64, *d as f64))
                    })
                    .collect(),
            )
        })
        .collect();
    chart("records-chart", &series, None)
}

/// Requests a minute between samples, 429s a minute, and the budget.
fn requests_chart(samples: &[Sample], budget: u32) -> Markup {
    let per_min = |f: fn(&Sample) -> u64| -> Vec<(f64, f64)> {
        samples
            .windows(2)
            .filter(|w| w[1].secs > w[0].secs)
            .map(|w| {
                let dt = (w[1].secs - w[0].secs) as f64;
                (
                    w[1].secs as f64,
                    f(&w[1]).saturating_sub(f(&w[0])) as f64 * 60.0 / dt,
                )
            })
            .collect()
    };
    let series = vec![
        ("requests/min".to_string(), per_min(|s| s.requests)),
        ("429s/min".to_string(), per_min(|s| s.throttled)),
    ];
    chart(
        "requests-chart",
        &series,
        (budget > 0).then_some(f64::from(budget)),
    )
}

/// An SVG line chart of `series` (x: seconds since the start), with a
/// dashed line at `limit` where there is one.
fn chart(id: &str, series: &[(String, Vec<(f64, f64)>)], limit: Option<f64>) -> Markup {
    let xmax = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold(1.0_f64, f64::max);
    let ymax = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .chain(limit)
        .fold(1.0_f64, f64::max)
        * 1.05;
    let sx = |x: f64| PAD + x / xmax * (W - 2.0 * PAD);
    let sy = |y: f64| H - PAD - y / ymax * (H - 2.0 * PAD);
    html! {
        svg id=(id) viewBox=(format!("0 0 {W} {H}")) width=(W) height=(H) role="img" {
            line x1=(PAD) y1=(H - PAD) x2=(W - PAD) y2=(H - PAD) stroke="#999" {}
            line x1=(PAD) y1=(PAD) x2=(PAD) y2=(H - PAD) stroke="#999" {}
            text x=(PAD) y=(PAD - 8.0) font-size="11" { (ymax.round()) }
            text x=(W - PAD) y=(H - PAD + 14.0) font-size="11" text-anchor="end" { (live::duration(xmax as u64)) }
            @if let Some(l) = limit {
                line x1=(PAD) y1=(sy(l)) x2=(W - PAD) y2=(sy(l)) stroke="#888" stroke-dasharray="4 3" {}
                text x=(W - PAD) y=(sy(l) - 3.0) font-size="10" text-anchor="end" { "budget " (l) "/min" }
            }
            @for (i, (name, pts)) in series.iter().enumerate() {
                @let colour = PALETTE[i % PALETTE.len()];
                polyline fill="none" stroke=(colour) stroke-width="2"
                    points=(pts.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect::<Vec<_>>().join(" ")) {}
                rect x=(PAD + 4.0 + (i as f64 % 4.0) * 130.0) y=(H - 14.0 - (i / 4) as f64 * 0.0) width="10" height="10" fill=(colour) {}
                text x=(PAD + 18.0 + (i as f64 % 4.0) * 130.0) y=(H - 5.0) font-size="11" { (name) }
            }
        }
    }
}

fn percent(done: u64, total: u64) -> u64 {
    (done * 100).checked_div(total).unwrap_or(100)
}

const CSS: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:1200px}
header{display:flex;gap:16px;align-items:baseline}h1{margin:0}.ws,.mono{font-family:ui-monospace,monospace;color:#555}
table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.progress{background:#eee;height:14px;border-radius:7px;overflow:hidden;max-width:600px}.fill{background:#2563eb;height:100%}
.big{font-size:18px}.outcome.ok{color:#16a34a}.outcome.failed,.outcome.interrupted{color:#dc2626}.outcome.running{color:#2563eb}
.waiting{color:#b45309;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:24px}
footer{margin-top:32px;color:#777;font-size:12px}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LivePhase;

    #[test]
    fn the_page_shows_each_phase_and_escapes_what_it_is_given() {
        let s = LiveState {
            command: "load".into(),
            run_id: "r1".into(),
            outcome: "running".into(),
            phases_total: 2,
            phases: vec![LivePhase {
                name: "tickets".into(),
                total: 10,
                done: 4,
                created: 3,
                held: 1,
                ..Default::default()
            }],
            samples: vec![
                Sample {
                    secs: 0,
                    ..Default::default()
                },
                Sample {
                    secs: 10,
                    done: 4,
                    phases: vec![("tickets".into(), 4)],
                    requests: 20,
                    ..Default::default()
                },
            ],
            reasons: vec![crate::live::Reason {
                phase: "tickets".into(),
                kind: "held".into(),
                reason: "<script>x</script>".into(),
                count: 1,
            }],
            ..Default::default()
        };
        let html = page("/w", Some(&s), None);
        assert!(
            html.contains("http-equiv=\"refresh\""),
            "refreshes while running"
        );
        assert!(html.contains("id=\"phase-tickets\""));
        assert!(
            html.contains(">3</td>") && html.contains("created-tickets"),
            "{html}"
        );
        assert!(!html.contains("<script>x"), "escaped");
        assert!(html.contains("<polyline"));
    }
}
