//! A small SVG writer for the reports: line charts over simulated time and the shard
//! timeline. Our own, so that `report.html` needs no script, no font and no network, and
//! the bytes depend only on the run (every number is printed with a fixed precision).

use std::fmt::Write as _;

use super::timeline::{Grid, reshard_columns, state_label};
use crate::observe::timeseries::ShardState;
use crate::report::Summary;

/// Escapes text for XML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            _ => s.push(c),
        }
    }
    s
}

/// The fill of a state, in the timeline and its legend.
pub fn state_colour(s: ShardState) -> &'static str {
    match s {
        ShardState::Processing => "#2e9e4a",
        ShardState::Failing => "#d62728",
        ShardState::Throttled => "#ff8c1a",
        ShardState::WaitingForParents => "#8e44ad",
        ShardState::Idle => "#dcdcdc",
        ShardState::Closed => "#555555",
    }
}

/// Series colours: distinguishable, and readable printed in grey.
pub const PALETTE: [&str; 12] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22", "#393b79", "#637939",
];

/// An SVG document being written.
pub struct Svg {
    buf: String,
}

impl Svg {
    /// `standalone` adds the XML namespace a `.svg` file needs; inline SVG in HTML does
    /// without it (and so mentions no URL at all).
    pub fn new(width: f64, height: f64, standalone: bool, label: &str) -> Svg {
        let ns = if standalone {
            " xmlns=\"http://www.w3.org/2000/svg\""
        } else {
            ""
        };
        let mut buf = String::new();
        let _ = writeln!(
            buf,
            "<svg{ns} viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">",
            esc(label)
        );
        Svg { buf }
    }

    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, title: Option<&str>) {
        let _ = write!(
            self.buf,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\""
        );
        match title {
            Some(t) => {
                let _ = writeln!(self.buf, "><title>{}</title></rect>", esc(t));
            }
            None => self.buf.push_str("/>\n"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn line(
        &mut self,
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: &str,
        width: f64,
        dash: bool,
    ) {
        let dash = if dash {
            " stroke-dasharray=\"5 3\""
        } else {
            ""
        };
        let _ = writeln!(
            self.buf,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width:.1}\"{dash}/>"
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        if points.is_empty() {
            return;
        }
        let mut pts = String::with_capacity(points.len() * 12);
        for (x, y) in points {
            let _ = write!(pts, "{x:.1},{y:.1} ");
        }
        let _ = writeln!(
            self.buf,
            "<polyline fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width:.1}\" stroke-linejoin=\"round\" points=\"{}\"/>",
            pts.trim_end()
        );
    }

    /// Text; `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, text: &str) {
        let _ = writeln!(
            self.buf,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>",
            esc(text)
        );
    }

    pub fn bold_text(&mut self, x: f64, y: f64, text: &str) {
        let _ = writeln!(
            self.buf,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-weight=\"bold\" font-size=\"13\">{}</text>",
            esc(text)
        );
    }

    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }
}

/// A time for an axis: the largest whole unit (`90s` as `1m30s`, `6h`, `2d`).
pub fn axis_time(ms: u64) -> String {
    const S: u64 = 1_000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    const D: u64 = 24 * H;
    if ms == 0 {
        return "0".into();
    }
    let mut s = String::new();
    let mut rest = ms;
    for (unit, name) in [(D, "d"), (H, "h"), (M, "m"), (S, "s")] {
        if rest >= unit {
            let _ = write!(s, "{}{name}", rest / unit);
            rest %= unit;
        }
    }
    if rest > 0 || s.is_empty() {
        let _ = write!(s, "{rest}ms");
    }
    s
}

/// A step for time ticks giving at most 8 of them over `end_ms`.
fn time_step(end_ms: u64) -> u64 {
    const STEPS: [u64; 19] = [
        1_000,
        5_000,
        10_000,
        30_000,
        60_000,
        300_000,
        600_000,
        900_000,
        1_800_000,
        3_600_000,
        7_200_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        172_800_000,
        604_800_000,
        1_209_600_000,
        2_592_000_000,
    ];
    STEPS
        .into_iter()
        .find(|&s| end_ms / s <= 8)
        .unwrap_or(end_ms.div_ceil(8).max(1))
}

/// How the y axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Log 10 of milliseconds, ticks at round durations (1s, 1m, 1h, 1d); values of 0
    /// and less are left out (gaps in the line).
    LogDuration,
}

/// The ticks of a log duration axis, in milliseconds: 1ms, 10ms, 100ms, 1s, 10s, 1m,
/// 10m, 1h, 6h, 1d, 7d, 30d.
const DURATION_TICKS: [f64; 12] = [
    1.0, 10.0, 100.0, 1e3, 1e4, 6e4, 6e5, 3.6e6, 2.16e7, 8.64e7, 6.048e8, 2.592e9,
];

