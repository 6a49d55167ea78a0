//! The command line as users and scripts see it (design.md §5): exit codes, messages,
//! output formats, the trace file's all-or-nothing writing, determinism (I-5) and a
//! closed stdout. Every test runs the built binary; runs are shortened with `--duration`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use crate::binary::{assert_exit, dir_entries, kinesim, run, stderr, stdout};

/// A small valid scenario with two variants; `extra` is appended at the top level.
fn scenario_text(extra: &str) -> String {
    format!(
        "name: tiny
duration: 10m
stream: {{shards: 2}}
producers:
  - rate: 50/s
event_source_mapping:
  StartingPosition: TRIM_HORIZON
variants:
  - name: small-batches
    event_source_mapping: {{BatchSize: 10}}
  - name: four-shards
    stream: {{shards: 4}}
{extra}"
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A `file:line:col:` prefix on some line of `text` for `file`.
fn has_position(text: &str, file: &str) -> bool {
    text.lines().any(|l| {
        let Some(i) = l.find(file) else { return false };
        let mut parts = l[i + file.len()..].splitn(4, ':');
        parts.next() == Some("")
            && parts
                .next()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && parts.next().is_some()
    })
}

// ---- exit code 2: invalid scenario or usage --------------------------------------------

#[test]
fn missing_file_exits_2_and_names_it() {
    let o = run(&["run", "no/such/scenario.yaml"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("no/such/scenario.yaml"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn a_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["run", dir.path().to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));
}

#[test]
fn invalid_scenario_exits_2_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("").replace(
        "StartingPosition: TRIM_HORIZON",
        "StartingPosition: TRIM_HORIZON\n  BatchSize: 20000",
    );
    let file = write(dir.path(), "bad.yaml", &text);
    for cmd in ["run", "validate"] {
        let o = run(&[cmd, &file]);
        assert_exit(&o, 2);
        let err = stderr(&o);
        assert!(
            has_position(&err, &file),
            "{cmd}: no file:line:col in {err}"
        );
        assert!(err.contains("BatchSize"), "{cmd}: {err}");
        assert!(o.stdout.is_empty(), "{cmd}: {}", stdout(&o));
    }
}

#[test]
fn unknown_variant_exits_2_listing_the_variants() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.yaml", &scenario_text(""));
    let o = run(&["run", &file, "--variant", "nope"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("nope") && err.contains("small-batches") && err.contains("four-shards"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["run", "steady", "--format", "xml"][..],
        &["run", "steady", "--duration", "0s"],
        &["run", "steady", "--duration", "ten minutes"],
        &["run", "steady", "--seed", "-1"],
        &["run"],
        &["validate"],
        &["frobnicate"],
    ] {
        let o = run(args);
        assert_exit(&o, 2);
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn unknown_builtin_exits_2_listing_the_library() {
    let o = run(&["scenarios", "no-such-scenario"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("poison-pill"), "{}", stderr(&o));
}

// ---- validate and scenarios ------------------------------------------------------------

#[test]
fn validate_accepts_every_builtin() {
    let names: Vec<&str> = kinesim::scenario::builtin::all()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut args = vec!["validate"];
    args.extend(&names);
    let o = run(&args);
    assert_exit(&o, 0);
    let out = stdout(&o);
    for name in &names {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("ok: {name} ("))),
            "{name} missing in {out}"
        );
    }
}

#[test]
fn validate_reports_each_bad_file_and_still_checks_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", &scenario_text(""));
    let bad = write(
        dir.path(),
        "bad.yaml",
        &scenario_text("").replace("rate: 50/s", "rate: fast"),
    );
    let o = run(&["validate", &bad, &good, "no-such.yaml"]);
    assert_exit(&o, 2);
    assert_eq!(stdout(&o), "ok: tiny (2 variants)\n");
    let err = stderr(&o);
    assert!(has_position(&err, &bad), "{err}");
    assert!(err.contains("no-such.yaml"), "{err}");
}

#[test]
fn validate_checks_the_variants_too() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("").replace("{BatchSize: 10}", "{BatchSize: 0}");
    let file = write(dir.path(), "bad-variant.yaml", &text);
    let o = run(&["validate", &file]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("BatchSize"), "{}", stderr(&o));
}

#[test]
fn scenarios_lists_the_library_aligned() {
    let o = run(&["scenarios"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let all = kinesim::scenario::builtin::all();
    // Topic headers start at column 0, scenario rows are indented, groups are separated
    // by an empty line.
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("  ")).collect();
    let headers: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .collect();
    assert_eq!(rows.len(), all.len(), "{out}");
    assert_eq!(
        headers,
        kinesim::scenario::builtin::TOPICS
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>(),
        "{out}"
    );
    // Names have no spaces: the description starts after the name and its padding.
    let columns: Vec<usize> = rows
        .iter()
        .map(|l| {
            let l = l.trim_start();
            l.len() - l.split_once(' ').unwrap().1.trim_start().len()
        })
        .collect();
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "descriptions not aligned:\n{out}"
    );
    for (name, _) in &all {
        let n = rows
            .iter()
            .filter(|l| l.split_whitespace().next() == Some(name))
            .count();
        assert_eq!(n, 1, "{name} listed {n} times:\n{out}");
    }
}

#[test]
fn scenarios_name_prints_the_yaml() {
    let o = run(&["scenarios", "poison-pill"]);
    assert_exit(&o, 0);
    let text = kinesim::scenario::builtin::get("poison-pill").unwrap();
    assert_eq!(stdout(&o).trim_end(), text.trim_end());
}

// ---- run: formats and overrides --------------------------------------------------------

/// The top-level keys of design.md §6.1, in order.
const SUMMARY_KEYS: [&str; 18] = [
    "run",
    "scenario",
    "variant",
    "seed",
    "simulated_ms",
    "assumptions",
    "records",
    "invocations",
    "iterator_age_ms",
    "checkpoint_lag_ms",
    "latency_ms",
    "batch_records",
    "concurrency",
    "destination",
    "reads",
    "actions",
    "cost_usd",
    "shards",
];

fn json_summary(args: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let o = run(args);
    assert_exit(&o, 0);
    match serde_json::from_slice(&o.stdout).expect("stdout is one JSON document") {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn json_summary_has_every_documented_key_in_order() {
    let m = json_summary(&["run", "steady", "--format", "json", "--duration", "10m"]);
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(keys, SUMMARY_KEYS);
    assert_eq!(m["scenario"], "steady");
    assert_eq!(m["variant"], serde_json::Value::Null);
    assert_eq!(m["simulated_ms"], 600_000);
}

#[test]
fn seed_duration_and_variant_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.yaml", &scenario_text(""));
    let m = json_summary(&[
        "run",
        &file,
        "--format",
        "json",
        "--seed",
        "42",
        "--duration",
        "5m",
        "--variant",
        "four-shards",
    ]);
    assert_eq!(m["seed"], 42);
    assert_eq!(m["simulated_ms"], 300_000);
    assert_eq!(m["variant"], "four-shards");
    assert_eq!(m["shards"].as_array().unwrap().len(), 4);
}

#[test]
fn a_longer_duration_keeps_default_producers_writing() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.yaml", &scenario_text(""));
    // 50/s until the end: twice the duration, twice the records.
    let short = json_summary(&["run", &file, "--format", "json"]);
    let long = json_summary(&["run", &file, "--format", "json", "--duration", "20m"]);
    assert_eq!(short["records"]["written"], 30_000);
    assert_eq!(long["records"]["written"], 60_000);
}

#[test]
fn text_summary_is_plain_when_piped_and_shows_the_essentials() {
    let o = kinesim()
        .env_remove("NO_COLOR")
        .args(["run", "poison-pill", "--duration", "30m"])
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(!out.contains('\x1b'), "colour escapes in piped output");
    for needle in [
        "poison-pill",
        "seed 7",
        "written",
        "delivered",
        "lost",
        "iterator age",
        "shardId-000000000000",
        "Cost",
        "Check",
        "Assumptions",
    ] {
        assert!(out.contains(needle), "`{needle}` missing in\n{out}");
    }
    let blocked = out
        .lines()
        .find(|l| l.contains("shardId-000000000000"))
        .unwrap();
    assert!(
        blocked.contains("blocked"),
        "the poisoned shard does not stand out: {blocked}"
    );
}

#[test]
fn markdown_summary_has_tables() {
    let o = run(&["run", "steady", "--format", "markdown", "--duration", "10m"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("# "), "{out}");
    assert!(out.contains("| shard |") && out.contains("|---|"), "{out}");
}

// ---- run: the trace ----------------------------------------------------------------------

#[test]
fn trace_is_json_lines_with_time_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let o = run(&[
        "run",
        "poison-pill",
        "--duration",
        "15m",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    assert_eq!(
        dir_entries(dir.path()),
        ["trace.jsonl"],
        "temporary files left behind"
    );
    let text = fs::read_to_string(&trace).unwrap();
    assert!(text.ends_with('\n'));
    let mut kinds = std::collections::BTreeSet::new();
    let mut last_t = 0;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let t = v["t_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("no t_ms: {line}"));
        kinds.insert(
            v["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("no kind: {line}"))
                .to_string(),
        );
        assert!(t >= last_t, "trace not in time order at {line}");
        last_t = t;
    }
    assert!(kinds.contains("invoke"), "{kinds:?}");
}

#[test]
fn trace_is_absent_when_the_arguments_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let o = run(&[
        "run",
        "steady",
        "--duration",
        "0s",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_exit(&o, 2);
    assert!(dir_entries(dir.path()).is_empty());
}

#[test]
fn trace_is_all_or_nothing_when_the_run_hits_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "limited.yaml",
        &scenario_text("simulation: {max_events: 100}\n"),
    );
    let trace = dir.path().join("trace.jsonl");
    let o = run(&["run", &file, "--trace", trace.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("limit"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "a summary was printed: {}", stdout(&o));
    assert_eq!(
        dir_entries(dir.path()),
        ["limited.yaml"],
        "a trace or a temporary file was left"
    );

    // An existing trace is left as it was.
    fs::write(&trace, "earlier run\n").unwrap();
    let o = run(&["run", &file, "--trace", trace.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert_eq!(fs::read_to_string(&trace).unwrap(), "earlier run\n");
    assert_eq!(dir_entries(dir.path()), ["limited.yaml", "trace.jsonl"]);
}

#[test]
fn a_report_whose_time_series_would_not_fit_exits_3_before_running() {
    // 1,000 shards sampled every second for a day: 86.4 million rows, over the 20 million
    // a run keeps.
    let dir = tempfile::tempdir().unwrap();
    let text = "name: rows
duration: 24h
stream: {shards: 1000}
producers: [{rate: 10/s}]
simulation: {sample_every: 1s}
event_source_mapping: {StartingPosition: TRIM_HORIZON}
";
    let file = write(dir.path(), "rows.yaml", text);
    let report = dir.path().join("report");
    let o = run(&["run", &file, "--report", report.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert!(
        stderr(&o).contains("86400000 rows")
            && stderr(&o).contains("raise simulation.sample_every"),
        "{}",
        stderr(&o)
    );
    assert_eq!(dir_entries(dir.path()), ["rows.yaml"], "a report was left");
}

#[test]
fn a_report_whose_stream_grows_past_the_time_series_limit_exits_3() {
    // Two ON_DEMAND shards pass 20 million rows only once they split: the check before
    // the run lets them start, and a later sample stops the run before the rows do (the
    // event limit, far off, stops a run that would go on regardless).
    let dir = tempfile::tempdir().unwrap();
    let text = "name: growing
duration: 24h
stream: {shards: 2, mode: ON_DEMAND}
producers: [{rate: 200000/s, partition_keys: 100000}]
function: {duration: {base: 10ms}}
simulation: {sample_every: 1s, on_demand_split_after: 0s, max_events: 2000000}
event_source_mapping: {StartingPosition: TRIM_HORIZON, BatchSize: 1000}
";
    let file = write(dir.path(), "growing.yaml", text);
    let report = dir.path().join("report");
    let o = run(&["run", &file, "--report", report.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert!(
        stderr(&o).contains("rows (one per shard") && stderr(&o).contains("20000000"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        dir_entries(dir.path()),
        ["growing.yaml"],
        "a report was left"
    );
    // The same stream for a minute, before it splits, keeps its rows.
    let o = run(&[
        "run",
        &file,
        "--duration",
        "30s",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
}

#[test]
fn trace_into_a_missing_directory_exits_2_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("no-such-dir").join("trace.jsonl");
    let o = run(&[
        "run",
        "steady",
        "--duration",
        "1m",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--trace"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

// ---- determinism (I-5) -------------------------------------------------------------------

#[test]
fn i_5_json_summary_is_byte_identical_across_runs() {
    let args = ["run", "poison-pill", "--format", "json", "--duration", "2h"];
    let a = run(&args);
    let b = run(&args);
    assert_exit(&a, 0);
    assert_exit(&b, 0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn i_5_trace_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let traces = ["a.jsonl", "b.jsonl"].map(|n| dir.path().join(n));
    for t in &traces {
        let o = run(&[
            "run",
            "poison-pill",
            "--duration",
            "1h",
            "--trace",
            t.to_str().unwrap(),
        ]);
        assert_exit(&o, 0);
    }
    let [a, b] = traces.map(|t| fs::read(t).unwrap());
    assert!(!a.is_empty());
    assert!(a == b, "traces differ");
}

// ---- a closed stdout ---------------------------------------------------------------------

#[test]
fn a_closed_pipe_is_a_success_without_a_panic() {
    // The reader goes away before the summary is written: the write fails with EPIPE.
    let mut child = kinesim()
        .args(["run", "poison-pill", "--duration", "1h"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    // `kinesim run steady | head -1`: the reader takes one line and leaves.
    let mut child = kinesim()
        .args(["run", "steady", "--duration", "10m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("steady"), "{first}");
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn the_text_summary_says_when_a_resharding_completed_and_why_one_was_refused() {
    let o = run(&["run", "scale-out-by-resharding", "--duration", "75m"]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains("update_shard_count 4  done at 1h1m0s"),
        "R-RESHARD-4: two 30 s splits after the request at 1h:\n{text}"
    );
    assert!(
        text.contains("update_shard_count 5  rejected: LimitExceededException"),
        "{text}"
    );
}
