//! `kinesim sweep SCENARIO --set PATH=V1,V2,... [--set ...]`: run a scenario over a grid
//! of settings and print one row (or JSON line) of headline numbers per grid point.
//!
//! The grid is the cartesian product of the `--set` lists in the order given, the last
//! varying fastest; a point's index is its place in that order. Every point is checked
//! through `Loaded::patched` (the same checks as a scenario file) before anything runs,
//! so a bad value costs nothing. Points run on a pool of `--threads` workers; results
//! are kept by index, so the output is in grid order and byte-identical whatever the
//! thread count (I-5). `--partition i/n` runs the i-th of n contiguous blocks of the
//! grid: the outputs of slices 1..n, concatenated, are the output of the whole sweep
//! (the table's head is printed by slice 1 only, and column widths depend on the grid,
//! never on the results). A progress bar goes to stderr, only on a terminal outside CI.

use std::num::NonZeroUsize;
use std::ops::Range;

use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use serde_json::{Map, Value as Json, json};

use super::{CliError, Out, Overrides, simulate_all};
use crate::model::RunError;
use crate::report::Summary;
use crate::report::text::{dollars, human_ms, thousands};
use crate::scenario::{self, Diagnostic, Loaded, Scenario, ScenarioError};

/// The most points one sweep may have: each is checked before any runs, and a grid
/// this large is a typo more often than a plan. Split a larger one into several sweeps.
const MAX_POINTS: usize = 100_000;

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// A scenario file (.yaml, .yml, .json) or the name of a built-in scenario.
    pub scenario: String,
    /// A setting and its values: a key path of the scenario file and a comma-separated
    /// list of YAML values (commas inside [..] or {..} do not split). Repeat for a grid;
    /// the last one varies fastest.
    #[arg(long = "set", value_name = "PATH=V1,V2,...", required = true)]
    pub sets: Vec<String>,
    /// Sweep this variant instead of the base scenario.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// How the results are printed on stdout.
    #[arg(long, value_enum, default_value_t = SweepFormat::Table)]
    pub format: SweepFormat,
    /// Run N points at a time (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
    /// Run only slice i of n contiguous slices of the grid (1-based), e.g. 2/4.
    #[arg(long, value_name = "i/n", value_parser = parse_partition)]
    pub partition: Option<Partition>,
    #[command(flatten)]
    pub overrides: Overrides,
}

/// The output of `sweep`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SweepFormat {
    /// An aligned text table, one row per point.
    #[default]
    Table,
    /// One JSON object per point, one per line.
    Jsonl,
}

/// `--partition i/n`: slice `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
}

impl Partition {
    /// The points of this slice: contiguous, the slices in order covering `0..total`
    /// once, sizes differing by at most one.
    fn range(self, total: usize) -> Range<usize> {
        let at = |i: usize| (total as u128 * i as u128 / self.count as u128) as usize;
        at(self.index - 1)..at(self.index)
    }
}

fn parse_partition(text: &str) -> Result<Partition, String> {
    let usage = || format!("`{text}` is not a slice: expected i/n with 1 <= i <= n, e.g. 2/4");
    let (i, n) = text.split_once('/').ok_or_else(usage)?;
    let i: usize = i.trim().parse().map_err(|_| usage())?;
    let n: usize = n.trim().parse().map_err(|_| usage())?;
    if i == 0 || n == 0 || i > n {
        return Err(usage());
    }
    Ok(Partition { index: i, count: n })
}

/// One `--set`: a key path and its values, as the user wrote them.
#[derive(Debug, PartialEq, Eq)]
struct Axis {
    path: String,
    values: Vec<String>,
}

fn parse_set(arg: &str) -> Result<Axis, CliError> {
    let usage = |why: &str| {
        CliError::Usage(format!(
            "--set {arg}: {why} (expected PATH=V1,V2,..., e.g. \
             event_source_mapping.BatchSize=10,100,1000)"
        ))
    };
    let (path, list) = arg.split_once('=').ok_or_else(|| usage("no `=`"))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(usage("no key path before `=`"));
    }
    let values: Vec<String> = split_values(list)
        .into_iter()
        .map(|v| v.trim().to_owned())
        .collect();
    if values.iter().any(String::is_empty) {
        return Err(usage(
            "an empty value; write `null` to remove the key from the scenario",
        ));
    }
    Ok(Axis {
        path: path.to_owned(),
        values,
    })
}

/// Splits a value list at the commas that are not inside brackets, braces or quotes, so
/// that YAML flow values (`[ReportBatchItemFailures]`, `{base: 20ms, per_record: 1ms}`)
/// are one value each.
fn split_values(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            (None, _) => {}
        }
        escaped = false;
    }
    parts.push(&list[start..]);
    parts
}

