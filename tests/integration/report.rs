//! `kinesim run --report DIR` and the text summary's timeline: the files a report holds,
//! that they agree with the other outputs, that the page needs nothing from the network,
//! that they are written all or nothing and byte for byte the same twice (I-5).

use std::fs;
use std::path::Path;

use crate::binary::{assert_exit, dir_entries as entries, run, stderr, stdout};

/// The files of every report, sorted.
const FILES: [&str; 10] = [
    "concurrency.svg",
    "errors.svg",
    "iterator-age.svg",
    "pending.svg",
    "report.html",
    "report.md",
    "summary.json",
    "throughput.svg",
    "timeline.svg",
    "timeseries.csv",
];

/// Runs `args` with `--report DIR` and expects success.
fn report(dir: &Path, args: &[&str]) {
    let mut all = args.to_vec();
    all.extend(["--report", dir.to_str().unwrap()]);
    let o = run(&all);
    assert_exit(&o, 0);
}

const POISON_2H: [&str; 4] = ["run", "poison-pill", "--duration", "2h"];

#[test]
fn a_report_is_its_files_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, &POISON_2H);
    assert_eq!(entries(tmp.path()), ["r"], "a temporary directory was left");
    assert_eq!(entries(&dir), FILES);
}

#[test]
fn summary_json_is_the_json_summary_and_the_csv_has_a_row_per_shard_per_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, &POISON_2H);
    let o = run(&[POISON_2H.as_slice(), &["--format", "json"]].concat());
    assert_exit(&o, 0);
    assert_eq!(fs::read(dir.join("summary.json")).unwrap(), o.stdout);

    let csv = fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(kinesim::observe::timeseries::CSV_HEADER));
    // 4 shards, a sample a minute for 2 hours.
    assert_eq!(lines.clone().count(), 4 * 120);
    assert!(lines.all(|l| l.split(',').count() == 14), "{csv}");
}

/// Every tag of `html` (its attributes included), without the text between tags.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .filter_map(|s| s.split_once('>').map(|(tag, _)| tag))
        .collect()
}

#[test]
fn the_page_is_self_contained_with_a_chart_per_figure_and_a_row_per_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    // A resharding run: children must get rows too.
    report(&dir, &["run", "blocked-parent", "--duration", "3h"]);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for tag in tags(&html) {
        let lower = tag.to_ascii_lowercase();
        for bad in [
            "http:", "https:", "src=", "href=", "url(", "script", "link ",
        ] {
            assert!(!lower.contains(bad), "an external reference: <{tag}>");
        }
    }
    assert!(!html.contains("@import"));
    let svgs = html.matches("<svg").count();
    let figures = html.matches("<figure class=\"chart\"").count();
    assert_eq!(
        figures, 5,
        "iterator age, backlog, throughput, concurrency, failures"
    );
    assert_eq!(svgs, figures + 1, "a chart per figure, and the timeline");
    for axis in ["simulated time", "retention", "records/s"] {
        assert!(html.contains(axis), "`{axis}` missing");
    }

    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let shards = summary["shards"].as_array().unwrap();
    assert!(
        shards.len() > 2,
        "blocked-parent reshards: {}",
        shards.len()
    );
    assert_eq!(html.matches("class=\"timeline-row\"").count(), shards.len());
    for sh in shards {
        let id = sh["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("data-shard=\"{id}\"")),
            "no timeline row for {id}"
        );
    }
    assert!(html.contains("class=\"reshard\""), "no reshard marker");

    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("## Timeline") && md.contains("(iterator-age.svg)"),
        "{md}"
    );
    let svg = fs::read_to_string(dir.join("iterator-age.svg")).unwrap();
    assert!(
        svg.starts_with("<svg xmlns="),
        "a standalone SVG needs its namespace"
    );
}

#[test]
fn i_5_a_report_is_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    report(&a, &POISON_2H);
    report(&b, &POISON_2H);
    for f in FILES {
        let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two runs");
    }
}

