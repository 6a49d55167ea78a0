//! The files of `--report DIR`: what each chart plots, and the list of (name, bytes)
//! the command line writes. `summary.json` is the command line's own `--format json`,
//! added there so that there is one way of writing it.

use super::svg::{LineChart, PALETTE, Reference, Scale, Series, line_chart};
use super::text::{human_ms, thousands, variant_label};
use super::timeline::Grid;
use crate::observe::timeseries::{CSV_HEADER, ShardSample};
use crate::report::Summary;
use crate::scenario::{ActionKind, Scenario};

/// Columns of the HTML timeline at most (about one per pixel of its width).
pub const HTML_COLUMNS: usize = 720;
/// Above this many shards, charts plot the max and mean over shards instead of a line
/// per shard: a legend of 50 colours helps nobody.
pub const PER_SHARD_LINES: usize = 12;

/// One run as the reports need it.
pub struct ReportRun<'a> {
    pub summary: &'a Summary,
    pub samples: &'a [ShardSample],
    /// The stream's retention (the line iterator age must stay under): (from ms,
    /// retention ms), from the start and at each `set_retention`.
    pub retention_ms: Vec<(u64, u64)>,
}

/// The stream's retention over the run of `s`: from the start, then at each
/// `set_retention` action within the run (actions at one time apply in their order).
pub fn retention_steps(s: &Scenario) -> Vec<(u64, u64)> {
    let mut steps = vec![(0, s.stream.retention.as_millis())];
    for a in &s.actions {
        if let ActionKind::SetRetention(d) = a.kind
            && a.at.0 <= s.duration.0
        {
            steps.push((a.at.as_millis(), d.as_millis()));
        }
    }
    // Stable: actions due at one time keep their order, the last one holding.
    steps.sort_by_key(|&(t, _)| t);
    steps.dedup_by(|later, earlier| {
        let same_time = later.0 == earlier.0;
        if same_time {
            earlier.1 = later.1;
        }
        same_time
    });
    steps
}

/// A chart of a report: its file stem (`iterator-age` → `iterator-age.svg`) and title.
pub struct Chart {
    pub stem: &'static str,
    pub title: &'static str,
    /// Drawn for inlining in HTML, and as a standalone `.svg` file.
    pub inline: String,
    pub standalone: String,
}

fn duration_tick(v: f64) -> String {
    super::svg::axis_time(v.round() as u64)
}