/// One line of a chart: a value per time, `None` where there is none.
pub struct Series {
    pub name: String,
    pub colour: String,
    pub points: Vec<(u64, Option<f64>)>,
}

/// A reference line (a limit such as the retention period): a value from each time on,
/// drawn as steps where it changes.
pub struct Reference {
    /// (from ms, value), in time order; the first from 0.
    pub steps: Vec<(u64, f64)>,
    pub label: String,
}

impl Reference {
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.steps.iter().map(|&(_, v)| v)
    }
}

pub struct LineChart<'a> {
    pub title: &'a str,
    /// The y axis's unit, shown with the title.
    pub unit: &'a str,
    pub end_ms: u64,
    pub series: Vec<Series>,
    pub scale: Scale,
    pub reference: Option<Reference>,
    /// Formats a y tick (a duration, a count).
    pub format: fn(f64) -> String,
    /// A line under the legend, e.g. that the shards are aggregated.
    pub note: Option<String>,
    /// Values the y axis reaches even if no line does: the other runs' extremes when
    /// runs are compared, so that their charts share one scale.
    pub cover: Vec<f64>,
}

impl LineChart<'_> {
    /// The values the y axis is fitted to: every plotted value and the reference line.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
            .chain(self.reference.iter().flat_map(Reference::values))
    }
}

/// Most points a line keeps: a longer series keeps each bucket's peak, so a spike
/// never disappears in a month-long run.
const MAX_POINTS: usize = 1_500;

fn thin(points: &[(u64, Option<f64>)]) -> Vec<(u64, Option<f64>)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per)
        .map(|c| {
            let t = c.last().map(|p| p.0).unwrap_or(0);
            let v = c.iter().filter_map(|p| p.1).reduce(f64::max);
            (t, v)
        })
        .collect()
}

/// 1, 2 or 5 times a power of ten, at least `x`.
fn nice_ceiling(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= x * 0.999_999 {
            return m * p;
        }
    }
    10.0 * p
}

pub const CHART_WIDTH: f64 = 960.0;
const CHART_HEIGHT: f64 = 280.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 38.0;

