//! `expect:` lines and `kinesim check` (design.md §4, §5): the expect language through
//! the library (`kinesim::check`), and the command through the built binary: its
//! output, JSON format, DIR arguments and exit codes 0/1/2/3.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use kinesim::check::{self, ExpectError, Op, Step, Unit, Value};
use serde_json::{Value as Json, json};

use crate::binary::{assert_exit, run, stderr, stdout};

/// A small scenario (10 simulated minutes, 2 shards, one variant with 4) with these
/// expect lines.
fn scenario_with(name: &str, expect: &[&str]) -> String {
    let mut s = format!(
        "name: {name}
duration: 10m
stream: {{shards: 2}}
producers:
  - rate: 50/s
event_source_mapping:
  StartingPosition: TRIM_HORIZON
variants:
  - name: four-shards
    stream: {{shards: 4}}
"
    );
    if !expect.is_empty() {
        s.push_str("expect:\n");
        for line in expect {
            s.push_str(&format!("  - {line}\n"));
        }
    }
    s
}

fn write(dir: &Path, file: &str, text: &str) -> String {
    let path = dir.join(file);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[track_caller]
fn parsed(line: &str) -> check::Expectation {
    check::parse(line).unwrap_or_else(|e| panic!("`{line}` should parse: {e}"))
}

#[track_caller]
fn parse_err(line: &str) -> ExpectError {
    match check::parse(line) {
        Ok(e) => panic!("`{line}` should not parse, got {e:?}"),
        Err(e) => e,
    }
}

// ---- the expect language --------------------------------------------------------

#[test]
fn every_operator_parses_and_compares() {
    let cases = [
        ("<", Op::Lt, [true, false, false]),
        ("<=", Op::Le, [true, true, false]),
        (">", Op::Gt, [false, false, true]),
        (">=", Op::Ge, [false, true, true]),
        ("==", Op::Eq, [false, true, false]),
        ("!=", Op::Ne, [true, false, true]),
    ];
    let doc = |n: u64| json!({"records": {"expired": n}});
    for (text, op, expected) in cases {
        let e = parsed(&format!("records.expired {text} 10"));
        assert_eq!(e.op, op);
        assert_eq!(e.op.symbol(), text);
        for (actual, want) in [9, 10, 11].into_iter().zip(expected) {
            let o = check::evaluate(&e, &doc(actual), &BTreeMap::new());
            assert_eq!(o.passed, want, "{actual} {text} 10");
            assert_eq!(o.error, None);
            assert_eq!(o.actual, Some(json!(actual)));
        }
    }
}

#[test]
fn the_parts_are_kept_as_written() {
    let e = parsed("  shards[0].iterator_age_ms.max >= 23h ");
    assert_eq!(e.text, "shards[0].iterator_age_ms.max >= 23h");
    assert_eq!(e.path.variant, None);
    assert_eq!(
        e.path.steps,
        vec![
            Step::Key("shards".into()),
            Step::Index(0),
            Step::Key("iterator_age_ms".into()),
            Step::Key("max".into()),
        ]
    );
    assert_eq!(e.path.to_string(), "shards[0].iterator_age_ms.max");
    assert_eq!(e.path.unit(), Some(Unit::Millis));
}

#[test]
fn numbers_are_plain_decimals() {
    for (text, x) in [
        ("0", 0.0),
        ("5000", 5000.0),
        ("0.25", 0.25),
        ("-1", -1.0),
        ("1e6", 1e6),
    ] {
        let e = parsed(&format!("cost_usd.total > {text}"));
        assert_eq!(e.value, Value::Number(x), "{text}");
        assert_eq!(e.value.as_f64(), x);
    }
    // Words Rust's float parser would take are not numbers.
    for text in ["inf", "NaN", "infinity"] {
        assert!(matches!(
            parse_err(&format!("cost_usd.total > {text}")),
            ExpectError::Value { .. }
        ));
    }
}

#[test]
fn durations_are_compared_in_milliseconds_on_ms_paths() {
    for (line, ms) in [
        ("iterator_age_ms.max >= 23h", 82_800_000.0),
        ("iterator_age_ms.max < 60s", 60_000.0),
        ("shards[1].latency_ms.p99 < 250ms", 250.0),
        ("simulated_ms == 1h30m", 5_400_000.0),
        ("shards[0].blocked_ms < 0.5ms", 0.5),
        ("actions[0].at_ms == 7d", 604_800_000.0),
    ] {
        let e = parsed(line);
        assert!(matches!(e.value, Value::Duration(_)), "{line}");
        assert_eq!(e.value.as_f64(), ms, "{line}");
    }
    // A bare number on a duration path is milliseconds.
    assert_eq!(
        parsed("iterator_age_ms.max < 5000").value,
        Value::Number(5000.0)
    );
}

#[test]
fn sizes_are_compared_in_bytes_on_bytes_paths() {
    for (line, bytes) in [
        ("batch_bytes.max <= 6MiB", 6 * 1024 * 1024),
        ("shards[0].payload_bytes < 1KiB", 1024),
        ("x.max_bytes == 1MB", 1_000_000),
        ("x_bytes > 512B", 512),
    ] {
        let e = parsed(line);
        assert_eq!(e.value, Value::Size(bytes), "{line}");
        assert_eq!(e.path.unit(), Some(Unit::Bytes));
        assert_eq!(e.value.as_f64(), bytes as f64);
    }
}

#[test]
fn a_unit_on_a_path_without_one_is_an_error() {
    let e = parse_err("records.expired > 5m");
    assert!(
        matches!(
            &e,
            ExpectError::UnitNotAllowed {
                kind: "duration",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("`5m`") && msg.contains("`records.expired`"),
        "{msg}"
    );
    assert!(msg.contains("_ms") && msg.contains("_bytes"), "{msg}");

    let e = parse_err("records.written >= 1KiB");
    assert!(
        matches!(&e, ExpectError::UnitNotAllowed { kind: "size", .. }),
        "{e:?}"
    );
}

#[test]
fn a_unit_of_the_other_kind_is_an_error() {
    let e = parse_err("shards[0].iterator_age_ms.max < 1MiB");
    assert!(
        matches!(e, ExpectError::WrongUnit { found: "size", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("milliseconds"), "{e}");

    let e = parse_err("batch_bytes.max < 10s");
    assert!(
        matches!(
            e,
            ExpectError::WrongUnit {
                found: "duration",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("bytes"), "{e}");
}

#[test]
fn a_value_that_is_nothing_known_is_an_error() {
    let e = parse_err("records.expired > lots");
    assert!(matches!(e, ExpectError::Value { .. }), "{e:?}");
    assert_eq!(e.to_string(), "`lots` is not a number");
    // On a duration path the message says why it is not a duration either.
    let e = parse_err("iterator_age_ms.max < 5parsecs");
    assert!(matches!(e, ExpectError::Value { .. }), "{e:?}");
    assert!(e.to_string().contains("duration"), "{e}");
}

#[test]
fn bad_operators_are_errors_naming_the_allowed_ones() {
    for (op, hint) in [
        ("=", Some("==")),
        ("=>", Some(">=")),
        ("=<", Some("<=")),
        ("<>", Some("!=")),
        ("===", None),
        ("~", None),
        ("gt", None),
    ] {
        let e = parse_err(&format!("records.expired {op} 0"));
        assert!(matches!(e, ExpectError::Operator { .. }), "{op}: {e:?}");
        let msg = e.to_string();
        assert!(msg.contains("< <= > >= == !="), "{msg}");
        if let Some(h) = hint {
            assert!(msg.contains(&format!("did you mean `{h}`")), "{msg}");
        }
        assert_eq!(e.column(), 17, "{op}");
    }
}

#[test]
fn lines_that_are_not_three_parts_are_errors() {
    let e = parse_err("records.expired>0");
    assert!(matches!(e, ExpectError::Shape { .. }), "{e:?}");
    assert!(e.to_string().contains("spaces around the operator"), "{e}");
    let e = parse_err("iterator_age_ms.max >= 23 h");
    assert!(e.to_string().contains("`23h`"), "{e}");
    for line in ["", "records.expired", "records.expired >"] {
        assert!(
            matches!(parse_err(line), ExpectError::Shape { .. }),
            "`{line}`"
        );
    }
}

#[test]
fn malformed_paths_are_errors() {
    for (line, col) in [
        ("records..expired > 0", 9),
        (".records > 0", 1),
        ("records. > 0", 9),
        ("shards[0 > 0", 7),
        ("shards[] > 0", 7),
        ("[0].records > 0", 1),
        ("records.expired! > 0", 16),
        ("variants.fix > 0", 1),
        ("variants > 0", 1),
    ] {
        let e = parse_err(line);
        assert!(matches!(e, ExpectError::Path { .. }), "`{line}`: {e:?}");
        assert_eq!(e.column(), col, "`{line}`: {e}");
    }
    assert!(
        parse_err("variants.fix > 0")
            .to_string()
            .contains("variants.NAME.<path>")
    );
}

#[test]
fn list_selectors_are_positions_or_ids() {
    let e = parsed("shards[2].records.delivered > 0");
    assert_eq!(e.path.steps[1], Step::Index(2));
    let e = parsed("shards[shardId-000000000002].records.delivered > 0");
    assert_eq!(e.path.steps[1], Step::Id("shardId-000000000002".into()));
    assert_eq!(
        e.path.to_string(),
        "shards[shardId-000000000002].records.delivered"
    );
}

#[test]
fn variant_paths_name_the_variant() {
    let e = parsed("variants.bisect-and-dlq.shards[0].iterator_age_ms.max < 1h");
    assert_eq!(e.path.variant.as_deref(), Some("bisect-and-dlq"));
    assert_eq!(e.path.steps_text(), "shards[0].iterator_age_ms.max");
    assert_eq!(
        e.path.to_string(),
        "variants.bisect-and-dlq.shards[0].iterator_age_ms.max"
    );
    assert_eq!(e.value.as_f64(), 3_600_000.0);
}

#[test]
fn parse_for_checks_the_variant_name() {
    let names = vec!["fix".to_owned(), "eight-shards".to_owned()];
    assert!(check::parse_for("variants.fix.records.expired == 0", &names).is_ok());
    assert!(check::parse_for("records.expired == 0", &names).is_ok());
    let e = check::parse_for("variants.fixx.records.expired == 0", &names).unwrap_err();
    assert!(matches!(e, ExpectError::UnknownVariant { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "no variant named `fixx` (variants: fix, eight-shards)"
    );
    assert_eq!(e.column(), 10);
}

// ---- evaluation --------------------------------------------------------------------

/// The summary of a real run of the small scenario, and of its variant.
fn real_summaries() -> (Json, BTreeMap<String, Json>) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "s.yaml", &scenario_with("evaluated", &[]));
    let loaded = kinesim::scenario::load(&file).unwrap();
    let base = kinesim::simulate(&loaded.base, None, kinesim::Outputs::default()).unwrap();
    let v = loaded.variant("four-shards").unwrap();
    let four = kinesim::simulate(&v, Some("four-shards"), kinesim::Outputs::default()).unwrap();
    let mut variants = BTreeMap::new();
    variants.insert(
        "four-shards".to_owned(),
        serde_json::to_value(&four).unwrap(),
    );
    (serde_json::to_value(&base).unwrap(), variants)
}

#[test]
fn paths_read_the_summary_of_a_run() {
    let (base, variants) = real_summaries();
    let eval = |line: &str| check::evaluate(&parsed(line), &base, &variants);
    let written = base["records"]["written"].as_u64().unwrap();
    assert!(written > 0);

    let o = eval(&format!("records.written == {written}"));
    assert!(o.passed && o.error.is_none(), "{o:?}");
    assert_eq!(o.actual, Some(json!(written)));

    // By position and by id, the same shard.
    let by_index = eval("shards[1].records.written > 0");
    let by_id = eval("shards[shardId-000000000001].records.written > 0");
    assert!(by_index.passed, "{by_index:?}");
    assert_eq!(by_index.actual, by_id.actual);
    assert_eq!(
        by_index.actual,
        Some(base["shards"][1]["records"]["written"].clone())
    );

    // The variant's own summary: it has four shards, the base two.
    let o = eval("variants.four-shards.shards[3].records.written > 0");
    assert!(o.passed, "{o:?}");
    let o = eval("variants.four-shards.shards[shardId-000000000003].records.written > 0");
    assert!(o.passed, "{o:?}");
    let o = eval("shards[3].records.written > 0");
    assert!(!o.passed);
    assert!(
        o.error.as_deref().unwrap().contains("has 2 entries"),
        "{o:?}"
    );
    // Durations on real duration paths.
    assert!(eval("simulated_ms == 10m").passed);
    assert!(eval("iterator_age_ms.max < 1h").passed);
}

#[test]
fn a_missing_key_fails_naming_it_and_the_keys_there() {
    let (base, variants) = real_summaries();
    let o = check::evaluate(&parsed("records.expird > 0"), &base, &variants);
    assert!(!o.passed);
    assert_eq!(o.actual, None);
    let msg = o.error.unwrap();
    assert!(msg.contains("`expird`"), "{msg}");
    assert!(msg.contains("in `records`"), "{msg}");
    assert!(msg.contains("did you mean `expired`?"), "{msg}");
    assert!(
        msg.contains("written") && msg.contains("delivered"),
        "{msg}"
    );

    let o = check::evaluate(&parsed("latency.p99 < 1000"), &base, &variants);
    let msg = o.error.unwrap();
    assert!(msg.contains("no key `latency` in the summary"), "{msg}");
    assert!(msg.contains("latency_ms"), "{msg}");

    let o = check::evaluate(
        &parsed("shards[shardId-000000000009].records.written > 0"),
        &base,
        &variants,
    );
    let msg = o.error.unwrap();
    assert!(
        msg.contains("no entry with id `shardId-000000000009`"),
        "{msg}"
    );
    assert!(
        msg.contains("shardId-000000000000, shardId-000000000001"),
        "{msg}"
    );
}

#[test]
fn values_that_are_not_numbers_fail_with_a_reason() {
    let doc = json!({
        "scenario": "x",
        "records": {"expired": 1},
        "shards": [{"id": "a", "open_ms": [0, null]}],
        "actions": [{"at_ms": 0}],
    });
    let none = BTreeMap::new();
    for (line, says) in [
        ("records > 0", "is an object"),
        ("shards > 0", "is a list of 1"),
        ("scenario == 0", "not a number"),
        ("shards[0].open_ms[1] == 0", "is null"),
        ("records[0] == 0", "not a list"),
        ("shards.id == 0", "select an entry"),
        ("records.expired.x == 0", "nothing below it"),
        ("actions[x].at_ms == 0", "have no `id`"),
        (
            "variants.other.records.expired == 0",
            "variant `other` was not run",
        ),
    ] {
        let o = check::evaluate(&parsed(line), &doc, &none);
        assert!(!o.passed, "{line}");
        let msg = o.error.unwrap_or_default();
        assert!(msg.contains(says), "{line}: {msg}");
    }
}

// ---- the command -------------------------------------------------------------------

#[test]
fn passing_expectations_exit_0_with_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "ok.yaml",
        &scenario_with(
            "all-good",
            &[
                "records.written > 0",
                "iterator_age_ms.max < 1h",
                "variants.four-shards.shards[3].records.written > 0",
            ],
        ),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("all-good: records.written > 0 "),
        "{out}"
    );
    assert!(
        lines[0].contains(" ok ") && lines[0].contains("actual "),
        "{out}"
    );
    // The status column lines up across the scenario's lines.
    let col = |l: &str| l.find(" ok ").unwrap();
    assert_eq!(col(lines[0]), col(lines[1]));
    assert_eq!(col(lines[1]), col(lines[2]));
    assert_eq!(
        lines[3], "checked 1 scenario: 3 of 3 expectations passed",
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour off a terminal: {out}");
}

#[test]
fn a_failing_expectation_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "f.yaml",
        &scenario_with("fails", &["records.written > 0", "records.written == 0"]),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("fails: records.written == 0") && l.contains("FAIL")),
        "{out}"
    );
    assert!(
        out.contains("1 of 2 expectations passed, 1 failed"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("1 of 2 expectations failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_path_the_summary_cannot_have_is_invalid_input_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        &scenario_with("missing", &["records.nothing > 0"]),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("m.yaml:12:5: expect[0]: no key `nothing` in `records`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_shard_the_run_does_not_have_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.yaml",
        &scenario_with("missing", &["shards[9].records.written > 0"]),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 1);
    assert!(stdout(&o).contains("there is no [9]"), "{}", stdout(&o));
}

#[test]
fn a_bad_expect_line_exits_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yaml",
        &scenario_with("bad", &["records.written > 0", "records.expired > 5m"]),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    // Line 13 of the file (the second item): validation reads expect lines with the
    // same parser, so the file does not even load.
    assert!(
        err.contains("bad.yaml:13:5: expect[1]: `5m` is a duration"),
        "{err}"
    );
    assert!(stdout(&o).contains("bad.yaml: INVALID"), "{}", stdout(&o));
}

#[test]
fn an_unknown_variant_in_a_path_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "v.yaml",
        &scenario_with("v", &["variants.eight-shards.records.written > 0"]),
    );
    let o = run(&["check", &file]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("no variant named `eight-shards` (variants: four-shards)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_invalid_or_missing_scenario_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.yaml", "name: broken\nduration: 10m\n");
    let o = run(&["check", &file]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("broken.yaml:"), "{}", stderr(&o));
    let o = run(&["check", "no-such-scenario-anywhere"]);
    assert_exit(&o, 2);
}

#[test]
fn a_run_limit_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_with("limited", &["records.written > 0"])
        .replace("variants:", "simulation: {max_events: 50}\nvariants:");
    let file = write(dir.path(), "l.yaml", &text);
    let o = run(&["check", &file]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("event limit"), "{}", stderr(&o));
    assert!(stdout(&o).contains("limited: LIMIT"), "{}", stdout(&o));
}

#[test]
fn a_scenario_without_expectations_is_reported_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "n.yaml", &scenario_with("nothing", &[]));
    let o = run(&["check", &file]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).starts_with("nothing: no expectations (not run)\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_directory_checks_its_scenario_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b.yaml",
        &scenario_with("second", &["records.written > 0"]),
    );
    write(
        dir.path(),
        "a.yml",
        &scenario_with("first", &["records.written > 0"]),
    );
    write(dir.path(), "c.yaml", &scenario_with("third", &[]));
    write(dir.path(), "notes.txt", "not a scenario");
    fs::create_dir(dir.path().join("sub")).unwrap();
    write(
        &dir.path().join("sub"),
        "deep.yaml",
        &scenario_with("deep", &["records.written == 0"]),
    );
    let o = run(&["check", dir.path().to_str().unwrap()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once(':').map(|(n, _)| n))
        .filter(|n| !n.starts_with("checked"))
        .collect();
    assert_eq!(names, ["first", "second", "third"], "{out}");
    assert!(
        out.contains("checked 3 scenarios: 2 of 2 expectations passed"),
        "{out}"
    );

    let empty = tempfile::tempdir().unwrap();
    let o = run(&["check", empty.path().to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("no scenario files"), "{}", stderr(&o));
}

#[test]
fn json_format_reports_every_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "g.yaml",
        &scenario_with(
            "good",
            &[
                "simulated_ms == 10m",
                "variants.four-shards.records.written != 0",
            ],
        ),
    );
    let bad = write(
        dir.path(),
        "f.yaml",
        &scenario_with("bad", &["records.written < 1"]),
    );
    let o = run(&["check", "--format", "json", &good, &bad]);
    assert_exit(&o, 1);
    let doc: Json = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(
        doc["totals"],
        json!({"scenarios": 2, "expectations": 3, "passed": 2, "failed": 1,
               "no_expectations": 0, "invalid": 0, "limit": 0})
    );
    let s0 = &doc["scenarios"][0];
    assert_eq!(s0["input"], good.as_str());
    assert_eq!(s0["scenario"], "good");
    assert_eq!(s0["status"], "passed");
    let e0 = &s0["expectations"][0];
    assert_eq!(e0["expect"], "simulated_ms == 10m");
    assert_eq!(e0["path"], "simulated_ms");
    assert_eq!(e0["op"], "==");
    assert_eq!(e0["expected"], 600_000, "durations in ms, as integers");
    assert_eq!(e0["actual"], 600_000);
    assert_eq!(e0["passed"], true);
    assert_eq!(e0["error"], Json::Null);
    assert_eq!(s0["expectations"][1]["variant"], "four-shards");
    assert_eq!(doc["scenarios"][1]["status"], "failed");
    assert_eq!(doc["scenarios"][1]["expectations"][0]["passed"], false);
}

#[test]
fn json_format_reports_invalid_input_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yaml",
        &scenario_with("bad", &["records.expired > 1KiB"]),
    );
    let o = run(&["check", "--format", "json", &file]);
    assert_exit(&o, 2);
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
    let s = &doc["scenarios"][0];
    assert_eq!(s["status"], "invalid");
    let err = s["errors"][0].as_str().unwrap();
    assert!(err.contains("`1KiB` is a size"), "{err}");
    // The file did not load, so its name is unknown; the input names it.
    assert!(s["input"].as_str().unwrap().ends_with("bad.yaml"));
    assert_eq!(s["expectations"], json!([]));
}

/// Every scenario of the built-in library meets its own expectations. Built-ins are
/// being added; a failure here names the scenario and the expectation.
#[test]
fn every_builtin_scenario_passes_check() {
    for name in kinesim::scenario::builtin::names() {
        let o = run(&["check", name]);
        assert_exit(&o, 0);
        assert!(stdout(&o).contains(&format!("{name}: ")), "{}", stdout(&o));
    }
}