fn count_tick(v: f64) -> String {
    if v >= 10.0 || v == 0.0 {
        thousands(v.round() as u64)
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Sample end times, ascending.
fn times(samples: &[ShardSample]) -> Vec<u64> {
    let mut t: Vec<u64> = samples.iter().map(|r| r.t_ms).collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// A line per shard of `value`, or the max and mean over the shards open at each sample
/// when there are many shards. Shards are in summary (id) order.
fn per_shard(
    summary: &Summary,
    samples: &[ShardSample],
    value: fn(&ShardSample) -> Option<f64>,
) -> (Vec<Series>, Option<String>) {
    let times = times(samples);
    let shard_count = summary.shards.len();
    if shard_count <= PER_SHARD_LINES {
        let mut points: Vec<Vec<(u64, Option<f64>)>> = vec![vec![]; shard_count];
        for r in samples {
            if let Some(p) = points.get_mut(r.shard as usize) {
                p.push((r.t_ms, value(r)));
            }
        }
        let series = summary
            .shards
            .iter()
            .zip(points)
            .enumerate()
            .map(|(i, (sh, points))| Series {
                name: sh.id.clone(),
                colour: PALETTE[i % PALETTE.len()].to_string(),
                points,
            })
            .collect();
        return (series, None);
    }
    let mut max = vec![None::<f64>; times.len()];
    let mut sum = vec![(0.0f64, 0u32); times.len()];
    for r in samples {
        let (Ok(j), Some(v)) = (times.binary_search(&r.t_ms), value(r)) else {
            continue;
        };
        max[j] = Some(max[j].map_or(v, |m: f64| m.max(v)));
        sum[j].0 += v;
        sum[j].1 += 1;
    }
    let series = vec![
        Series {
            name: "max over shards".into(),
            colour: PALETTE[1].into(),
            points: times.iter().copied().zip(max).collect(),
        },
        Series {
            name: "mean over shards".into(),
            colour: PALETTE[0].into(),
            points: times
                .iter()
                .zip(sum)
                .map(|(&t, (s, n))| (t, (n > 0).then(|| s / f64::from(n))))
                .collect(),
        },
    ];
    (series, Some(format!("{shard_count} shards")))
}

/// The sample times and the stream's total of `value` at each.
fn stream_sums(samples: &[ShardSample], value: fn(&ShardSample) -> u64) -> (Vec<u64>, Vec<u64>) {
    let times = times(samples);
    let mut sums = vec![0u64; times.len()];
    for r in samples {
        if let Ok(j) = times.binary_search(&r.t_ms) {
            // Refusals can be near 2^64 on each shard (they saturate there).
            sums[j] = sums[j].saturating_add(value(r));
        }
    }
    (times, sums)
}

/// The stream's total of `value` per sample, per second of the sample's interval.
fn stream_rate(
    samples: &[ShardSample],
    name: &str,
    colour: &str,
    value: fn(&ShardSample) -> u64,
) -> Series {
    let (times, sums) = stream_sums(samples, value);
    let points = times
        .iter()
        .enumerate()
        .map(|(j, &t)| {
            let from = if j == 0 { 0 } else { times[j - 1] };
            let secs = (t - from).max(1) as f64 / 1000.0;
            (t, Some(sums[j] as f64 / secs))
        })
        .collect();
    Series {
        name: name.into(),
        colour: colour.into(),
        points,
    }
}

/// The stream's total of `value` per sample.
fn stream_total(
    samples: &[ShardSample],
    name: &str,
    colour: &str,
    value: fn(&ShardSample) -> u64,
) -> Series {
    let (times, sums) = stream_sums(samples, value);
    Series {
        name: name.into(),
        colour: colour.into(),
        points: times
            .iter()
            .zip(sums)
            .map(|(&t, v)| (t, Some(v as f64)))
            .collect(),
    }
}

/// A linear chart of counts with no reference line.
fn counts<'a>(title: &'a str, unit: &'a str, end_ms: u64, series: Vec<Series>) -> LineChart<'a> {
    LineChart {
        title,
        unit,
        end_ms,
        series,
        scale: Scale::Linear,
        reference: None,
        format: count_tick,
        note: None,
        cover: vec![],
    }
}

/// The charts of a run, in report order.
pub fn charts(run: &ReportRun<'_>) -> Vec<Chart> {
    let per = per_interval(run.samples);
    render(chart_specs(run, &per))
}

/// The charts of runs compared, a list per run, each chart on the same axes in every
/// run (the longest run's time, the widest range of values) so that they can be read
/// side by side at a glance.
pub fn shared_charts(runs: &[ReportRun<'_>]) -> Vec<Vec<Chart>> {
    let pers: Vec<String> = runs.iter().map(|r| per_interval(r.samples)).collect();
    let mut specs: Vec<Vec<Spec<'_>>> = runs
        .iter()
        .zip(&pers)
        .map(|(r, per)| chart_specs(r, per))
        .collect();
    let end_ms = runs
        .iter()
        .map(|r| r.summary.simulated_ms)
        .max()
        .unwrap_or(0);
    // Every run has the same charts in the same order.
    let count = specs.first().map_or(0, Vec::len);
    for i in 0..count {
        let values: Vec<f64> = specs.iter().flat_map(|s| s[i].2.values()).collect();
        // The lowest positive value matters to a log scale, the highest to both.
        let low = values.iter().copied().filter(|v| *v > 0.0).reduce(f64::min);
        let high = values.iter().copied().reduce(f64::max);
        for run in &mut specs {
            run[i].2.end_ms = end_ms;
            run[i].2.cover = low.into_iter().chain(high).collect();
        }
    }
    specs.into_iter().map(render).collect()
}

/// A chart before it is drawn: its stem, its title and what it plots.
type Spec<'a> = (&'static str, &'static str, LineChart<'a>);

fn render(specs: Vec<Spec<'_>>) -> Vec<Chart> {
    specs
        .into_iter()
        .map(|(stem, title, chart)| Chart {
            stem,
            title,
            inline: line_chart(&chart, false),
            standalone: line_chart(&chart, true),
        })
        .collect()
}

/// `per 1m`: the unit of the charts of counts per sample interval.
fn per_interval(samples: &[ShardSample]) -> String {
    let interval = times(samples).first().copied().unwrap_or(0);
    format!("per {}", human_ms(interval))
}

/// What each chart of a run plots, in report order.
fn chart_specs<'a>(run: &ReportRun<'_>, per: &'a str) -> Vec<Spec<'a>> {
    let (s, rows) = (run.summary, run.samples);
    let end_ms = s.simulated_ms;
    let mut out = vec![];
    let mut add = |stem: &'static str, title: &'static str, chart: LineChart<'a>| {
        out.push((stem, title, chart));
    };
    let (series, note) = per_shard(s, rows, |r| {
        (r.iterator_age_ms > 0).then_some(r.iterator_age_ms as f64)
    });
    add(
        "iterator-age",
        "Iterator age",
        LineChart {
            title: "Iterator age per shard",
            unit: "largest at a send in each interval, log scale",
            end_ms,
            series,
            scale: Scale::LogDuration,
            reference: run.retention_ms.last().map(|&(_, last)| Reference {
                steps: run
                    .retention_ms
                    .iter()
                    .map(|&(t, ms)| (t, ms as f64))
                    .collect(),
                label: format!("retention {}: older records expire", human_ms(last)),
            }),
            format: duration_tick,
            note,
            cover: vec![],
        },
    );

    let (series, note) = per_shard(s, rows, |r| Some(r.pending as f64));
    add(
        "pending",
        "Backlog",
        LineChart {
            title: "Backlog per shard",
            unit: "records written and not yet past the checkpoint",
            end_ms,
            series,
            scale: Scale::Linear,
            reference: None,
            format: count_tick,
            note,
            cover: vec![],
        },
    );

    let rate = |name, colour, value| stream_rate(rows, name, colour, value);
    add(
        "throughput",
        "Throughput",
        counts(
            "Stream throughput",
            "records/s, mean over each interval",
            end_ms,
            vec![
                rate("written", PALETTE[0], |r| r.written),
                rate("delivered", PALETTE[2], |r| r.delivered),
                rate("lost", PALETTE[1], |r| r.lost),
                rate("rejected", PALETTE[3], |r| r.rejected),
            ],
        ),
    );
    let total = |name, colour, value| stream_total(rows, name, colour, value);
    add(
        "concurrency",
        "Concurrency",
        counts(
            "Concurrency",
            "invocations in flight at each sample, whole stream",
            end_ms,
            vec![total("in flight", PALETTE[4], |r| u64::from(r.concurrency))],
        ),
    );
    add(
        "errors",
        "Failures and throttles",
        counts(
            "Failed invocations and throttles",
            per,
            end_ms,
            vec![
                total("failed invocations", PALETTE[1], |r| r.errors),
                total("throttles", PALETTE[3], |r| r.throttles),
            ],
        ),
    );
    out
}

/// `timeseries.csv`: the header and a row per shard per sample.
pub fn csv(samples: &[ShardSample]) -> Vec<u8> {
    let mut s = String::with_capacity(64 * (samples.len() + 1));
    s.push_str(CSV_HEADER);
    s.push('\n');
    for r in samples {
        s.push_str(&r.csv_row());
        s.push('\n');
    }
    s.into_bytes()
}

/// `timeseries.csv` of runs compared: each run's rows, in run order, after a `run`
/// column naming it (`base` or the variant).
pub fn compare_csv(runs: &[ReportRun<'_>]) -> Vec<u8> {
    let mut s = format!("run,{CSV_HEADER}\n");
    for run in runs {
        let name = csv_field(variant_label(run.summary));
        for r in run.samples {
            s.push_str(&format!("{name},{}\n", r.csv_row()));
        }
    }
    s.into_bytes()
}

/// A CSV field, quoted only if it must be (a variant name is free text).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The prefix of a compared run's pictures (`fix-` for variant `fix`): its name with
/// anything but letters, digits, `-`, `_` and `.` made `-`, so that it is a file name.
pub fn file_prefix(s: &Summary) -> String {
    let name: String = variant_label(s)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{name}-")
}

/// The pictures of a run: its timeline and charts as `.svg` files named after `prefix`.
fn pictures(prefix: &str, run: &ReportRun<'_>, grid: &Grid, charts: Vec<Chart>) -> Files {
    let mut out = vec![(
        format!("{prefix}timeline.svg"),
        super::svg::timeline(run.summary, grid, true).into_bytes(),
    )];
    for c in charts {
        out.push((format!("{prefix}{}.svg", c.stem), c.standalone.into_bytes()));
    }
    out
}

/// A report's files: (name, bytes), in a fixed order.
pub type Files = Vec<(String, Vec<u8>)>;

/// Every file of the report but `summary.json`, in a fixed order.
pub fn files(run: &ReportRun<'_>) -> Files {
    let charts = charts(run);
    let grid = Grid::new(run.summary, run.samples, HTML_COLUMNS);
    let mut out = vec![
        (
            "report.html".to_string(),
            super::html::report(run, &grid, &charts).into_bytes(),
        ),
        (
            "report.md".to_string(),
            super::markdown::report(run, &charts).into_bytes(),
        ),
        ("timeseries.csv".to_string(), csv(run.samples)),
    ];
    out.extend(pictures("", run, &grid, charts));
    out
}

/// Every file of `compare --report` but `summary.json`: the runs side by side, base
/// first, each run's pictures prefixed by its name.
pub fn compare_files(runs: &[ReportRun<'_>]) -> Files {
    let charts = shared_charts(runs);
    let grids: Vec<Grid> = runs
        .iter()
        .map(|r| Grid::new(r.summary, r.samples, HTML_COLUMNS))
        .collect();
    let prefixes: Vec<String> = runs.iter().map(|r| file_prefix(r.summary)).collect();
    let mut out = vec![
        (
            "report.html".to_string(),
            super::html::compare_report(runs, &grids, &charts).into_bytes(),
        ),
        (
            "report.md".to_string(),
            super::markdown::compare_report(runs, &charts, &prefixes).into_bytes(),
        ),
        ("timeseries.csv".to_string(), compare_csv(runs)),
    ];
    for (((run, grid), charts), prefix) in runs.iter().zip(&grids).zip(charts).zip(&prefixes) {
        out.extend(pictures(prefix, run, grid, charts));
    }
    out
}