#[test]
fn a_failing_run_leaves_no_report_and_an_earlier_one_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("limited.yaml");
    fs::write(
        &file,
        "name: limited\nduration: 10m\nstream: {shards: 2}\nproducers:\n  - rate: 50/s\n\
         event_source_mapping: {StartingPosition: TRIM_HORIZON}\nsimulation: {max_events: 100}\n",
    )
    .unwrap();
    let dir = tmp.path().join("r");
    let args = [
        "run",
        file.to_str().unwrap(),
        "--report",
        dir.to_str().unwrap(),
    ];
    let o = run(&args);
    assert_exit(&o, 3);
    assert_eq!(entries(tmp.path()), ["limited.yaml"], "something was left");

    // An earlier report is neither touched by a failing run nor kept by a good one.
    report(&dir, &POISON_2H);
    let before = fs::read(dir.join("report.html")).unwrap();
    assert_exit(&run(&args), 3);
    assert_eq!(fs::read(dir.join("report.html")).unwrap(), before);
    assert_eq!(entries(tmp.path()), ["limited.yaml", "r"]);
    report(&dir, &["run", "poison-pill", "--duration", "1h"]);
    assert_ne!(fs::read(dir.join("report.html")).unwrap(), before);
    assert_eq!(entries(tmp.path()), ["limited.yaml", "r"]);
    assert_eq!(entries(&dir), FILES);
}

#[test]
fn a_directory_with_other_files_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "keep me").unwrap();
    let o = run(&[POISON_2H.as_slice(), &["--report", dir.to_str().unwrap()]].concat());
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--report") && stderr(&o).contains("notes.txt"));
    assert_eq!(entries(&dir), ["notes.txt"]);
    assert_eq!(entries(tmp.path()), ["mine"]);
}

#[test]
fn the_text_summary_ends_with_a_timeline_showing_the_poisoned_shard_failing() {
    let o = run(&["run", "poison-pill"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let timeline = &out[out.rfind("\nTimeline\n").expect("no timeline")..];
    let row = |id: &str| -> &str {
        timeline
            .lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id} in\n{timeline}"))
    };
    let failing = |l: &str| l.chars().filter(|&c| c == '█').count();
    let blocked = row("shardId-000000000000");
    // Blocked for 24 of the 26 hours: most of the row's 60 columns.
    assert!(failing(blocked) >= 50, "{blocked}");
    assert!(blocked.contains("lost"), "{blocked}");
    for healthy in [
        "shardId-000000000001",
        "shardId-000000000002",
        "shardId-000000000003",
    ] {
        let l = row(healthy);
        assert_eq!(failing(l), 0, "{l}");
        assert!(l.matches('─').count() >= 55, "{l}");
    }
    assert!(timeline.contains("█ failing"), "no legend:\n{timeline}");
}

/// `compare --report`: the base and every variant of a built-in, 10 minutes each.
const COMPARE: [&str; 4] = ["compare", "shards-vs-parallelization", "--duration", "10m"];
const RUNS: [&str; 4] = ["base", "four-shards", "parallelization-2", "both"];

#[test]
fn a_compare_report_has_every_run_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, &COMPARE);
    assert_eq!(entries(tmp.path()), ["r"], "a temporary directory was left");
    let mut expected: Vec<String> = ["report.html", "report.md", "summary.json", "timeseries.csv"]
        .map(String::from)
        .into();
    for run in RUNS {
        for f in FILES.iter().filter(|f| f.ends_with(".svg")) {
            expected.push(format!("{run}-{f}"));
        }
    }
    expected.sort();
    assert_eq!(entries(&dir), expected);

    let o = run(&[COMPARE.as_slice(), &["--format", "json"]].concat());
    assert_exit(&o, 0);
    assert_eq!(fs::read(dir.join("summary.json")).unwrap(), o.stdout);

    let csv = fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    let header = format!("run,{}", kinesim::observe::timeseries::CSV_HEADER);
    assert_eq!(lines.next(), Some(header.as_str()));
    // 2 shards (4 with four-shards or both), a sample a minute for 10 minutes.
    for (name, shards) in RUNS.iter().zip([2, 4, 2, 4]) {
        let rows = lines.clone().filter(|l| l.split(',').next() == Some(name));
        assert_eq!(rows.count(), shards * 10, "{name}");
    }
    assert!(lines.all(|l| l.split(',').count() == 15), "{csv}");

    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    for tag in tags(&html) {
        let lower = tag.to_ascii_lowercase();
        for bad in [
            "http:", "https:", "src=", "href=", "url(", "script", "link ",
        ] {
            assert!(!lower.contains(bad), "external reference: <{tag}>");
        }
    }
    // A timeline per run, and each of the 5 charts once per run.
    assert_eq!(
        html.matches("Shard timeline (what").count(),
        RUNS.len(),
        "{html}"
    );
    assert_eq!(
        html.matches("<figure class=\"chart\">").count(),
        5 * RUNS.len()
    );
    for run in RUNS {
        assert!(html.contains(&format!("<h3>{run}</h3>")), "{run}");
    }
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("](both-iterator-age.svg)"), "{md}");
}

