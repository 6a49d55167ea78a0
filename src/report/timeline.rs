//! The shard timeline: one row per shard, time across, each column coloured by what the
//! shard was doing (the time series' `ShardState`). The text summary, `report.md` and
//! `report.html` all draw it from the same [`Grid`], so they tell the same story.
//!
//! Rows come in lineage order, each child under its first parent and indented, so a
//! resharding reads top to bottom. A column covering several samples shows the most
//! alarming state among them (failing, then throttled, waiting for parents, processing,
//! idle, closed): a minute of failure in an hour must not vanish when the grid is coarse.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::paint::Paint;
use super::summary::ShardSummary;
use super::text::{human_ms, thousands};
use crate::observe::timeseries::{ShardSample, ShardState};
use crate::report::Summary;

/// Above this many shards the text timeline shows only the first [`TEXT_ROWS_SHOWN`].
pub const TEXT_ROWS_LIMIT: usize = 200;
pub const TEXT_ROWS_SHOWN: usize = 50;
/// Columns of the text timeline (fewer when there are fewer samples).
pub const TEXT_COLUMNS: usize = 60;

/// The order in which a column's samples override each other: higher wins.
fn rank(s: ShardState) -> u8 {
    match s {
        ShardState::Closed => 0,
        ShardState::Idle => 1,
        ShardState::Processing => 2,
        ShardState::WaitingForParents => 3,
        ShardState::Throttled => 4,
        ShardState::Failing => 5,
    }
}

/// Every state, in legend order.
pub const STATES: [ShardState; 6] = [
    ShardState::Processing,
    ShardState::Idle,
    ShardState::Failing,
    ShardState::Throttled,
    ShardState::WaitingForParents,
    ShardState::Closed,
];

/// The words of a state for people.
pub fn state_label(s: ShardState) -> &'static str {
    match s {
        ShardState::Idle => "idle",
        ShardState::Processing => "processing",
        ShardState::Failing => "failing",
        ShardState::Throttled => "throttled",
        ShardState::WaitingForParents => "waiting for parents",
        ShardState::Closed => "closed",
    }
}

/// The text glyph of a state: the alarming ones are the heaviest, so they catch the eye
/// without colour.
pub fn glyph(s: ShardState) -> char {
    match s {
        ShardState::Idle => '·',
        ShardState::Processing => '─',
        ShardState::Failing => '█',
        ShardState::Throttled => '▒',
        ShardState::WaitingForParents => '░',
        ShardState::Closed => 'x',
    }
}

/// `text` in the colour of state `s` (the live view of `kinesim watch` paints with it too).
pub fn paint_state(p: Paint, s: ShardState, text: &str) -> String {
    match s {
        ShardState::Processing => p.green(text),
        ShardState::Failing => p.red(text),
        ShardState::Throttled => p.yellow(text),
        ShardState::WaitingForParents => p.magenta(text),
        ShardState::Idle | ShardState::Closed => p.dim(text),
    }
}

/// What one or more consecutive samples of a shard add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub state: ShardState,
    /// Start (exclusive of the previous sample) and end of the time covered.
    pub from_ms: u64,
    pub to_ms: u64,
    pub written: u64,
    pub delivered: u64,
    pub lost: u64,
    pub errors: u64,
    pub throttles: u64,
    pub invocations: u64,
    pub max_iterator_age_ms: u64,
    pub max_pending: u64,
}

impl Cell {
    fn of(r: &ShardSample, from_ms: u64) -> Cell {
        Cell {
            state: r.state,
            from_ms,
            to_ms: r.t_ms,
            written: r.written,
            delivered: r.delivered,
            lost: r.lost,
            errors: r.errors,
            throttles: r.throttles,
            invocations: r.invocations,
            max_iterator_age_ms: r.iterator_age_ms,
            max_pending: r.pending,
        }
    }

    /// `self` followed by `next`.
    pub fn merge(&mut self, next: &Cell) {
        if rank(next.state) > rank(self.state) {
            self.state = next.state;
        }
        self.from_ms = self.from_ms.min(next.from_ms);
        self.to_ms = self.to_ms.max(next.to_ms);
        self.written += next.written;
        self.delivered += next.delivered;
        self.lost += next.lost;
        self.errors += next.errors;
        self.throttles += next.throttles;
        self.invocations += next.invocations;
        self.max_iterator_age_ms = self.max_iterator_age_ms.max(next.max_iterator_age_ms);
        self.max_pending = self.max_pending.max(next.max_pending);
    }

    /// Hover text: the shard's interval in a sentence.
    pub fn describe(&self, shard: &str) -> String {
        let mut s = format!(
            "{shard} {}..{}: {}; written {}, delivered {}",
            human_ms(self.from_ms),
            human_ms(self.to_ms),
            state_label(self.state),
            thousands(self.written),
            thousands(self.delivered)
        );
        if self.lost > 0 {
            s.push_str(&format!(", lost {}", thousands(self.lost)));
        }
        s.push_str(&format!(", invocations {}", thousands(self.invocations)));
        if self.errors > 0 {
            s.push_str(&format!(", failed {}", thousands(self.errors)));
        }
        if self.throttles > 0 {
            s.push_str(&format!(", throttles {}", thousands(self.throttles)));
        }
        s.push_str(&format!(
            ", max iterator age {}, max pending {}",
            human_ms(self.max_iterator_age_ms),
            thousands(self.max_pending)
        ));
        s
    }
}