/// The grid: the axes, and how many points they make.
struct Grid {
    axes: Vec<Axis>,
    points: usize,
}

impl Grid {
    fn new(sets: &[String]) -> Result<Grid, CliError> {
        let mut axes: Vec<Axis> = Vec::new();
        for arg in sets {
            let axis = parse_set(arg)?;
            if axes.iter().any(|a| a.path == axis.path) {
                return Err(CliError::Usage(format!(
                    "--set {}: given twice; list all its values in one --set {}=V1,V2,...",
                    axis.path, axis.path
                )));
            }
            axes.push(axis);
        }
        let points = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .filter(|n| *n <= MAX_POINTS)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "the grid has more than {MAX_POINTS} points; split it into several sweeps"
                ))
            })?;
        Ok(Grid { axes, points })
    }

    /// The value of each axis at point `index`: the last axis varies fastest.
    fn point(&self, mut index: usize) -> Vec<(&str, &str)> {
        let mut settings = vec![("", ""); self.axes.len()];
        for (slot, axis) in settings.iter_mut().zip(&self.axes).rev() {
            let n = axis.values.len();
            *slot = (axis.path.as_str(), axis.values[index % n].as_str());
            index /= n;
        }
        settings
    }
}

pub fn sweep(args: &SweepArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let grid = Grid::new(&args.sets)?;
    let loaded = scenario::load(&args.scenario)?;
    let slice = match args.partition {
        Some(p) => p.range(grid.points),
        None => 0..grid.points,
    };
    let mut runs = checked_points(&loaded, args.variant.as_deref(), &grid, &slice)?;
    for (_, s) in &mut runs {
        args.overrides.apply(s);
    }
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let bar = progress_bar(runs.len());
    let results = simulate_all(&runs, threads, &|| bar.inc(1));
    bar.finish_and_clear();

    let mut text = String::new();
    let table = Table::new(&grid);
    if args.format == SweepFormat::Table && slice.start == 0 {
        text.push_str(&table.head());
    }
    let mut unfinished = Vec::new();
    for ((index, (variant, s)), result) in slice.clone().zip(&runs).zip(&results) {
        let settings = grid.point(index);
        if let Err(e) = result {
            unfinished.push(format!("point {index} ({}): {e}", setting_list(&settings)));
        }
        match args.format {
            SweepFormat::Table => text.push_str(&table.row(index, &settings, result)),
            SweepFormat::Jsonl => {
                let line = json_line(index, &settings, variant.as_deref(), s, result);
                text.push_str(&serde_json::to_string(&line).expect("a line serialises"));
                text.push('\n');
            }
        }
    }
    out.emit(text.as_bytes())?;
    if unfinished.is_empty() {
        Ok(())
    } else {
        Err(CliError::Unfinished {
            total: runs.len(),
            runs: unfinished,
        })
    }
}