#[test]
fn i_5_a_compare_report_is_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    report(&a, &COMPARE);
    report(&b, &COMPARE);
    let files = entries(&a);
    assert_eq!(entries(&b), files);
    for f in files {
        assert!(
            fs::read(a.join(&f)).unwrap() == fs::read(b.join(&f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn a_compare_with_a_failing_run_leaves_no_report() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("limited.yaml");
    // The base finishes; the variant hits its event limit.
    fs::write(
        &file,
        "name: limited\nduration: 10m\nstream: {shards: 2}\nproducers:\n  - rate: 50/s\n\
         event_source_mapping: {StartingPosition: TRIM_HORIZON}\n\
         variants:\n  - name: limited\n    simulation: {max_events: 100}\n",
    )
    .unwrap();
    let dir = tmp.path().join("r");
    let o = run(&[
        "compare",
        file.to_str().unwrap(),
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("variant limited"), "{}", stderr(&o));
    assert_eq!(entries(tmp.path()), ["limited.yaml"], "something was left");
}

#[test]
fn the_iterator_age_chart_follows_the_retention_through_set_retention() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("longer-retention.yaml");
    fs::write(
        &scenario,
        "name: longer-retention\nduration: 4h\nstream:\n  shards: 1\n  retention: 24h\n\
         producers:\n  - name: p\n    rate: 10/s\n\
         event_source_mapping:\n  StartingPosition: TRIM_HORIZON\n\
         actions:\n  - at: 1h\n    set_retention: 48h\n  - at: 3h\n    set_retention: 36h\n",
    )
    .unwrap();
    let dir = tmp.path().join("report");
    report(&dir, &["run", scenario.to_str().unwrap()]);
    let svg = fs::read_to_string(dir.join("iterator-age.svg")).unwrap();
    let limit_lines: Vec<&str> = svg
        .lines()
        .filter(|l| l.starts_with("<line") && l.contains("#d62728"))
        .collect();
    // Three levels (24 h, 48 h, 36 h) and the two steps between them.
    assert_eq!(limit_lines.len(), 5, "{limit_lines:#?}");
    let attr = |line: &str, name: &str| -> f64 {
        let from = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        line[from..].split('"').next().unwrap().parse().unwrap()
    };
    let levels: Vec<f64> = limit_lines
        .iter()
        .filter(|l| attr(l, "y1") == attr(l, "y2"))
        .map(|l| attr(l, "y1"))
        .collect();
    assert_eq!(levels.len(), 3);
    // Higher on the page is a longer retention: 48 h above 36 h above 24 h.
    assert!(levels[1] < levels[2] && levels[2] < levels[0], "{levels:?}");
    assert!(
        svg.contains("retention 36h0m0s"),
        "the label names the last retention"
    );
}
