//! `kinesim compare` and `kinesim sweep` as users and scripts see them (design.md §5):
//! the compare table and its JSON shape; the sweep grid's order and size, its output
//! whatever the thread count (I-5), partitions that add up to the whole, and bad
//! settings caught before anything runs. Every test runs the built binary on short runs.

use serde_json::Value as Json;

use crate::binary::{assert_exit, run, stderr, stdout};

/// A sweep of the `steady` built-in, 2 simulated minutes a point, with extra arguments.
fn sweep(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "steady", "--duration", "2m"];
    args.extend_from_slice(extra);
    run(&args)
}

/// Each line of `text` as JSON.
fn json_lines(text: &str) -> Vec<Json> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

const GRID: [&str; 4] = [
    "--set",
    "event_source_mapping.BatchSize=10,100,1000",
    "--set",
    "stream.shards=1,2",
];

#[test]
fn sweep_grid_is_the_product_of_the_sets_the_last_varying_fastest() {
    let o = sweep(&[&GRID[..], &["--format", "jsonl"]].concat());
    assert_exit(&o, 0);
    let lines = json_lines(&stdout(&o));
    assert_eq!(lines.len(), 6);
    let settings: Vec<(u64, u64)> = lines
        .iter()
        .map(|l| {
            let s = &l["settings"];
            (
                s["event_source_mapping.BatchSize"].as_u64().unwrap(),
                s["stream.shards"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        settings,
        [(10, 1), (10, 2), (100, 1), (100, 2), (1000, 1), (1000, 2)]
    );
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["point"], i);
        assert_eq!(l["scenario"], "steady");
        assert!(l["variant"].is_null());
    }
    // The settings were applied: bigger batches, fewer invocations for the same records.
    let invocations = |i: usize| lines[i]["invocations"]["total"].as_u64().unwrap();
    assert!(invocations(0) > invocations(2), "{lines:?}");
    assert!(invocations(2) > invocations(4), "{lines:?}");
}

#[test]
fn sweep_output_is_the_same_bytes_on_one_thread_or_four() {
    for format in ["jsonl", "table"] {
        let one = sweep(&[&GRID[..], &["--format", format, "--threads", "1"]].concat());
        let four = sweep(&[&GRID[..], &["--format", format, "--threads", "4"]].concat());
        assert_exit(&one, 0);
        assert_exit(&four, 0);
        assert!(stdout(&one).lines().count() >= 6, "{}", stdout(&one));
        assert_eq!(stdout(&one), stdout(&four), "--format {format}");
    }
}

#[test]
fn sweep_partitions_concatenate_to_the_whole_sweep() {
    // 5 points in 3 slices: the slices cannot all be the same size.
    let grid = ["--set", "event_source_mapping.BatchSize=10,50,100,500,1000"];
    for format in ["jsonl", "table"] {
        let whole = sweep(&[&grid[..], &["--format", format]].concat());
        assert_exit(&whole, 0);
        let mut joined = String::new();
        for slice in ["1/3", "2/3", "3/3"] {
            let o = sweep(&[&grid[..], &["--format", format, "--partition", slice]].concat());
            assert_exit(&o, 0);
            joined.push_str(&stdout(&o));
        }
        assert_eq!(joined, stdout(&whole), "--format {format}");
    }
    let table = stdout(&sweep(&grid));
    assert_eq!(table.lines().count(), 1 + 5, "{table}");
    assert!(table.starts_with("point  event_source_mapping.BatchSize"));
    // A later slice has no head, only its rows.
    let last = stdout(&sweep(&[&grid[..], &["--partition", "3/3"]].concat()));
    assert!(!last.contains("point"), "{last}");
    assert_eq!(last.lines().count(), 2, "{last}");
}

#[test]
fn sweep_partition_must_be_a_slice_of_the_grid() {
    for bad in ["0/3", "4/3", "1/0", "half"] {
        let o = sweep(&[
            "--set",
            "event_source_mapping.BatchSize=10",
            "--partition",
            bad,
        ]);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("--partition"), "{bad}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn sweep_bad_value_exits_2_at_its_set_before_anything_runs() {
    let o = sweep(&[
        "--set",
        "event_source_mapping.BatchSize=100,0",
        "--format",
        "jsonl",
    ]);
    assert_exit(&o, 2);
    assert!(stdout(&o).is_empty(), "nothing ran: {}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "--set event_source_mapping.BatchSize=0:1:1: event_source_mapping.BatchSize: 0 is out of range"
        ),
        "{err}"
    );
    // A malformed --set is a usage error too.
    let o = sweep(&["--set", "event_source_mapping.BatchSize"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--set event_source_mapping.BatchSize: no `=`"));
}

#[test]
fn sweep_prints_every_point_and_exits_3_when_one_hits_a_run_limit() {
    let o = sweep(&[
        "--set",
        "simulation.max_events=100,100000000",
        "--format",
        "jsonl",
    ]);
    assert_exit(&o, 3);
    let lines = json_lines(&stdout(&o));
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["error"].as_str().unwrap().contains("event limit"));
    assert!(lines[1]["records"]["written"].as_u64().unwrap() > 0);
    assert!(stderr(&o).contains("point 0 (simulation.max_events=100)"));
}

#[test]
fn compare_json_is_the_base_and_each_variant_by_name() {
    let o = run(&["compare", "duplicates", "--format", "json"]);
    assert_exit(&o, 0);
    let doc: Json = serde_json::from_str(&stdout(&o)).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["base", "variants"]);
    assert!(doc["base"]["variant"].is_null());
    let variants = doc["variants"].as_object().unwrap();
    assert_eq!(variants.keys().collect::<Vec<_>>(), ["report-failures"]);
    // Each is the run's own summary: the numbers the scenario's expect lines state.
    assert_eq!(doc["base"]["records"]["duplicates"], 225);
    assert_eq!(variants["report-failures"]["variant"], "report-failures");
    assert_eq!(variants["report-failures"]["records"]["duplicates"], 72);
}

#[test]
fn compare_text_has_a_column_per_run_in_file_order_and_marks_the_best() {
    let o = run(&[
        "compare",
        "more-shards-smaller-blast-radius",
        "--duration",
        "15m",
    ]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let head = lines.iter().find(|l| l.trim_start().starts_with("base"));
    let head: Vec<&str> = head.expect("a head line").split_whitespace().collect();
    assert_eq!(head, ["base", "eight-shards", "fix"]);
    // Every value row has one value per run.
    let shards = lines
        .iter()
        .find(|l| l.contains("shards that existed"))
        .unwrap();
    let values: Vec<&str> = shards.split_whitespace().skip(3).collect();
    assert_eq!(values, ["2", "8", "2"], "{shards}");
    // The fix drops the poison record: its iterator age stays low, and is marked.
    let ages = lines.iter().position(|l| *l == "Iterator age").unwrap();
    let max = lines[ages + 3];
    assert!(
        max.trim_start().starts_with("max") && max.ends_with('*'),
        "{max}"
    );
    assert_eq!(max.matches('*').count(), 1, "{max}");
}

#[test]
fn compare_without_variants_shows_the_base_and_says_so() {
    let o = run(&[
        "compare",
        "steady",
        "--duration",
        "10m",
        "--format",
        "markdown",
    ]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("has no variants"), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("\n| | base |\n"), "{text}");
    assert!(!text.contains("**Bold**"), "one run has no best: {text}");
}