/// Draws a line chart: axes with ticks and units, the series, the reference line and a
/// legend on the right.
pub fn line_chart(c: &LineChart<'_>, standalone: bool) -> String {
    let (w, h) = (CHART_WIDTH, CHART_HEIGHT);
    let (pw, ph) = (w - LEFT - RIGHT, h - TOP - BOTTOM);
    let mut svg = Svg::new(w, h, standalone, c.title);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.bold_text(LEFT, 18.0, &format!("{} ({})", c.title, c.unit));
    let series: Vec<Vec<(u64, Option<f64>)>> = c.series.iter().map(|s| thin(&s.points)).collect();
    let values = series
        .iter()
        .flatten()
        .filter_map(|p| p.1)
        .chain(c.reference.iter().flat_map(Reference::values))
        .chain(c.cover.iter().copied());
    let (lo, hi) = match c.scale {
        Scale::Linear => (0.0, nice_ceiling(values.fold(0.0, f64::max))),
        Scale::LogDuration => {
            let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
            let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
            let max = positive.iter().copied().fold(0.0, f64::max);
            if positive.is_empty() {
                (1.0, 10.0)
            } else {
                let lo = DURATION_TICKS
                    .iter()
                    .rev()
                    .find(|&&t| t <= min)
                    .copied()
                    .unwrap_or(DURATION_TICKS[0]);
                let hi = DURATION_TICKS
                    .iter()
                    .find(|&&t| t >= max && t > lo)
                    .copied()
                    .unwrap_or(max.max(lo * 10.0));
                (lo, hi)
            }
        }
    };
    let end = c.end_ms.max(1) as f64;
    let x_of = |t: u64| LEFT + t as f64 / end * pw;
    let y_of = |v: f64| -> f64 {
        let f = match c.scale {
            Scale::Linear => v / hi,
            Scale::LogDuration => (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()),
        };
        TOP + ph - f.clamp(0.0, 1.0) * ph
    };
    // The y ticks and grid.
    let ticks: Vec<f64> = match c.scale {
        Scale::Linear => (0..=4).map(|i| hi * f64::from(i) / 4.0).collect(),
        Scale::LogDuration => DURATION_TICKS
            .iter()
            .copied()
            .filter(|&t| t >= lo && t <= hi)
            .collect(),
    };
    for v in ticks {
        let y = y_of(v);
        svg.line(LEFT, y, LEFT + pw, y, "#e6e6e6", 1.0, false);
        svg.text(LEFT - 6.0, y + 4.0, "end", &(c.format)(v));
    }
    // The time ticks.
    let step = time_step(c.end_ms);
    let mut t = 0;
    while t <= c.end_ms {
        let x = x_of(t);
        svg.line(x, TOP + ph, x, TOP + ph + 4.0, "#333333", 1.0, false);
        svg.text(x, TOP + ph + 16.0, "middle", &axis_time(t));
        t += step;
    }
    svg.text(
        LEFT + pw / 2.0,
        h - 6.0,
        "middle",
        "simulated time (d, h, m, s)",
    );
    svg.line(LEFT, TOP + ph, LEFT + pw, TOP + ph, "#333333", 1.0, false);
    svg.line(LEFT, TOP, LEFT, TOP + ph, "#333333", 1.0, false);
    if let Some(r) = &c.reference {
        let mut y_before: Option<f64> = None;
        for (i, &(from, v)) in r.steps.iter().enumerate() {
            let until = r.steps.get(i + 1).map_or(c.end_ms, |&(t, _)| t);
            let (x0, x1, y) = (x_of(from), x_of(until.max(from)), y_of(v));
            if let Some(yb) = y_before {
                svg.line(x0, yb, x0, y, "#d62728", 1.5, true);
            }
            svg.line(x0, y, x1, y, "#d62728", 1.5, true);
            y_before = Some(y);
        }
        if let Some(y) = y_before {
            svg.text(LEFT + pw - 4.0, y - 4.0, "end", &r.label);
        }
    }
    for (s, pts) in c.series.iter().zip(&series) {
        // A gap (no value) ends one polyline and the next value starts another.
        let mut run: Vec<(f64, f64)> = vec![];
        for &(t, v) in pts {
            match v {
                Some(v) if c.scale == Scale::Linear || v > 0.0 => run.push((x_of(t), y_of(v))),
                _ => {
                    flush(&mut svg, &mut run, &s.colour);
                }
            }
        }
        flush(&mut svg, &mut run, &s.colour);
    }
    // The legend.
    let lx = LEFT + pw + 16.0;
    for (i, s) in c.series.iter().enumerate() {
        let y = TOP + 6.0 + i as f64 * 16.0;
        svg.rect(lx, y - 4.0, 14.0, 4.0, &s.colour, None);
        svg.text(lx + 20.0, y + 1.0, "start", &s.name);
    }
    if let Some(note) = &c.note {
        let y = TOP + 6.0 + c.series.len() as f64 * 16.0 + 6.0;
        svg.text(lx, y, "start", note);
    }
    svg.finish()
}

fn flush(svg: &mut Svg, run: &mut Vec<(f64, f64)>, colour: &str) {
    match run.len() {
        0 => {}
        // A lone value still shows, as a dot.
        1 => svg.rect(run[0].0 - 1.5, run[0].1 - 1.5, 3.0, 3.0, colour, None),
        _ => svg.polyline(run, colour, 1.6),
    }
    run.clear();
}

const ROW_HEIGHT: f64 = 20.0;
const LABEL_WIDTH: f64 = 220.0;

