//! `report.html`: one self-contained page per run (inline CSS and SVG, no script, no
//! external resource), readable on a laptop and printable. The story in order: what ran,
//! what went wrong (alerts), the headline numbers, the shard timeline, the charts, the
//! shard table, the actions, the cost and the assumptions.

use std::fmt::Write as _;

use super::files::{Chart, ReportRun};
use super::svg::{esc, timeline};
use super::text::{dollars, human_ms, shard_cells, shard_notes, thousands, variant_label};
use super::timeline::Grid;
use crate::report::Summary;
use crate::report::summary::Cost;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
  max-width: 1000px; margin: 0 auto; padding: 16px 20px 40px; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0.2em 0; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.5em; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
.alert { background: #fdecea; border-left: 6px solid #d62728; padding: 8px 12px; margin: 8px 0; }
.ok { background: #eaf6ec; border-left: 6px solid #2e9e4a; padding: 8px 12px; margin: 8px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }
.card .label { color: #555; font-size: 0.85em; }
.card .value { font-size: 1.4em; font-weight: 600; }
.card.bad .value { color: #c21d1d; }
.card .parts { color: #555; font-size: 0.8em; }
svg { max-width: 100%; height: auto; display: block; }
figure { margin: 12px 0; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
tr.bad td { color: #c21d1d; }
ul.assumptions { font-size: 0.85em; color: #333; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  figure, .card, table, .alert { break-inside: avoid; }
}
"#;

/// The report of one run.
pub fn report(run: &ReportRun<'_>, grid: &Grid, charts: &[Chart]) -> String {
    let s = run.summary;
    let mut h = head(
        &format!("kinesim: {} ({})", s.scenario, variant_label(s)),
        "",
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&s.scenario));
    let _ = writeln!(
        h,
        "<p class=\"meta\">variant <b>{}</b> · seed {} · simulated {} · {} events · kinesim {}</p>",
        esc(variant_label(s)),
        s.seed,
        human_ms(s.simulated_ms),
        thousands(s.run.events),
        esc(&s.run.kinesim)
    );
    alert_lines(&mut h, s);
    h.push_str("<h2>Headline</h2>\n");
    cards(&mut h, s);

    h.push_str("<h2>Shard timeline</h2>\n");
    h.push_str(TIMELINE_NOTE);
    timeline_figure(&mut h, s, grid);

    h.push_str("<h2>Over time</h2>\n");
    for c in charts {
        let _ = writeln!(
            h,
            "<figure class=\"chart\" id=\"{}\">\n{}</figure>",
            c.stem, c.inline
        );
    }

    h.push_str("<h2>Shards</h2>\n");
    shard_table(&mut h, s);

    if !s.actions.is_empty() {
        h.push_str("<h2>Actions</h2>\n<table>\n<tr><th>at</th><th>action</th><th>outcome</th><th>completed</th><th>reason</th></tr>\n");
        for a in &s.actions {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
                human_ms(a.at_ms),
                esc(&a.action),
                esc(&a.outcome),
                a.completed_ms.map(human_ms).unwrap_or_default(),
                esc(a.reason.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>\n");
    }

    h.push_str("<h2>Cost</h2>\n<table>\n");
    for (label, value) in cost_parts(&s.cost_usd) {
        let _ = writeln!(h, "<tr><td>{label}</td><td>{}</td></tr>", dollars(value));
    }
    let _ = writeln!(
        h,
        "<tr><th>total</th><th>{}</th></tr>\n</table>",
        dollars(s.cost_usd.total)
    );

    h.push_str("<h2>Assumptions</h2>\n<ul class=\"assumptions\">\n");
    for a in &s.assumptions {
        let _ = writeln!(h, "<li>{}</li>", esc(a));
    }
    h.push_str("</ul>\n</body>\n</html>\n");
    h
}

/// The page up to `<body>`: its title and the style, with `extra` rules after it.
fn head(title: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{extra}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

const TIMELINE_NOTE: &str = "<p class=\"meta\">One row per shard, children under their \
    parents; hover a stretch for its numbers.</p>\n";

/// The alerts of a run, or that there is none.
fn alert_lines(h: &mut String, s: &Summary) {
    let alerts = alerts(s);
    for a in &alerts {
        let _ = writeln!(h, "<p class=\"alert\">{}</p>", esc(a));
    }
    if alerts.is_empty() {
        let _ = writeln!(h, "<p class=\"ok\">No record lost, no shard blocked.</p>");
    }
}

fn timeline_figure(h: &mut String, s: &Summary, grid: &Grid) {
    h.push_str("<figure>\n");
    h.push_str(&timeline(s, grid, false));
    h.push_str("</figure>\n");
}

/// The runs side by side: two columns on a screen (charts at 960 units wide still read
/// at half of a laptop's width), one on paper, where half a page would be too small.
const COMPARE_STYLE: &str = r#"
body { max-width: 1500px; }
.runs { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 24px; }
.runs > * { min-width: 0; margin: 0; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
figcaption { font-weight: 600; font-size: 0.9em; }
td.best { font-weight: 700; background: #eaf6ec; }
@media print { .runs { grid-template-columns: 1fr; } }
"#;

/// `report.html` of `compare --report`: the comparison table, each run's alerts and
/// shard timeline, then each chart for every run side by side on the same axes.
/// `grids` and `charts` are per run, in the order of `runs` (the base first).
pub fn compare_report(runs: &[ReportRun<'_>], grids: &[Grid], charts: &[Vec<Chart>]) -> String {
    let summaries: Vec<&Summary> = runs.iter().map(|r| r.summary).collect();
    let base = summaries[0];
    let mut h = head(
        &format!("kinesim compare: {}", base.scenario),
        COMPARE_STYLE,
    );
    let _ = writeln!(h, "<h1>compare {}</h1>", esc(&base.scenario));
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} · kinesim {}</p>",
        esc(&super::compare::run_line(&summaries)),
        esc(&base.run.kinesim)
    );
    h.push_str("<h2>Side by side</h2>\n");
    super::compare::write_html(&summaries, &mut h);

    h.push_str("<h2>Alerts and shard timelines</h2>\n");
    h.push_str(TIMELINE_NOTE);
    h.push_str("<div class=\"runs\">\n");
    for (s, grid) in summaries.iter().zip(grids) {
        let _ = writeln!(h, "<section>\n<h3>{}</h3>", esc(variant_label(s)));
        alert_lines(&mut h, s);
        timeline_figure(&mut h, s, grid);
        h.push_str("</section>\n");
    }
    h.push_str("</div>\n");

    h.push_str(
        "<h2>Over time</h2>\n<p class=\"meta\">Each chart on the same axes for every run.</p>\n",
    );
    let count = charts.first().map_or(0, Vec::len);
    for i in 0..count {
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<div class=\"runs\">",
            esc(charts[0][i].title)
        );
        for (s, charts) in summaries.iter().zip(charts) {
            let c = &charts[i];
            let _ = writeln!(
                h,
                "<figure class=\"chart\">\n<figcaption>{}</figcaption>\n{}</figure>",
                esc(variant_label(s)),
                c.inline
            );
        }
        h.push_str("</div>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// What a reader must not miss, one sentence each.
pub fn alerts(s: &Summary) -> Vec<String> {
    let mut a = vec![];
    let r = &s.records;
    if r.lost > 0 {
        a.push(format!(
            "{} records lost: {} expired (trimmed by retention before being processed), {} discarded.",
            thousands(r.lost),
            thousands(r.expired),
            thousands(r.discarded)
        ));
    }
    for sh in &s.shards {
        if sh.blocked_ms > 0 {
            a.push(format!(
                "{} was blocked for {} (max iterator age {}).",
                sh.id,
                human_ms(sh.blocked_ms),
                human_ms(sh.iterator_age_ms.max)
            ));
        }
    }
    if r.acknowledged_unprocessed > 0 {
        a.push(format!(
            "{} records acknowledged but never processed (R-PBR-1).",
            thousands(r.acknowledged_unprocessed)
        ));
    }
    a
}

/// The parts of the bill that apply, with their labels.
pub fn cost_parts(c: &Cost) -> Vec<(&'static str, f64)> {
    let k = &c.kinesis_detail;
    let parts = [
        ("Lambda requests", c.lambda_requests),
        ("Lambda duration", c.lambda_duration),
        ("Kinesis shard-hours", k.shard_hours),
        ("Kinesis PUT units", k.put_units),
        ("Kinesis on-demand stream-hours", k.on_demand_stream_hours),
        ("Kinesis on-demand data written", k.on_demand_written),
        ("Kinesis on-demand data read", k.on_demand_read),
        ("Kinesis enhanced fan-out", k.enhanced_fan_out),
        ("Kinesis extended retention", k.extended_retention),
    ];
    parts
        .into_iter()
        .enumerate()
        .filter(|(i, (_, v))| *i < 2 || *v != 0.0)
        .map(|(_, p)| p)
        .collect()
}

fn cards(h: &mut String, s: &Summary) {
    let r = &s.records;
    let card = |h: &mut String, label: &str, value: String, bad: bool, parts: &str| {
        let _ = writeln!(
            h,
            "<div class=\"card{}\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"parts\">{}</div></div>",
            if bad { " bad" } else { "" },
            esc(label),
            esc(&value),
            esc(parts)
        );
    };
    h.push_str("<div class=\"cards\">\n");
    card(h, "written", thousands(r.written), false, "");
    card(
        h,
        "delivered",
        thousands(r.delivered),
        false,
        "processed by the function",
    );
    card(
        h,
        "lost",
        thousands(r.lost),
        r.lost > 0,
        &format!(
            "expired {}, discarded {}",
            thousands(r.expired),
            thousands(r.discarded)
        ),
    );
    card(
        h,
        "duplicates",
        thousands(r.duplicates),
        false,
        "processed successfully more than once",
    );
    card(
        h,
        "to destination",
        thousands(r.to_destination),
        false,
        "sent to the on-failure destination",
    );
    card(
        h,
        "max iterator age",
        human_ms(s.iterator_age_ms.max),
        s.shards.iter().any(|sh| sh.blocked_ms > 0),
        &format!("p99 {}", human_ms(s.iterator_age_ms.p99)),
    );
    card(
        h,
        "pending at the end",
        thousands(r.pending),
        false,
        "not yet past the checkpoint",
    );
    let parts: Vec<String> = cost_parts(&s.cost_usd)
        .into_iter()
        .map(|(l, v)| format!("{l} {}", dollars(v)))
        .collect();
    card(
        h,
        "cost",
        dollars(s.cost_usd.total),
        false,
        &parts.join(", "),
    );
    h.push_str("</div>\n");
}

fn shard_table(h: &mut String, s: &Summary) {
    h.push_str("<table>\n<tr>");
    for head in super::text::SHARD_HEADS {
        let _ = write!(h, "<th>{head}</th>");
    }
    h.push_str("<th>notes</th></tr>\n");
    for sh in &s.shards {
        let class = if sh.blocked_ms > 0 {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(h, "<tr{class}>");
        for cell in shard_cells(sh) {
            let _ = write!(h, "<td>{}</td>", esc(&cell));
        }
        let _ = writeln!(
            h,
            "<td class=\"text\">{}</td></tr>",
            esc(&shard_notes(sh).join(", "))
        );
    }
    h.push_str("</table>\n");
}
