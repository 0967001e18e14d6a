//! The self-contained HTML verify report: inline CSS and SVG, no script,
//! no network, so it opens anywhere and can be archived with the export.

use std::fmt::Write;

use super::report::Report;

/// HTML-escapes text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
h1{margin:0 0 .2rem}h2{margin-top:2rem;border-bottom:2px solid #e3e8ee;padding-bottom:.3rem}
.meta{color:#5b6b7c}.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.ok{background:#e3f7ea;color:#12632f}.bad{background:#fde8e8;color:#8a1616}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e8ee;text-align:right}
th:first-child,td:first-child,td.l,th.l{text-align:left}th{background:#f5f7fa;font-weight:600}
td.num{font-variant-numeric:tabular-nums}.warn{color:#8a1616;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{flex:1;min-width:150px;background:#f5f7fa;border-radius:6px;padding:.7rem 1rem}
.card b{display:block;font-size:1.6rem}.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
code{background:#f5f7fa;padding:0 .2rem;border-radius:3px}
"#;

/// Colour of each final state in the funnel chart.
const STATES: &[(&str, &str)] = &[
    ("loaded", "#2f9e5b"),
    ("merged", "#6ca0dc"),
    ("archived", "#9b87c9"),
    ("excluded", "#b0b8c1"),
    ("held", "#e0a030"),
    ("failed", "#d64545"),
    ("pending", "#f08c00"),
    ("unaccounted", "#000000"),
];

fn funnel_svg(r: &Report) -> String {
    let row_h = 24;
    let label_w = 120.0;
    let bar_w = 620.0;
    let h = r.funnel.len() * row_h + 10;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{h}" role="img" aria-label="final state of every extracted record, per object">"#,
        label_w as usize + bar_w as usize + 90
    );
    for (i, f) in r.funnel.iter().enumerate() {
        let y = i * row_h + 4;
        let _ = write!(
            s,
            r#"<text x="0" y="{}" font-size="12">{}</text>"#,
            y + 15,
            esc(&f.object)
        );
        let total = f.extracted.max(1) as f64;
        let mut x = label_w;
        for (state, colour) in STATES {
            let n = match *state {
                "loaded" => f.loaded,
                "merged" => f.merged,
                "archived" => f.archived,
                "excluded" => f.excluded,
                "held" => f.held,
                "failed" => f.failed,
                "pending" => f.pending,
                _ => f.unaccounted,
            };
            if n == 0 {
                continue;
            }
            let w = (n as f64 / total * bar_w).max(1.5);
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="18" fill="{colour}"><title>{state}: {n}</title></rect>"#
            );
            x += w;
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="12">{}</text>"#,
            label_w + bar_w + 6.0,
            y + 15,
            f.extracted
        );
    }
    s.push_str("</svg>");
    s
}

fn budget_svg(r: &Report) -> String {
    let row_h = 22;
    let h = r.phases.len() * row_h + 10;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{h}" role="img" aria-label="rate-limit budget used per phase">"#
    );
    for (i, p) in r.phases.iter().enumerate() {
        let y = i * row_h + 4;
        let pct = p.budget_used_pct.clamp(0.0, 100.0);
        let _ = write!(
            s,
            r##"<text x="0" y="{}" font-size="12">{}</text><rect x="150" y="{y}" width="500" height="16" fill="#eef1f5"/><rect x="150" y="{y}" width="{:.1}" height="16" fill="#3b7dd8"/><text x="656" y="{}" font-size="12">{:.1} %</text>"##,
            y + 13,
            esc(&p.phase),
            pct * 5.0,
            y + 13,
            p.budget_used_pct
        );
    }
    s.push_str("</svg>");
    s
}

/// Renders the report.
pub fn render(r: &Report) -> String {
    let (extracted, loaded, failed, held, open) = r.totals();
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ferry verify {run}</title><style>{CSS}</style></head><body>
<h1>Migration verification</h1>
<div class="meta">route <b>{route}</b> · run <code>{run}</code> · {created} · ferry {ver} · workspace <code>{ws}</code></div>"#,
        run = esc(&r.run_id),
        route = esc(&r.route),
        created = esc(&r.created_at),
        ver = esc(&r.ferry_version),
        ws = esc(&r.workspace),
    );
    // What passes but still needs a reader's eye, said in the headline.
    let mut caveats: Vec<String> = Vec::new();
    if held > 0 {
        caveats.push(format!(
            "{held} records are held back, each waiting on an action (table ferry_load_errors, http_status NULL)"
        ));
    }
    if r.incomplete_total > 0 {
        caveats.push(format!(
            "{} source records could be read only in part (see \"Read only in part\")",
            r.incomplete_total
        ));
    }
    if !r.fields.inline_images_left.is_empty() {
        caveats.push(format!(
            "{} sampled messages still link their inline images to the source, which is declared not carried yet (see \"Fields\")",
            r.fields.inline_images_left.len()
        ));
    }
    if !r.fields.not_carried_yet.is_empty() {
        caveats.push(format!(
            "{} attribute paths of the source records are not carried yet (see \"Fields\")",
            r.fields.not_carried_yet.len()
        ));
    }
    if !r.unavailable.is_empty() {
        caveats.push(format!(
            "{} source streams were unavailable (see below)",
            r.unavailable.len()
        ));
    }
    if r.ok && caveats.is_empty() {
        h.push_str(r#"<div class="verdict ok" id="verdict">PASS — every source record is accounted for, nothing ferry created is missing, and the sample matches.</div>"#);
    } else if r.ok {
        let _ = write!(
            h,
            r#"<div class="verdict ok" id="verdict">PASS with {} caveat{} — every source record is accounted for, nothing ferry created is missing, and the sample matches; but<ul>"#,
            caveats.len(),
            if caveats.len() == 1 { "" } else { "s" }
        );
        for c in &caveats {
            let _ = write!(h, "<li>{}</li>", esc(c));
        }
        h.push_str("</ul></div>");
    } else {
        h.push_str(r#"<div class="verdict bad" id="verdict">FAIL<ul>"#);
        for p in &r.problems {
            let _ = write!(h, "<li>{}</li>", esc(p));
        }
        h.push_str("</ul></div>");
    }
    let _ = write!(
        h,
        r#"<div class="cards"><div class="card">extracted<b id="total-extracted">{extracted}</b></div><div class="card">loaded<b id="total-loaded">{loaded}</b></div><div class="card">failed<b id="total-failed">{failed}</b></div><div class="card">held back<b id="total-held">{held}</b></div><div class="card">unaccounted or pending<b id="total-open">{open}</b></div><div class="card">sample mismatches<b id="total-mismatches">{mm}</b></div></div>"#,
        mm = r.sample.mismatches.len()
    );

    h.push_str("<h2>Funnel per object</h2><div class=\"legend\">");
    for (state, colour) in STATES {
        let _ = write!(
            h,
            r#"<span><i style="background:{colour}"></i>{state}</span>"#
        );
    }
    h.push_str("</div>");
    h.push_str(&funnel_svg(r));
    h.push_str(r#"<table id="funnel"><tr><th>object</th><th>extracted</th><th>staged</th><th>output</th><th>loaded</th><th>failed</th><th>held</th><th>merged</th><th>archived</th><th>excluded</th><th>pending</th><th>unaccounted</th></tr>"#);
    for f in &r.funnel {
        let _ = write!(
            h,
            r#"<tr data-object="{o}"><td>{o}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num{}">{}</td><td class="num{}">{}</td></tr>"#,
            f.extracted,
            f.staged,
            f.output,
            f.loaded,
            f.failed,
            f.held,
            f.merged,
            f.archived,
            f.excluded,
            if f.pending > 0 { " warn" } else { "" },
            f.pending,
            if f.unaccounted > 0 { " warn" } else { "" },
            f.unaccounted,
            o = esc(&f.object),
        );
    }
    h.push_str("</table>");

    h.push_str("<h2>Not loaded, by reason</h2>");
    if r.reasons.is_empty() {
        h.push_str("<p>Every extracted record was loaded.</p>");
    } else {
        h.push_str(r#"<table id="reasons"><tr><th>object</th><th class="l">state</th><th class="l">reason</th><th>records</th></tr>"#);
        for x in &r.reasons {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="l">{}</td><td class="l">{}</td><td class="num">{}</td></tr>"#,
                esc(&x.object),
                esc(&x.state),
                esc(&x.reason),
                x.records
            );
        }
        h.push_str("</table>");
        if r.reasons.len() >= crate::verify::REASONS_SHOWN {
            let _ = write!(
                h,
                "<p class=\"meta\">The first {} groups, those needing action first; every group is in <code>SELECT * FROM verify_reasons</code>, every record in <code>verify_records</code>.</p>",
                r.reasons.len()
            );
        }
    }

    h.push_str("<h2>Destination read-back</h2>");
    h.push_str(r#"<table id="destination"><tr><th>phase</th><th>created by ferry</th><th>destination count</th><th>missing on destination</th></tr>"#);
    for d in &r.destination {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num{}">{}</td></tr>"#,
            esc(&d.phase),
            d.created_by_ferry,
            d.destination_count
                .map(|n| n.to_string())
                .unwrap_or_else(|| "—".into()),
            if d.missing.is_empty() { "" } else { " warn" },
            if d.missing.is_empty() {
                "0".to_string()
            } else {
                format!(
                    "{} ({})",
                    d.missing.len(),
                    esc(&d
                        .missing
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "))
                )
            }
        );
    }
    h.push_str("</table>");

    let s = &r.sample;
    let _ = write!(
        h,
        r#"<h2>Field-level sample</h2><p>{} of {} requested conversations read back from the destination: {} messages, {} attachments (SHA-256 and size), {} people; {} carried field values of {} records compared (table <code>verify_field_values</code>). Strata: {}.</p>"#,
        s.tickets_checked,
        s.requested,
        s.comments_checked,
        s.attachments_checked,
        s.users_checked,
        s.fields_checked,
        s.field_records_checked,
        esc(&s
            .strata
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "))
    );
    if !s.rules.is_empty() {
        // The expected values come from the source records through these
        // documented rules, never from the transform's own tables.
        h.push_str(r#"<p>Expected values are derived from the raw source records with these rules:</p><table id="rules"><tr><th class="l">field</th><th class="l">rule</th></tr>"#);
        for (field, rule) in &s.rules {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td></tr>"#,
                esc(field),
                esc(rule)
            );
        }
        h.push_str("</table>");
    }
    if s.mismatches.is_empty() {
        h.push_str("<p id=\"mismatches\">No mismatches.</p>");
    } else {
        h.push_str(r#"<table id="mismatches"><tr><th class="l">source id</th><th class="l">destination id</th><th class="l">field</th><th class="l">expected</th><th class="l">actual</th></tr>"#);
        for m in s.mismatches.iter().take(500) {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td></tr>"#,
                esc(&m.source_id),
                esc(&m.dest_id),
                esc(&m.field),
                esc(&m.expected),
                esc(&m.actual)
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2>Load timing and rate-limit use</h2>");
    if r.phases.is_empty() {
        h.push_str("<p>No load phase has run.</p>");
    } else {
        h.push_str(&budget_svg(r));
        h.push_str(r#"<table id="phases"><tr><th>phase</th><th>rows</th><th>created</th><th>failed</th><th>requests</th><th>429s</th><th>seconds</th><th>tier/min</th><th>budget used</th></tr>"#);
        for p in &r.phases {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{:.1}</td><td class="num">{}</td><td class="num">{:.1} %</td></tr>"#,
                esc(&p.phase),
                p.rows,
                p.created,
                p.failed,
                p.requests,
                p.throttled,
                p.seconds,
                p.tier_per_minute,
                p.budget_used_pct
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2>Rebuild by hand in the destination</h2>");
    if r.manual_rules.is_empty() {
        h.push_str("<p>No workflows, SLAs or shortcuts were extracted.</p>");
    } else {
        h.push_str(r#"<table id="manual"><tr><th class="l">kind</th><th class="l">name</th><th class="l">source id</th><th class="l">what to do</th></tr>"#);
        for m in &r.manual_rules {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td></tr>"#,
                esc(&m.kind),
                esc(&m.name),
                esc(&m.source_id),
                esc(&m.note)
            );
        }
        h.push_str("</table>");
    }
    if !r.unavailable.is_empty() {
        h.push_str("<h2>Unavailable in the source</h2><table id=\"unavailable\"><tr><th class=\"l\">object</th><th>HTTP</th><th class=\"l\">why</th></tr>");
        for u in &r.unavailable {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td>{}</td><td class="l">{}</td></tr>"#,
                esc(&u.object),
                u.status,
                esc(&u.reason)
            );
        }
        h.push_str("</table>");
    }
    if !r.changes.is_empty() {
        h.push_str("<h2>Changes after the first load</h2><p>Each record's latest outcome in <code>ferry_changes</code>; <em>pending</em>: found since the last load.</p><table id=\"changes\"><tr><th class=\"l\">phase</th><th class=\"l\">kind</th><th class=\"l\">action</th><th class=\"l\">status</th><th>records</th><th class=\"l\">detail</th></tr>");
        for c in &r.changes {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td>{}</td><td class="l">{}</td></tr>"#,
                esc(&c.phase),
                esc(&c.kind),
                esc(&c.action),
                esc(&c.status),
                c.records,
                esc(c.detail.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }
    fields_section(&mut h, &r.fields);
    if r.incomplete_total > 0 {
        let _ = write!(h, "<h2>Read only in part</h2><p>{} source records (table <code>verify_incomplete</code>); the first {}:</p><table id=\"incomplete\"><tr><th class=\"l\">object</th><th class=\"l\">source id</th><th class=\"l\">why</th></tr>", r.incomplete_total, r.incomplete.len());
        for i in &r.incomplete {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td></tr>"#,
                esc(&i.object),
                esc(&i.source_id),
                esc(&i.reason)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<p class=\"meta\">Every figure here is a table in ferry.duckdb: <code>verify_funnel</code>, <code>verify_records</code>, <code>verify_reasons</code>, <code>verify_sample</code>, <code>ferry_load_phases</code>.</p></body></html>\n");
    h
}

/// "Fields": per source object, each attribute path with values, how many
/// records carry it and what becomes of it; the gaps first.
fn fields_section(h: &mut String, f: &super::fields::FieldLedger) {
    if f.rows.is_empty() {
        return;
    }
    let carried = f
        .rows
        .iter()
        .filter(|r| r.fate.as_deref() == Some("carried"))
        .count();
    let _ = write!(
        h,
        "<h2>Fields</h2><p>{} attribute paths of the source records carry values (read from the landed JSON; table <code>verify_fields</code>): {} carried, {} dropped with a reason, of which {} are <b>not carried yet</b>, and {} declared nowhere.</p>",
        f.rows.len(),
        carried,
        f.rows.len() - carried - f.unaccounted.len(),
        f.not_carried_yet.len(),
        f.unaccounted.len()
    );
    if !f.inline_images_left.is_empty() {
        let _ = write!(
            h,
            "<p>{} sampled messages still link their inline images to the source (declared <b>not carried yet</b>):</p><table id=\"inline-images\"><tr><th class=\"l\">source id</th><th class=\"l\">destination id</th><th class=\"l\">message</th><th class=\"l\">found</th></tr>",
            f.inline_images_left.len()
        );
        for m in f.inline_images_left.iter().take(50) {
            let _ = write!(
                h,
                r#"<tr><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td><td class="l">{}</td></tr>"#,
                esc(&m.source_id),
                esc(&m.dest_id),
                esc(&m.field),
                esc(&m.actual)
            );
        }
        h.push_str("</table>");
    }
    if !f.mismatches_by_field.is_empty() {
        h.push_str("<p>Sampled mismatches by destination field: ");
        let list: Vec<String> = f
            .mismatches_by_field
            .iter()
            .map(|(field, n)| format!("<code>{}</code> {n}", esc(field)))
            .collect();
        h.push_str(&list.join(", "));
        h.push_str("</p>");
    }
    let mut objects: Vec<&str> = f.rows.iter().map(|r| r.object.as_str()).collect();
    objects.dedup();
    for object in objects {
        let rows: Vec<_> = f.rows.iter().filter(|r| r.object == object).collect();
        let gaps = rows
            .iter()
            .filter(|r| {
                r.fate.is_none()
                    || r.detail
                        .as_deref()
                        .is_some_and(|d| d.starts_with(super::fields::NOT_CARRIED_YET))
            })
            .count();
        let _ = write!(
            h,
            "<details class=\"fields\"{open}><summary><b>{}</b>: {} paths, {} not carried</summary><table id=\"fields-{}\"><tr><th class=\"l\">path</th><th>records with a value</th><th class=\"l\">fate</th><th class=\"l\">carried to / dropped because</th><th>sampled</th><th>mismatched</th></tr>",
            esc(object),
            rows.len(),
            gaps,
            esc(object),
            open = if gaps > 0 { " open" } else { "" }
        );
        let mut sorted = rows.clone();
        // The gaps first: declared nowhere, then not carried yet.
        sorted.sort_by_key(|r| {
            (
                r.fate.is_some(),
                !r.detail
                    .as_deref()
                    .is_some_and(|d| d.starts_with(super::fields::NOT_CARRIED_YET)),
                r.path.clone(),
            )
        });
        for r in sorted {
            let _ = write!(
                h,
                r#"<tr><td class="l"><code>{}</code></td><td>{}</td><td class="l">{}</td><td class="l">{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&r.path),
                r.values,
                esc(r.fate.as_deref().unwrap_or("DECLARED NOWHERE")),
                esc(r.detail.as_deref().unwrap_or("")),
                r.sampled,
                r.sampled_mismatches
            );
        }
        h.push_str("</table></details>");
    }
}