/// The shard timeline: a row per shard (`<g class="timeline-row">`), a rectangle per run
/// of equal states with hover text, reshards as dashed vertical lines, expiries and
/// discards as red marks on the row, a time axis and a legend.
pub fn timeline(summary: &Summary, grid: &Grid, standalone: bool) -> String {
    let pw = CHART_WIDTH - LABEL_WIDTH - 20.0;
    let top = 30.0;
    let rows_h = grid.rows.len() as f64 * ROW_HEIGHT;
    let h = top + rows_h + 70.0;
    let mut svg = Svg::new(CHART_WIDTH, h, standalone, "shard timeline");
    svg.rect(0.0, 0.0, CHART_WIDTH, h, "#ffffff", None);
    svg.bold_text(8.0, 18.0, "Shard timeline (what each shard was doing)");
    let end = grid.end_ms.max(1) as f64;
    let x_of = |t: u64| LABEL_WIDTH + t as f64 / end * pw;
    for (r, row) in grid.rows.iter().enumerate() {
        let id = &summary.shards[row.shard].id;
        let y = top + r as f64 * ROW_HEIGHT;
        svg.raw(&format!(
            "<g class=\"timeline-row\" data-shard=\"{}\">\n",
            esc(id)
        ));
        svg.text(
            8.0 + row.depth as f64 * 14.0,
            y + 14.0,
            "start",
            &if row.depth > 0 {
                format!("└ {id}")
            } else {
                id.clone()
            },
        );
        let cols = row.cells.len();
        let mut k = 0;
        while k < cols {
            let Some(first) = row.cells[k] else {
                k += 1;
                continue;
            };
            let mut cell = first;
            let mut e = k + 1;
            while e < cols && row.cells[e].is_some_and(|c| c.state == first.state) {
                if let Some(c) = &row.cells[e] {
                    cell.merge(c);
                }
                e += 1;
            }
            let (x0, x1) = (x_of(grid.column_start(k)), x_of(grid.column_ends[e - 1]));
            svg.rect(
                x0,
                y + 2.0,
                (x1 - x0).max(0.5),
                ROW_HEIGHT - 4.0,
                state_colour(cell.state),
                Some(&cell.describe(id)),
            );
            k = e;
        }
        // Lost records: a mark per run of columns that lost some.
        let mut k = 0;
        while k < cols {
            if row.cells[k].is_none_or(|c| c.lost == 0) {
                k += 1;
                continue;
            }
            let mut e = k;
            let mut lost = 0;
            while e < cols && row.cells[e].is_some_and(|c| c.lost > 0) {
                lost += row.cells[e].map(|c| c.lost).unwrap_or(0);
                e += 1;
            }
            let (x0, x1) = (x_of(grid.column_start(k)), x_of(grid.column_ends[e - 1]));
            let title = format!(
                "{id} {}..{}: {} records lost (expired or discarded)",
                super::text::human_ms(grid.column_start(k)),
                super::text::human_ms(grid.column_ends[e - 1]),
                super::text::thousands(lost)
            );
            let xm = (x0 + x1) / 2.0;
            svg.raw(&format!(
                "<path class=\"lost\" d=\"M{:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z\" fill=\"#000000\" stroke=\"#ffffff\" stroke-width=\"0.8\"><title>{}</title></path>\n",
                xm - 5.0,
                y + 1.0,
                xm + 5.0,
                y + 1.0,
                xm,
                y + 9.0,
                esc(&title)
            ));
            if x1 - x0 > 10.0 {
                svg.rect(x0, y + ROW_HEIGHT - 4.0, x1 - x0, 2.0, "#000000", None);
            }
            k = e;
        }
        svg.raw("</g>\n");
    }
    // Reshards: a dashed line over every row where the new shards opened.
    for (_, (action, at)) in reshard_columns(summary, grid) {
        let x = x_of(at);
        svg.raw("<g class=\"reshard\">");
        svg.line(x, top - 4.0, x, top + rows_h, "#1f3a93", 1.5, true);
        svg.raw(&format!(
            "<title>{} completed at {}</title></g>\n",
            esc(&action),
            super::text::human_ms(at)
        ));
    }
    // The time axis.
    let ay = top + rows_h;
    svg.line(LABEL_WIDTH, ay, LABEL_WIDTH + pw, ay, "#333333", 1.0, false);
    let step = time_step(grid.end_ms);
    let mut t = 0;
    while t <= grid.end_ms {
        let x = x_of(t);
        svg.line(x, ay, x, ay + 4.0, "#333333", 1.0, false);
        svg.text(x, ay + 16.0, "middle", &axis_time(t));
        t += step;
    }
    // The legend.
    let ly = ay + 36.0;
    let mut lx = 8.0;
    for s in super::timeline::STATES {
        svg.rect(lx, ly - 9.0, 12.0, 12.0, state_colour(s), None);
        let label = state_label(s);
        svg.text(lx + 16.0, ly + 1.0, "start", label);
        lx += 24.0 + label.len() as f64 * 6.5;
    }
    svg.raw(&format!(
        "<path d=\"M{:.1} {:.1} L{:.1} {:.1} L{:.1} {:.1} Z\" fill=\"#000000\"/>\n",
        lx,
        ly - 9.0,
        lx + 10.0,
        ly - 9.0,
        lx + 5.0,
        ly - 1.0
    ));
    svg.text(lx + 16.0, ly + 1.0, "start", "records lost");
    lx += 110.0;
    svg.line(lx, ly - 10.0, lx, ly + 3.0, "#1f3a93", 1.5, true);
    svg.text(lx + 6.0, ly + 1.0, "start", "reshard completed");
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_times_and_steps() {
        assert_eq!(axis_time(0), "0");
        assert_eq!(axis_time(90_000), "1m30s");
        assert_eq!(axis_time(21_600_000), "6h");
        assert_eq!(axis_time(93_600_000), "1d2h");
        assert_eq!(time_step(93_600_000), 10_800_000);
        assert_eq!(time_step(600_000), 300_000);
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(1001.0), 2000.0);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