/// One shard's row: its place in the lineage and its columns (`None` before it opened).
#[derive(Clone, Debug)]
pub struct GridRow {
    /// Index into `Summary::shards`.
    pub shard: usize,
    /// 0 for a shard of the stream's start, 1 for its children, ...
    pub depth: usize,
    pub cells: Vec<Option<Cell>>,
}

/// The timeline of a run, `columns` wide.
#[derive(Clone, Debug)]
pub struct Grid {
    pub end_ms: u64,
    /// Where each column ends, in milliseconds.
    pub column_ends: Vec<u64>,
    pub rows: Vec<GridRow>,
}

/// The shard number of an id (`shardId-000000000004` is 4).
fn shard_number(id: &str) -> Option<u32> {
    id.strip_prefix("shardId-")?.parse().ok()
}

/// Summary indices with their depth, each child right under its first parent.
pub fn lineage_order(shards: &[ShardSummary]) -> Vec<(usize, usize)> {
    let index: BTreeMap<&str, usize> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![vec![]; shards.len()];
    let mut roots = vec![];
    for (i, s) in shards.iter().enumerate() {
        match s.parents.first().and_then(|p| index.get(p.as_str())) {
            Some(&p) if p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(shards.len());
    let mut seen = vec![false; shards.len()];
    let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push((i, depth));
        stack.extend(children[i].iter().rev().map(|&c| (c, depth + 1)));
    }
    // A lineage that loops back on itself cannot happen; should it, no shard goes missing.
    order.extend((0..shards.len()).filter(|&i| !seen[i]).map(|i| (i, 0)));
    order
}

impl Grid {
    /// The timeline of `summary`'s shards from its `samples`, at most `columns` wide (one
    /// column per sample when there are fewer).
    pub fn new(summary: &Summary, samples: &[ShardSample], columns: usize) -> Grid {
        let times: Vec<u64> = {
            let mut t: Vec<u64> = samples.iter().map(|r| r.t_ms).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        let n = times.len();
        let cols = columns.max(1).min(n.max(1));
        // Sample j goes to column j * cols / n: columns of (nearly) equal sample counts.
        let column_of = |j: usize| j * cols / n.max(1);
        let mut column_ends = vec![0u64; cols];
        for (j, &t) in times.iter().enumerate() {
            column_ends[column_of(j)] = t;
        }
        let by_number: BTreeMap<u32, usize> = summary
            .shards
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((shard_number(&s.id)?, i)))
            .collect();
        let mut cells: Vec<Vec<Option<Cell>>> = vec![vec![None; cols]; summary.shards.len()];
        for r in samples {
            let (Some(&i), Ok(j)) = (by_number.get(&r.shard), times.binary_search(&r.t_ms)) else {
                continue;
            };
            let from = if j == 0 { 0 } else { times[j - 1] };
            let cell = Cell::of(r, from);
            match &mut cells[i][column_of(j)] {
                Some(c) => c.merge(&cell),
                slot @ None => *slot = Some(cell),
            }
        }
        let rows = lineage_order(&summary.shards)
            .into_iter()
            .map(|(shard, depth)| GridRow {
                shard,
                depth,
                cells: std::mem::take(&mut cells[shard]),
            })
            .collect();
        Grid {
            end_ms: summary.simulated_ms,
            column_ends,
            rows,
        }
    }

    pub fn columns(&self) -> usize {
        self.column_ends.len()
    }

    /// Where column `c` starts.
    pub fn column_start(&self, c: usize) -> u64 {
        if c == 0 { 0 } else { self.column_ends[c - 1] }
    }

    /// The column whose span holds `t_ms` (the last one for later times).
    pub fn column_at(&self, t_ms: u64) -> usize {
        self.column_ends
            .partition_point(|&end| end < t_ms)
            .min(self.columns().saturating_sub(1))
    }
}

/// The timeline as text: a label column, one glyph per column, a time axis, the reshards
/// marked under it and a legend. `colour` paints each state (a terminal only).
pub fn write_text(
    summary: &Summary,
    samples: &[ShardSample],
    out: &mut dyn Write,
    colour: bool,
) -> io::Result<()> {
    let p = Paint(colour);
    writeln!(out, "\n{}", p.bold("Timeline"))?;
    write_grid(summary, samples, out, p)
}

/// The timeline's rows, axis and legend, without a heading (`report.md` puts them in a
/// code block).
pub fn write_grid(
    summary: &Summary,
    samples: &[ShardSample],
    out: &mut dyn Write,
    p: Paint,
) -> io::Result<()> {
    let grid = Grid::new(summary, samples, TEXT_COLUMNS);
    if samples.is_empty() {
        writeln!(
            out,
            "  (no samples: simulation.sample_every is 0 or longer than the run)"
        )?;
        return Ok(());
    }
    let cols = grid.columns();
    let shown = if grid.rows.len() > TEXT_ROWS_LIMIT {
        TEXT_ROWS_SHOWN
    } else {
        grid.rows.len()
    };
    let labels: Vec<String> = grid.rows[..shown]
        .iter()
        .map(|r| format!("{}{}", "  ".repeat(r.depth), summary.shards[r.shard].id))
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (row, label) in grid.rows[..shown].iter().zip(&labels) {
        let mut line = format!("  {label:<width$}  ");
        // Runs of one state get one colour escape, not one per column.
        let mut k = 0;
        while k < cols {
            let state = row.cells[k].map(|c| c.state);
            let mut end = k + 1;
            while end < cols && row.cells[end].map(|c| c.state) == state {
                end += 1;
            }
            match state {
                Some(s) => {
                    let run: String = std::iter::repeat_n(glyph(s), end - k).collect();
                    line.push_str(&paint_state(p, s, &run));
                }
                None => line.push_str(&" ".repeat(end - k)),
            }
            k = end;
        }
        let lost: u64 = row.cells.iter().flatten().map(|c| c.lost).sum();
        if lost > 0 {
            line.push_str(&format!(
                "  {}",
                p.red(&format!("lost {}", thousands(lost)))
            ));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    if shown < grid.rows.len() {
        writeln!(
            out,
            "  ({} of {} shards shown; report.html has them all)",
            shown,
            grid.rows.len()
        )?;
    }
    // The time axis: the run's start under the first column, its end under the last.
    let start = "0s";
    let end = human_ms(grid.end_ms);
    let gap = cols.saturating_sub(start.len() + end.len()).max(1);
    writeln!(
        out,
        "  {:width$}  {}",
        "",
        p.dim(&format!("{start}{}{end}", " ".repeat(gap)))
    )?;
    let marks = reshard_columns(summary, &grid);
    if !marks.is_empty() {
        let mut axis = vec![' '; cols];
        for &(c, _) in &marks {
            axis[c] = '^';
        }
        let axis: String = axis.into_iter().collect();
        let what: Vec<String> = marks
            .iter()
            .map(|(_, a)| format!("{} at {}", a.0, human_ms(a.1)))
            .collect();
        writeln!(
            out,
            "  {:width$}  {}  {}",
            "",
            axis.trim_end(),
            p.dim(&format!("reshard: {}", what.join(", ")))
        )?;
    }
    let one = grid.column_ends.first().copied().unwrap_or(0);
    let legend: Vec<String> = STATES
        .iter()
        .map(|&s| {
            format!(
                "{} {}",
                paint_state(p, s, &glyph(s).to_string()),
                state_label(s)
            )
        })
        .collect();
    writeln!(
        out,
        "  {}  {}",
        legend.join("  "),
        p.dim(&format!(
            "(one column ≈ {}; blank: not open yet)",
            human_ms(one)
        ))
    )?;
    Ok(())
}

/// The reshardings that completed, each with the column it completed in.
pub fn reshard_columns(summary: &Summary, grid: &Grid) -> Vec<(usize, (String, u64))> {
    summary
        .actions
        .iter()
        .filter_map(|a| {
            Some((
                grid.column_at(a.completed_ms?),
                (a.action.clone(), a.completed_ms?),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parents: &[&str]) -> ShardSummary {
        ShardSummary {
            id: id.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            ..ShardSummary::default()
        }
    }

    #[test]
    fn children_come_under_their_first_parent() {
        let shards = [
            shard("shardId-000000000000", &[]),
            shard("shardId-000000000001", &[]),
            shard("shardId-000000000002", &["shardId-000000000000"]),
            shard("shardId-000000000003", &["shardId-000000000000"]),
            shard(
                "shardId-000000000004",
                &["shardId-000000000002", "shardId-000000000001"],
            ),
        ];
        assert_eq!(
            lineage_order(&shards),
            [(0, 0), (2, 1), (4, 2), (3, 1), (1, 0)]
        );
    }

    #[test]
    fn a_column_shows_its_most_alarming_state() {
        let mut c = Cell {
            state: ShardState::Processing,
            from_ms: 0,
            to_ms: 60_000,
            written: 1,
            delivered: 1,
            lost: 0,
            errors: 0,
            throttles: 0,
            invocations: 1,
            max_iterator_age_ms: 5,
            max_pending: 2,
        };
        let next = Cell {
            state: ShardState::Failing,
            from_ms: 60_000,
            to_ms: 120_000,
            max_iterator_age_ms: 3,
            ..c
        };
        c.merge(&next);
        assert_eq!(c.state, ShardState::Failing);
        assert_eq!((c.from_ms, c.to_ms, c.written), (0, 120_000, 2));
        assert_eq!(c.max_iterator_age_ms, 5);
        let idle = Cell {
            state: ShardState::Idle,
            ..c
        };
        c.merge(&idle);
        assert_eq!(c.state, ShardState::Failing);
    }
}