/// Checks every point of the grid (the whole grid, so that every slice of a partitioned
/// sweep fails alike) and returns the scenarios of the points in `slice`. Each problem
/// is reported once, however many points share it.
fn checked_points(
    loaded: &Loaded,
    variant: Option<&str>,
    grid: &Grid,
    slice: &Range<usize>,
) -> Result<Vec<(Option<String>, Scenario)>, CliError> {
    let mut runs = Vec::with_capacity(slice.len());
    let mut problems: Vec<Diagnostic> = Vec::new();
    for index in 0..grid.points {
        let settings = grid.point(index);
        match loaded.patched(variant, &settings) {
            Ok(s) if slice.contains(&index) => runs.push((variant.map(str::to_owned), s)),
            Ok(_) => {}
            Err(ScenarioError::Invalid(diags)) => {
                for d in diags {
                    let d = at_setting(d, &settings);
                    if !problems.contains(&d) {
                        problems.push(d);
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    if problems.is_empty() {
        Ok(runs)
    } else {
        Err(ScenarioError::Invalid(problems).into())
    }
}

/// A problem with a value that came from `--set` is placed there, not at the key of
/// the file it replaced (where `patched` places range and type errors), so the message
/// points at what the user has to change. A problem at the setting's path, inside its
/// value or at a key on its way (`nonsense` of `nonsense.key`) came from the setting.
fn at_setting(mut d: Diagnostic, settings: &[(&str, &str)]) -> Diagnostic {
    let within = |inner: &str, outer: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    let from = settings
        .iter()
        .find(|(path, _)| within(&d.path, path) || within(path, &d.path));
    if let Some((path, value)) = from {
        d.file = format!("--set {path}={value}");
        (d.line, d.col) = (1, 1);
    }
    d
}

/// The sweep's bar: points done.
fn progress_bar(points: usize) -> ProgressBar {
    super::progress_bar(
        points as u64,
        "sweep {pos}/{len} points {wide_bar} {elapsed} eta {eta}",
    )
}

/// `event_source_mapping.BatchSize=100, stream.shards=4`.
fn setting_list(settings: &[(&str, &str)]) -> String {
    let parts: Vec<String> = settings.iter().map(|(p, v)| format!("{p}={v}")).collect();
    parts.join(", ")
}

/// A point's JSON line: where it is in the grid, what it ran, and its headline numbers
/// under the same keys as the summary (design.md §6.1), or why it did not finish.
fn json_line(
    index: usize,
    settings: &[(&str, &str)],
    variant: Option<&str>,
    s: &Scenario,
    result: &Result<Summary, RunError>,
) -> Json {
    // A value that reads as JSON (100, true, [1]) is written as that; any other, such
    // as `2h` or `[ReportBatchItemFailures]`, as the string given.
    let settings: Map<String, Json> = settings
        .iter()
        .map(|(p, v)| {
            let value = serde_json::from_str(v).unwrap_or_else(|_| Json::from(*v));
            ((*p).to_owned(), value)
        })
        .collect();
    let mut line = json!({
        "point": index,
        "settings": settings,
        "scenario": s.name,
        "variant": variant,
        "seed": s.seed,
    });
    let rest = match result {
        Ok(r) => json!({
            "records": {
                "written": r.records.written,
                "delivered": r.records.delivered,
                "lost": r.records.lost,
                "duplicates": r.records.duplicates,
            },
            "iterator_age_ms": {
                "p50": r.iterator_age_ms.p50,
                "p99": r.iterator_age_ms.p99,
                "max": r.iterator_age_ms.max,
            },
            "latency_ms": {"p99": r.latency_ms.p99},
            "invocations": {
                "total": r.invocations.total,
                "errors": r.invocations.errors,
                "timeouts": r.invocations.timeouts,
                "throttles": r.invocations.throttles,
            },
            "concurrency": {"max": r.concurrency.max},
            "cost_usd": {"total": r.cost_usd.total},
        }),
        Err(e) => json!({"error": e.to_string()}),
    };
    if let (Some(line), Json::Object(rest)) = (line.as_object_mut(), rest) {
        line.extend(rest);
    }
    line
}

/// The numeric columns: head, and the width its values get. Widths are fixed so that
/// slices of a partitioned sweep line up when concatenated; a larger value widens only
/// its own row.
const NUMBER_COLUMNS: [(&str, usize); 13] = [
    ("written", 11),
    ("delivered", 11),
    ("lost", 9),
    ("duplicates", 9),
    ("age p50", 7),
    ("age p99", 7),
    ("age max", 7),
    ("latency p99", 7),
    ("invocations", 9),
    ("errors", 7),
    ("throttles", 7),
    ("peak conc", 4),
    ("cost", 9),
];

/// The text table's layout, decided from the grid alone.
struct Table {
    point_width: usize,
    setting_widths: Vec<usize>,
    heads: Vec<String>,
}

impl Table {
    fn new(grid: &Grid) -> Table {
        let last = grid.points.saturating_sub(1);
        Table {
            point_width: "point".len().max(last.to_string().len()),
            setting_widths: grid
                .axes
                .iter()
                .map(|a| {
                    a.values
                        .iter()
                        .map(|v| v.chars().count())
                        .chain([a.path.chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect(),
            heads: grid.axes.iter().map(|a| a.path.clone()).collect(),
        }
    }

    /// The cells of one line, padded, without its newline.
    fn cells(&self, point: &str, settings: &[&str], numbers: &[String]) -> String {
        let mut s = format!("{point:>w$}", w = self.point_width);
        for (v, w) in settings.iter().zip(&self.setting_widths) {
            s.push_str(&format!("  {v:<w$}"));
        }
        for (n, (head, min)) in numbers.iter().zip(NUMBER_COLUMNS) {
            s.push_str(&format!("  {n:>w$}", w = head.len().max(min)));
        }
        s
    }

    fn line(&self, point: &str, settings: &[&str], numbers: &[String]) -> String {
        format!("{}\n", self.cells(point, settings, numbers).trim_end())
    }

    fn head(&self) -> String {
        let settings: Vec<&str> = self.heads.iter().map(String::as_str).collect();
        let numbers: Vec<String> = NUMBER_COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
        self.line("point", &settings, &numbers)
    }

    fn row(
        &self,
        index: usize,
        settings: &[(&str, &str)],
        result: &Result<Summary, RunError>,
    ) -> String {
        let values: Vec<&str> = settings.iter().map(|(_, v)| *v).collect();
        match result {
            Ok(r) => {
                let numbers = [
                    thousands(r.records.written),
                    thousands(r.records.delivered),
                    thousands(r.records.lost),
                    thousands(r.records.duplicates),
                    human_ms(r.iterator_age_ms.p50),
                    human_ms(r.iterator_age_ms.p99),
                    human_ms(r.iterator_age_ms.max),
                    human_ms(r.latency_ms.p99),
                    thousands(r.invocations.total),
                    thousands(r.invocations.errors),
                    thousands(r.invocations.throttles),
                    thousands(u64::from(r.concurrency.max)),
                    dollars(r.cost_usd.total),
                ];
                self.line(&index.to_string(), &values, &numbers)
            }
            // The message starts where the numbers would.
            Err(e) => format!(
                "{}  did not finish: {e}\n",
                self.cells(&index.to_string(), &values, &[])
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(sets: &[&str]) -> Grid {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Grid::new(&sets).unwrap()
    }

    #[test]
    fn the_last_set_varies_fastest() {
        let g = grid(&["a=1,2", "b=x,y,z"]);
        assert_eq!(g.points, 6);
        let points: Vec<Vec<(&str, &str)>> = (0..g.points).map(|i| g.point(i)).collect();
        assert_eq!(points[0], [("a", "1"), ("b", "x")]);
        assert_eq!(points[1], [("a", "1"), ("b", "y")]);
        assert_eq!(points[3], [("a", "2"), ("b", "x")]);
        assert_eq!(points[5], [("a", "2"), ("b", "z")]);
    }

    #[test]
    fn values_split_at_top_level_commas_only() {
        assert_eq!(split_values("10,100, 1000"), ["10", "100", " 1000"]);
        assert_eq!(
            split_values("[],[ReportBatchItemFailures],{a: 1, b: [2, 3]}"),
            ["[]", "[ReportBatchItemFailures]", "{a: 1, b: [2, 3]}"]
        );
        assert_eq!(
            split_values(r#""a,b",'c,d',"e\",f""#),
            [r#""a,b""#, "'c,d'", r#""e\",f""#]
        );
    }

    #[test]
    fn bad_sets_are_usage_errors() {
        for bad in ["BatchSize", "=1,2", "a=1,,2", "a="] {
            let e = Grid::new(&[bad.to_string()]).err().unwrap();
            assert!(matches!(e, CliError::Usage(_)), "{bad}: {e}");
            assert!(e.to_string().starts_with(&format!("--set {bad}:")), "{e}");
        }
        let twice = Grid::new(&["a=1".into(), "a=2".into()]).err().unwrap();
        assert!(twice.to_string().contains("given twice"), "{twice}");
        let huge = vec!["a=1,2,3,4,5,6,7,8,9,10".to_string(); 1]
            .into_iter()
            .chain((0..5).map(|i| format!("k{i}=1,2,3,4,5,6,7,8,9,10")))
            .collect::<Vec<_>>();
        assert!(matches!(Grid::new(&huge), Err(CliError::Usage(_))));
    }

    #[test]
    fn partitions_are_contiguous_and_cover_the_grid_once() {
        for total in [0, 1, 5, 7, 12] {
            for count in 1..=8 {
                let ranges: Vec<Range<usize>> = (1..=count)
                    .map(|index| Partition { index, count }.range(total))
                    .collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[count - 1].end, total);
                for w in ranges.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                }
                let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
                let (min, max) = (sizes.iter().min(), sizes.iter().max());
                assert!(
                    max.unwrap() - min.unwrap() <= 1,
                    "{total} {count} {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn partition_must_be_i_of_n() {
        assert_eq!(parse_partition("2/4"), Ok(Partition { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "1/2/3"] {
            assert!(parse_partition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_setting_is_placed_at_its_set() {
        let d = Diagnostic {
            file: "builtin:steady".into(),
            line: 30,
            col: 3,
            path: "event_source_mapping.BatchSize".into(),
            message: "0 is out of range".into(),
            allowed: None,
        };
        let placed = at_setting(d.clone(), &[("event_source_mapping.BatchSize", "0")]);
        assert_eq!(placed.file, "--set event_source_mapping.BatchSize=0");
        assert_eq!((placed.line, placed.col), (1, 1));
        let unknown = Diagnostic {
            path: "nonsense".into(),
            ..d.clone()
        };
        let placed = at_setting(unknown, &[("nonsense.key", "1")]);
        assert_eq!(placed.file, "--set nonsense.key=1");
        // A problem elsewhere in the file stays where it is.
        let other = at_setting(d.clone(), &[("event_source_mapping.Batch", "0")]);
        assert_eq!(other, d);
    }
}
