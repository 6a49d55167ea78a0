//! Tests of the scenario loader: every error class with its exact `file:line:col: path:`
//! prefix, defaults, aliases, variants, the built-in library, and no panic on any input.

use super::*;
use crate::time::{SimDuration, SimTime};

/// A valid scenario, one key per line, so tests can add or change lines by number.
const MIN: &str = "\
name: t
duration: 1h
stream:
  shards: 2
producers:
  - rate: 10/s
event_source_mapping:
  StartingPosition: LATEST
";

fn load_text(text: &str) -> Result<Loaded, ScenarioError> {
    parse_str(text, "t.yaml", false)
}

fn ok(text: &str) -> Scenario {
    match load_text(text) {
        Ok(l) => l.base,
        Err(e) => panic!("expected a valid scenario, got:\n{e}"),
    }
}

/// The printed error lines.
fn errs(text: &str) -> Vec<String> {
    match load_text(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.to_string().lines().map(str::to_owned).collect(),
    }
}

/// Asserts that exactly one error line starts with `prefix`, and returns it.
fn one_err(text: &str, prefix: &str) -> String {
    let lines = errs(text);
    let hits: Vec<&String> = lines.iter().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(
        hits.len(),
        1,
        "want one line starting {prefix:?}, got:\n{}",
        lines.join("\n")
    );
    hits[0].clone()
}

/// MIN with extra top-level text appended.
fn with(extra: &str) -> String {
    format!("{MIN}{extra}")
}

/// MIN with the mapping block extended by `lines` (each indented by two spaces).
fn esm(lines: &str) -> String {
    let mut s = MIN.to_owned();
    for l in lines.lines() {
        s.push_str("  ");
        s.push_str(l);
        s.push('\n');
    }
    s
}

// --- the built-in library -------------------------------------------------------------

#[test]
fn every_builtin_validates_with_its_variants() {
    let all = builtin::all();
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "builtins sorted by name");
    assert!(names.contains(&"steady") && names.contains(&"poison-pill"));
    for (name, text) in all {
        let loaded = parse_str(text, name, false).unwrap_or_else(|e| panic!("{name}:\n{e}"));
        assert_eq!(loaded.base.name, name, "file name = scenario name");
        assert!(
            (2..=7).contains(&loaded.base.description.trim().lines().count()),
            "{name}: a description of 2-6 lines"
        );
        assert!(!loaded.base.expect.is_empty(), "{name}: has expect lines");
        for v in loaded.variant_names() {
            let s = loaded.variant(&v).unwrap();
            assert_eq!(s.name, name, "a variant keeps the base name");
        }
        assert_eq!(builtin::get(name), Some(text));
    }
    assert_eq!(builtin::get("nope"), None);
}

#[test]
fn poison_pill_has_the_design_example_essentials() {
    let l = load("poison-pill").unwrap();
    let s = &l.base;
    assert_eq!(s.seed, 7);
    assert_eq!(s.duration, SimDuration::from_hours(26));
    assert_eq!((s.stream.name.as_str(), s.stream.shards), ("orders", 4));
    assert_eq!(s.stream.retention, SimDuration::from_hours(24));
    let ProducerKind::Rate(r) = &s.producers[0].kind else {
        panic!("rate producer")
    };
    assert_eq!(s.producers[0].name, "clicks");
    assert_eq!(r.rate_urps, 400_000_000);
    assert_eq!(r.record_size, RecordSize::Fixed(1024));
    assert_eq!((r.partition_keys, r.arrival), (10_000, Arrival::Uniform));
    assert_eq!(s.function.name, "processor");
    assert_eq!(s.function.memory_mb, 1024);
    assert_eq!(s.function.timeout, SimDuration::from_secs(60));
    assert_eq!(s.function.duration.base, SimDuration::from_millis(20));
    assert_eq!(s.function.duration.per_record, SimDuration::from_millis(1));
    assert_eq!(
        s.function.behaviours,
        vec![Behaviour::Poison {
            target: PoisonTarget::FirstAt {
                shard: Some(0),
                at: SimTime::from_secs(600)
            },
            effect: Effect::Error,
            times: None
        }]
    );
    let m = &s.mapping;
    assert_eq!(m.starting_position, StartingPosition::TrimHorizon);
    assert_eq!(
        (m.batch_size, m.max_retry_attempts, m.bisect_on_error),
        (100, None, false)
    );
    assert!(s.not_simulated.is_empty(), "{:?}", s.not_simulated);
    assert_eq!(
        s.expect,
        vec![
            "records.expired > 0",
            "shards[0].iterator_age_ms.max >= 23h",
            "shards[1].iterator_age_ms.max < 5000"
        ]
    );
    assert_eq!(l.variant_names(), vec!["bisect-and-dlq", "eight-shards"]);
    let dlq = l.variant("bisect-and-dlq").unwrap();
    assert!(dlq.mapping.bisect_on_error);
    assert_eq!(dlq.mapping.max_retry_attempts, Some(2));
    assert_eq!(
        dlq.mapping.on_failure.as_ref().map(|d| d.kind),
        Some(DestinationKind::Sqs)
    );
    assert_eq!(dlq.producers, s.producers, "variants share the traffic");
    assert_eq!(l.variant("eight-shards").unwrap().stream.shards, 8);
}

#[test]
fn batch_timeout_payload_capped_batches_still_exceed_the_timeout() {
    let s = load("batch-timeout").unwrap().base;
    // ~3000 records fit in 6 MB of 1 KiB records; at per_record they must exceed the timeout.
    let capped = s.function.duration.base.0 + 3_000 * s.function.duration.per_record.0;
    assert!(capped > s.function.timeout.0);
    assert_eq!(s.mapping.batch_size, 10_000);
    let fix = load("batch-timeout").unwrap().variant("fix").unwrap();
    let full = fix.function.duration.base.0
        + u64::from(fix.mapping.batch_size) * fix.function.duration.per_record.0;
    assert!(full < fix.function.timeout.0);
}

// --- defaults ------------------------------------------------------------------------

#[test]
fn defaults_are_those_of_design_section_4() {
    let s = ok(MIN);
    assert_eq!(s.seed, 1);
    assert_eq!(s.description, "");
    assert_eq!(
        s.stream,
        StreamSpec {
            name: "stream".into(),
            shards: 2,
            retention: SimDuration::from_hours(24),
            mode: StreamMode::Provisioned,
            consumer: ConsumerKind::Shared,
            other_consumers: 0,
            max_record_size: 1 << 20,
        }
    );
    assert_eq!(s.producers[0].name, "p0");
    assert_eq!(
        s.producers[0].kind,
        ProducerKind::Rate(RateProducer {
            rate_urps: 10_000_000,
            arrival: Arrival::Uniform,
            record_size: RecordSize::Fixed(1024),
            partition_keys: 1000,
            key_skew: KeySkew::Uniform,
            start: SimTime::ZERO,
            end: SimTime::from_secs(3600),
            changes: vec![],
            retry_rejected: false,
            filter_pass: PPM_ONE,
        })
    );
    assert_eq!(
        s.function,
        FunctionSpec {
            name: "function".into(),
            memory_mb: 128,
            timeout: SimDuration::from_secs(3),
            architecture: Architecture::X86_64,
            reserved_concurrency: None,
            account_concurrency: 1000,
            cold_start: SimDuration::ZERO,
            idle_ttl: SimDuration::from_secs(600),
            duration: DurationModel {
                base: SimDuration::ZERO,
                per_record: SimDuration::ZERO,
                per_kib: SimDuration::ZERO,
                jitter: 0
            },
            behaviours: vec![],
        }
    );
    assert_eq!(
        s.mapping,
        MappingSpec {
            event_source_arn: None,
            starting_position: StartingPosition::Latest,
            batch_size: 100,
            batching_window: SimDuration::ZERO,
            parallelization_factor: 1,
            max_retry_attempts: None,
            max_record_age: None,
            bisect_on_error: false,
            report_batch_item_failures: false,
            on_failure: None,
            filter_patterns: vec![],
            tumbling_window: SimDuration::ZERO,
            enabled: true,
        }
    );
    assert_eq!(
        s.simulation,
        SimulationSpec {
            retry_backoff_initial: SimDuration::from_secs(1),
            retry_backoff_max: SimDuration::from_secs(12),
            lane_blocking: LaneBlocking::Lane,
            reshard_step: SimDuration::from_secs(30),
            mapping_start_delay: SimDuration::ZERO,
            start_time_unix_ms: DEFAULT_START_UNIX_MS,
            sample_every: SimDuration::from_secs(60),
            max_events: 2_000_000_000,
            on_demand_split_after: SimDuration::from_secs(15 * 60),
        }
    );
    assert!(s.actions.is_empty() && s.expect.is_empty() && s.variant_names.is_empty());
    assert_eq!(s.autoscale, None);
    assert!(s.not_simulated.is_empty());
}

#[test]
fn the_full_design_example_is_accepted() {
    // design.md §4's example, trimmed of what contradicts itself (two poisons on shard 0
    // are fine; actions reference shards that exist).
    let text = r#"
name: poison-pill
description: |
  One record that always throws blocks its shard until retention trims it.
seed: 7
duration: 26h
stream:
  name: orders
  shards: 4
  retention: 24h
  mode: PROVISIONED
  consumer: shared
  other_consumers: 0
  max_record_size: 1MiB
producers:
  - name: clicks
    rate: 400/s
    arrival: uniform
    record_size: 1KiB
    partition_keys: 10000
    key_skew: uniform
    start: 0s
    end: 26h
    changes:
      - {at: 8h, rate: 2000/s}
    retry_rejected: false
    filter_pass: 100%
  - name: scripted
    records:
      - {at: 0s, partition_key: test_0, data: hello}
      - {at: 1s, partition_key: test_1, data: world, repeat: 10}
function:
  name: processor
  memory: 1024
  timeout: 60s
  architecture: x86_64
  reserved_concurrency: null
  account_concurrency: 1000
  cold_start: 300ms
  idle_ttl: 10m
  duration: {base: 20ms, per_record: 1ms, per_kib: 0ms, jitter: 10%}
  behaviours:
    - poison: {at: 10m}
      effect: error
    - poison: {shard: 0, at: 10m}
      effect: error
    - poison: {partition_key: test_5}
      effect: report_failure
      times: 3
    - poison: {partition_key: odd}
      effect: {respond: {batchItemFailures: [{itemIdentifier: ""}]}}
    - error_rate: 0.1%
    - outage: {from: 2h, to: 2h15m}
    - slowdown: {from: 3h, to: 4h, factor: 5}
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 100
  MaximumBatchingWindowInSeconds: 0
  ParallelizationFactor: 1
  MaximumRetryAttempts: -1
  MaximumRecordAgeInSeconds: -1
  BisectBatchOnFunctionError: false
  FunctionResponseTypes: []
  DestinationConfig: {OnFailure: {Destination: "arn:aws:sqs:us-east-1:123456789012:dlq"}}
  FilterCriteria: {Filters: [{Pattern: '{"data": {"type": ["order"]}}'}]}
  TumblingWindowInSeconds: 0
  Enabled: true
actions:
  - {at: 1h, split: shardId-000000000000}
  - {at: 2h, merge: [shardId-000000000002, shardId-000000000003]}
  - {at: 6h, update_shard_count: 8}
  - {at: 30m, disable_mapping: true}
  - {at: 40m, enable_mapping: true}
  - {at: 3h, update_mapping: {BatchSize: 50, BisectBatchOnFunctionError: true}}
  - {at: 4h, set_retention: 48h}
autoscale: null
simulation:
  retry_backoff: {initial: 1s, max: 12s}
  lane_blocking: lane
  reshard_step: 30s
  mapping_start_delay: 0s
  start_time: 2026-01-01T00:00:00Z
  sample_every: 1m
  max_events: 2000000000
variants:
  - name: bisect-and-dlq
    event_source_mapping: {BisectBatchOnFunctionError: true, MaximumRetryAttempts: 2}
  - name: eight-shards
    stream: {shards: 8}
expect:
  - records.expired > 0
  - shards[0].iterator_age_ms.max >= 23h
  - shards[1].iterator_age_ms.max < 5000
"#;
    let l = load_text(text).unwrap_or_else(|e| panic!("{e}"));
    let s = &l.base;
    assert_eq!(s.function.behaviours.len(), 7);
    assert_eq!(
        s.function.behaviours[6],
        Behaviour::Slowdown {
            from: SimTime::from_secs(3 * 3600),
            to: SimTime::from_secs(4 * 3600),
            factor_ppm: 5_000_000
        }
    );
    assert_eq!(s.function.behaviours[4], Behaviour::ErrorRate(1_000));
    assert_eq!(
        s.function.behaviours[3],
        Behaviour::Poison {
            target: PoisonTarget::PartitionKey("odd".into()),
            effect: Effect::Respond(
                serde_json::json!({"batchItemFailures": [{"itemIdentifier": ""}]})
            ),
            times: None
        }
    );
    // Actions are sorted by time, stable.
    let ats: Vec<u64> = s
        .actions
        .iter()
        .map(|a| a.at.as_millis() / 60_000)
        .collect();
    assert_eq!(ats, vec![30, 40, 60, 120, 180, 240, 360]);
    assert_eq!(
        s.mapping.filter_patterns,
        vec![r#"{"data": {"type": ["order"]}}"#]
    );
    let ProducerKind::Scripted(recs) = &s.producers[1].kind else {
        panic!()
    };
    assert_eq!(recs[1].data, b"world");
    assert_eq!(recs[1].repeat, 10);
    assert!(
        !s.not_simulated.iter().any(|n| n.contains("resharding")),
        "resharding is simulated (R-RESHARD-1..4)"
    );
    assert!(
        !s.not_simulated
            .iter()
            .any(|n| n.contains("DestinationConfig")),
        "destinations are simulated"
    );
}

// --- error classes, each with its exact position ------------------------------------

#[test]
fn out_of_range_batch_size_points_at_the_value() {
    let text = esm("BatchSize: 20000");
    assert_eq!(
        one_err(&text, "t.yaml:9:14: "),
        "t.yaml:9:14: event_source_mapping.BatchSize: 20000 is out of range (allowed: 1..=10000)"
    );
}

#[test]
fn samples_and_retries_have_floors_that_keep_a_run_finite() {
    // A row per shard every microsecond, or millions of retries a second, took the time
    // and memory of the run many times over: the floors are errors at the value.
    let text = with("simulation:\n  sample_every: 999ms\n  retry_backoff: {initial: 500us}\n");
    assert_eq!(
        one_err(&text, "t.yaml:10:17: "),
        "t.yaml:10:17: simulation.sample_every: 999ms is too short (allowed: 1s or longer)"
    );
    assert_eq!(
        one_err(&text, "t.yaml:11:28: "),
        "t.yaml:11:28: simulation.retry_backoff.initial: 0.5ms is too short (allowed: 1ms or longer)"
    );
    let s = ok(&with(
        "simulation:\n  sample_every: 1s\n  retry_backoff: {initial: 1ms, max: 1ms}\n",
    ));
    assert_eq!(s.simulation.sample_every, SimDuration::from_secs(1));
    assert_eq!(
        s.simulation.retry_backoff_initial,
        SimDuration::from_millis(1)
    );
    // The limits of a range are named, not just its floor.
    let text = with("function:\n  account_concurrency: 10000001\n");
    assert!(
        one_err(&text, "t.yaml:10:24: ").ends_with("(allowed: 1..=10000000)"),
        "{text}"
    );
}

#[test]
fn unknown_keys_are_errors_with_the_allowed_keys_and_a_hint() {
    let line = one_err(
        &esm("batchSize: 10"),
        "t.yaml:9:3: event_source_mapping.batchSize: ",
    );
    assert!(
        line.contains("unknown key `batchSize` (did you mean `BatchSize`?)"),
        "{line}"
    );
    assert!(line.contains("(allowed: EventSourceArn, Stream,"), "{line}");
    let line = one_err(
        &with("colour: red\n"),
        "t.yaml:9:1: colour: unknown key `colour`",
    );
    assert!(line.contains("allowed: name, description, seed"), "{line}");
    one_err(
        "name: t\nduration: 1h\nstream:\n  shards: 2\n  shard: 3\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:5:3: stream.shard: unknown key `shard`",
    );
}

#[test]
fn wrong_types_say_what_was_expected_and_found() {
    one_err(
        &esm("BatchSize: many"),
        "t.yaml:9:14: event_source_mapping.BatchSize: expected a whole number, found string \"many\"",
    );
    one_err(
        &esm("Enabled: 3"),
        "t.yaml:9:12: event_source_mapping.Enabled: expected true or false, found integer `3`",
    );
    one_err(
        &with("seed: [1]\n"),
        "t.yaml:9:7: seed: expected a whole number, found a list",
    );
    let line = one_err(
        "name: t\nduration: 1h\nstream: 4\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:3:9: stream: expected a mapping, found integer `4`",
    );
    assert!(
        line.contains("(allowed: a mapping with keys name, shards"),
        "{line}"
    );
}

#[test]
fn bad_units_are_errors_at_the_value() {
    one_err(
        "name: t\nduration: 3600\nstream: {shards: 1}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:2:11: duration: `3600` has no unit",
    );
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1}\nproducers: [{rate: 400}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:4:20: producers[0].rate: `400` is not a rate",
    );
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1}\nproducers: [{rate: 1/s, record_size: 1KB2}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:4:38: producers[0].record_size: `1KB2`: unknown unit `KB2`",
    );
    one_err(
        &with("function:\n  behaviours:\n    - error_rate: 0.1\n"),
        "t.yaml:11:19: function.behaviours[0].error_rate: `0.1` is not a percentage",
    );
}

#[test]
fn missing_required_keys_point_at_the_parent_mapping() {
    let lines = errs("description: nothing else\n");
    let want = [
        "t.yaml:1:1: name: missing required key",
        "t.yaml:1:1: duration: missing required key",
        "t.yaml:1:1: stream.shards: missing required key",
        "t.yaml:1:1: producers: at least one producer is required",
        "t.yaml:1:1: event_source_mapping.StartingPosition: missing required key",
    ];
    for w in want {
        let found = lines.iter().filter(|l| l.starts_with(w)).count();
        assert_eq!(found, 1, "{w:?} once in:\n{}", lines.join("\n"));
    }
    // Inside a block: the position of the mapping that lacks the key.
    one_err(
        "name: t\nduration: 1h\nstream:\n  name: s\nproducers: [{rate: 1/s}]\nevent_source_mapping:\n  BatchSize: 10\n",
        "t.yaml:4:3: stream.shards: missing required key",
    );
    one_err(
        "name: t\nduration: 1h\nstream:\n  name: s\n  shards: 1\nproducers: [{rate: 1/s}]\nevent_source_mapping:\n  BatchSize: 10\n",
        "t.yaml:8:3: event_source_mapping.StartingPosition: missing required key (AWS requires it for Kinesis)",
    );
}

#[test]
fn malformed_yaml_is_one_positioned_error() {
    let lines = errs("name: t\nduration: [1h\n");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("t.yaml:2:11: (document): not valid YAML"),
        "{lines:?}"
    );
    let lines = errs("name: t\nname: u\n");
    assert!(
        lines[0].starts_with("t.yaml:2:1: (document): not valid YAML: duplicate mapping key"),
        "{lines:?}"
    );
    let lines = errs("- just\n- a list\n");
    assert!(
        lines[0].starts_with("t.yaml:1:1: (document): a scenario is a mapping"),
        "{lines:?}"
    );
}

#[test]
fn empty_missing_directory_and_unreadable_files_have_their_own_errors() {
    assert!(matches!(load_text(""), Err(ScenarioError::Empty { .. })));
    assert!(matches!(
        load_text("# only a comment\n"),
        Err(ScenarioError::Empty { .. })
    ));
    let e = load("no/such/file.yaml").unwrap_err();
    assert!(matches!(e, ScenarioError::NotFound { .. }));
    assert!(
        e.to_string()
            .contains(&format!("built-in: {}", builtin::names().join(", "))),
        "{e}"
    );
    assert!(matches!(
        load("not-a-builtin"),
        Err(ScenarioError::NotFound { .. })
    ));
    let dir = std::env::temp_dir().join(format!("kinesim-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        load_path(&dir),
        Err(ScenarioError::IsDirectory { .. })
    ));
    let bin = dir.join("bin.yaml");
    std::fs::write(&bin, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let e = load_path(&bin).unwrap_err();
    assert!(matches!(e, ScenarioError::Unreadable { .. }), "{e}");
    let empty = dir.join("empty.yaml");
    std::fs::write(&empty, "\n\n").unwrap();
    assert_eq!(
        load(empty.to_str().unwrap()).unwrap_err().to_string(),
        format!(
            "{}: the file is empty; a scenario needs at least name, duration, stream.shards, producers and event_source_mapping.StartingPosition",
            empty.display()
        )
    );
    let good = dir.join("good.yaml");
    std::fs::write(&good, MIN).unwrap();
    assert_eq!(
        load(good.to_str().unwrap()).unwrap().origin(),
        good.display().to_string()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = "\
name: Bad_Name
duration: 0s
stream:
  shards: 0
  retention: 12h
  colour: blue
producers:
  - rate: 10/s
    records: [{at: 0s, partition_key: a}]
function:
  memory: 64
  timeout: 901s
  wrong: 1
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 0
  ParallelizationFactor: 11
  Extra: true
";
    let lines = errs(text);
    let want = [
        "t.yaml:1:7: name: `Bad_Name` is not a valid scenario name",
        "t.yaml:2:11: duration: must be longer than 0s",
        "t.yaml:4:11: stream.shards: 0 is out of range",
        "t.yaml:5:14: stream.retention: 12h is out of range (allowed: 24h..8760h",
        "t.yaml:6:3: stream.colour: unknown key",
        "t.yaml:9:14: producers[0].records: a producer has either `rate` or `records`, not both",
        "t.yaml:11:11: function.memory: 64 is out of range",
        "t.yaml:12:12: function.timeout: 15m1s is out of range",
        "t.yaml:13:3: function.wrong: unknown key",
        "t.yaml:16:14: event_source_mapping.BatchSize: 0 is out of range",
        "t.yaml:17:26: event_source_mapping.ParallelizationFactor: 11 is out of range",
        "t.yaml:18:3: event_source_mapping.Extra: unknown key",
    ];
    for w in want {
        assert!(
            lines.iter().any(|l| l.starts_with(w)),
            "no {w:?} in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(lines.len(), want.len(), "{}", lines.join("\n"));
    // In file order.
    let mut sorted = lines.clone();
    sorted.sort_by_key(|l| {
        let mut it = l.split(':').skip(1);
        (
            it.next().and_then(|x| x.parse::<u32>().ok()),
            it.next().and_then(|x| x.parse::<u32>().ok()),
        )
    });
    assert_eq!(lines, sorted);
}

#[test]
fn aws_ranges_of_the_mapping_are_enforced() {
    let cases = [
        (
            "MaximumBatchingWindowInSeconds: 301",
            "t.yaml:9:35: event_source_mapping.MaximumBatchingWindowInSeconds: 301 is out of range (allowed: 0..=300 seconds)",
        ),
        (
            "ParallelizationFactor: 0",
            "t.yaml:9:26: event_source_mapping.ParallelizationFactor: 0 is out of range (allowed: 1..=10)",
        ),
        (
            "MaximumRetryAttempts: -2",
            "t.yaml:9:25: event_source_mapping.MaximumRetryAttempts: -2 is out of range (allowed: -1 (infinite) or 0..=10000)",
        ),
        (
            "MaximumRetryAttempts: 10001",
            "t.yaml:9:25: event_source_mapping.MaximumRetryAttempts: 10001 is out of range",
        ),
        (
            "MaximumRecordAgeInSeconds: 604801",
            "t.yaml:9:30: event_source_mapping.MaximumRecordAgeInSeconds: 604801 is out of range",
        ),
        (
            "TumblingWindowInSeconds: 901",
            "t.yaml:9:28: event_source_mapping.TumblingWindowInSeconds: 901 is out of range (allowed: 0..=900 seconds)",
        ),
        (
            "FunctionResponseTypes: [ReportItems]",
            "t.yaml:9:27: event_source_mapping.FunctionResponseTypes[0]: unknown value `ReportItems` (allowed: ReportBatchItemFailures)",
        ),
    ];
    for (line, want) in cases {
        let got = one_err(&esm(line), "t.yaml:9:");
        assert!(got.starts_with(want), "{line}:\n got {got}\nwant {want}");
    }
}

#[test]
fn maximum_record_age_30_is_rejected_with_the_reason() {
    assert_eq!(
        one_err(&esm("MaximumRecordAgeInSeconds: 30"), "t.yaml:9:30:"),
        "t.yaml:9:30: event_source_mapping.MaximumRecordAgeInSeconds: 30 is rejected by AWS: the \
         shortest maximum record age is 60 seconds (allowed: -1 (infinite) or 60..=604800 seconds)"
    );
    let s = ok(&esm("MaximumRecordAgeInSeconds: 60"));
    assert_eq!(s.mapping.max_record_age, Some(SimDuration::from_secs(60)));
    // The seconds keys also take a duration, if it is whole seconds.
    let s = ok(&esm(
        "MaximumRecordAgeInSeconds: 1h\nMaximumBatchingWindowInSeconds: 5s",
    ));
    assert_eq!(s.mapping.max_record_age, Some(SimDuration::from_secs(3600)));
    assert_eq!(s.mapping.batching_window, SimDuration::from_secs(5));
    one_err(
        &esm("MaximumBatchingWindowInSeconds: 1.5s"),
        "t.yaml:9:35: event_source_mapping.MaximumBatchingWindowInSeconds: `1.5s` is not a whole number of seconds",
    );
    assert_eq!(
        ok(&esm("MaximumRecordAgeInSeconds: -1"))
            .mapping
            .max_record_age,
        None
    );
}

#[test]
fn starting_position_values_and_at_timestamp() {
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1}\nproducers: [{rate: 1/s}]\nevent_source_mapping:\n  StartingPosition: OLDEST\n",
        "t.yaml:6:21: event_source_mapping.StartingPosition: unknown value `OLDEST` (allowed: TRIM_HORIZON, LATEST, AT_TIMESTAMP)",
    );
    let base = MIN.replace("LATEST", "AT_TIMESTAMP");
    one_err(
        &base,
        "t.yaml:8:3: event_source_mapping.StartingPositionTimestamp: missing required key: AT_TIMESTAMP needs",
    );
    // Unix seconds: 10 minutes after the default start time.
    let s = ok(&format!("{base}  StartingPositionTimestamp: 1767226200\n"));
    assert_eq!(
        s.mapping.starting_position,
        StartingPosition::AtTimestamp(SimTime::from_secs(600))
    );
    assert!(
        !s.not_simulated.iter().any(|n| n.contains("AT_TIMESTAMP")),
        "simulated"
    );
    // ISO-8601, relative to simulation.start_time; before it saturates at 0.
    let s = ok(&format!(
        "{base}  StartingPositionTimestamp: 2030-01-01T01:00:30.5+01:00\nsimulation: {{start_time: 2030-01-01T00:00:00Z}}\n"
    ));
    assert_eq!(
        s.mapping.starting_position,
        StartingPosition::AtTimestamp(SimTime::from_millis(30_500))
    );
    let s = ok(&format!(
        "{base}  StartingPositionTimestamp: 2020-01-01T00:00:00Z\n"
    ));
    assert_eq!(
        s.mapping.starting_position,
        StartingPosition::AtTimestamp(SimTime::ZERO)
    );
    one_err(
        &format!("{base}  StartingPositionTimestamp: yesterday\n"),
        "t.yaml:9:30: event_source_mapping.StartingPositionTimestamp: `yesterday` is not an ISO-8601 time",
    );
    one_err(
        &esm("StartingPositionTimestamp: 1767226200"),
        "t.yaml:9:30: event_source_mapping.StartingPositionTimestamp: StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP only",
    );
}

#[test]
fn destination_arn_kind_comes_from_the_arn() {
    let dest = |arn: &str| {
        ok(&esm(&format!(
            "DestinationConfig: {{OnFailure: {{Destination: \"{arn}\"}}}}"
        )))
        .mapping
        .on_failure
    };
    assert_eq!(
        dest("arn:aws:sqs:us-east-1:123456789012:q").map(|d| d.kind),
        Some(DestinationKind::Sqs)
    );
    assert_eq!(
        dest("arn:aws:sns:us-east-1:123456789012:t").map(|d| d.kind),
        Some(DestinationKind::Sns)
    );
    assert_eq!(
        dest("arn:aws:s3:::bucket").map(|d| d.kind),
        Some(DestinationKind::S3)
    );
    let line = one_err(
        &esm(
            "DestinationConfig: {OnFailure: {Destination: \"arn:aws:lambda:us-east-1:1:function:f\"}}",
        ),
        "t.yaml:9:48: event_source_mapping.DestinationConfig.OnFailure.Destination: `arn:aws:lambda:us-east-1:1:function:f` is not an SQS queue, SNS topic or S3 bucket ARN",
    );
    assert!(line.contains("(allowed: arn:aws:sqs:"));
    // SAM's Type is accepted, and must agree.
    let s = ok(&esm(
        "DestinationConfig: {OnFailure: {Type: SQS, Destination: \"arn:aws:sqs:us-east-1:1:q\"}}",
    ));
    assert!(s.mapping.on_failure.is_some());
    one_err(
        &esm(
            "DestinationConfig: {OnFailure: {Type: SNS, Destination: \"arn:aws:sqs:us-east-1:1:q\"}}",
        ),
        "t.yaml:9:41: event_source_mapping.DestinationConfig.OnFailure.Type: Type does not match",
    );
    // AWS's echo of "no destination".
    assert_eq!(
        ok(&esm("DestinationConfig: {OnFailure: {}}"))
            .mapping
            .on_failure,
        None
    );
}

#[test]
fn filter_criteria_limits() {
    let six = (0..6)
        .map(|_| r#"{Pattern: '{"a": [1]}'}"#)
        .collect::<Vec<_>>()
        .join(", ");
    one_err(
        &esm(&format!("FilterCriteria: {{Filters: [{six}]}}")),
        "t.yaml:9:29: event_source_mapping.FilterCriteria.Filters: 6 filters (allowed: at most 5",
    );
    let long = format!("{{\"a\": [\"{}\"]}}", "x".repeat(4100));
    one_err(
        &esm(&format!(
            "FilterCriteria: {{Filters: [{{Pattern: '{long}'}}]}}"
        )),
        "t.yaml:9:40: event_source_mapping.FilterCriteria.Filters[0].Pattern: 4111 characters (allowed: at most 4096",
    );
    one_err(
        &esm("FilterCriteria: {Filters: [{Pattern: 'not json'}]}"),
        "t.yaml:9:40: event_source_mapping.FilterCriteria.Filters[0].Pattern: a filter pattern is a JSON object",
    );
    // A mapping pattern is written compactly.
    let s = ok(&esm(
        "FilterCriteria: {Filters: [{Pattern: {data: {type: [order]}}}]}",
    ));
    assert_eq!(
        s.mapping.filter_patterns,
        vec![r#"{"data":{"type":["order"]}}"#]
    );
}

#[test]
fn stream_and_function_limits() {
    let s = |extra: &str| {
        format!(
            "name: t\nduration: 1h\nproducers: [{{rate: 1/s}}]\nevent_source_mapping: {{StartingPosition: LATEST}}\n{extra}"
        )
    };
    one_err(
        &s("stream: {shards: 10001}\n"),
        "t.yaml:5:18: stream.shards: 10001 is out of range (allowed: 1..=10000)",
    );
    one_err(
        &s("stream: {shards: 1, retention: 12h}\n"),
        "t.yaml:5:32: stream.retention: 12h is out of range (allowed: 24h..8760h",
    );
    one_err(
        &s("stream: {shards: 1, retention: 8761h}\n"),
        "t.yaml:5:32: stream.retention: 8761h is out of range",
    );
    one_err(
        &s("stream: {shards: 1, retention: 36h30m}\n"),
        "t.yaml:5:32: stream.retention: `36h30m` is not a whole number of hours",
    );
    one_err(
        &s("stream: {shards: 1, max_record_size: 512KiB}\n"),
        "t.yaml:5:38: stream.max_record_size: 524288 bytes is out of range (allowed: 1MiB..10MiB",
    );
    one_err(
        &s("stream: {shards: 1, max_record_size: 11MiB}\n"),
        "t.yaml:5:38: stream.max_record_size: 11534336 bytes is out of range",
    );
    assert_eq!(
        ok(&s("stream: {shards: 1, max_record_size: 10MiB}\n"))
            .stream
            .max_record_size,
        10 << 20
    );
    let f = |extra: &str| s(&format!("stream: {{shards: 1}}\nfunction: {{{extra}}}\n"));
    one_err(
        &f("memory: 10241"),
        "t.yaml:6:20: function.memory: 10241 is out of range (allowed: 128..=10240 MB)",
    );
    one_err(
        &f("timeout: 0s"),
        "t.yaml:6:21: function.timeout: 0s is out of range (allowed: 1s..900s in whole seconds)",
    );
    one_err(
        &f("timeout: 1500ms"),
        "t.yaml:6:21: function.timeout: 1s500ms is out of range",
    );
    one_err(
        &f("reserved_concurrency: 901"),
        "t.yaml:6:34: function.reserved_concurrency: 901 is out of range (allowed: 0..=900 (account_concurrency - 100))",
    );
    assert_eq!(
        ok(&f("reserved_concurrency: 900"))
            .function
            .reserved_concurrency,
        Some(900)
    );
    assert_eq!(
        ok(&f("reserved_concurrency: 0"))
            .function
            .reserved_concurrency,
        Some(0)
    );
    one_err(
        &f("reserved_concurrency: 50, account_concurrency: 100"),
        "t.yaml:6:34: function.reserved_concurrency: 50 is out of range (allowed: 0..=0",
    );
    one_err(
        &f("architecture: mips"),
        "t.yaml:6:26: function.architecture: unknown value `mips` (allowed: x86_64, arm64)",
    );
}

#[test]
fn producer_checks() {
    let p = |prod: &str| {
        format!(
            "name: t\nduration: 1h\nstream: {{shards: 2}}\nevent_source_mapping: {{StartingPosition: LATEST}}\nproducers:\n  - {prod}\n"
        )
    };
    one_err(
        &p("{name: a}"),
        "t.yaml:6:5: producers[0].rate: missing required key: a producer needs `rate` (records/s) or `records` (a script)",
    );
    one_err(
        &p("{rate: 1/s, start: 10m, end: 5m}"),
        "t.yaml:6:24: producers[0].start: start (10m) must be before end (5m)",
    );
    one_err(
        &p("{rate: 1/s, end: 2h}"),
        "t.yaml:6:22: producers[0].end: end (2h) is after the scenario's duration (1h) (allowed: at most 1h)",
    );
    one_err(
        &p("{rate: 1/s, partition_keys: 0}"),
        "t.yaml:6:33: producers[0].partition_keys: 0 is out of range",
    );
    one_err(
        &p("{rate: 1/s, key_skew: zipf:0}"),
        "t.yaml:6:27: producers[0].key_skew: `zipf:0`: the zipf exponent must be a number above 0",
    );
    one_err(
        &p("{rate: 1/s, key_skew: {hot_key: k, share: 130%}}"),
        "t.yaml:6:47: producers[0].key_skew.share: 130% is out of range (allowed: 0%..100%)",
    );
    one_err(
        &p("{rate: 1/s, key_skew: {hot_key: k, shares: 1%}}"),
        "t.yaml:6:40: producers[0].key_skew.shares: unknown key `shares`",
    );
    one_err(
        &p("{rate: 1/s, record_size: 2MiB}"),
        "t.yaml:6:30: producers[0].record_size: 2097152 bytes is out of range (allowed: 1B..1048576B",
    );
    one_err(
        &p("{rate: 1/s, changes: [{at: 2m, rate: 2/s}, {at: 1m, rate: 3/s}]}"),
        "t.yaml:6:53: producers[0].changes[1].at: changes must be in increasing order",
    );
    one_err(
        &p("{records: [{at: 0s, partition_key: ''}]}"),
        "t.yaml:6:40: producers[0].records[0].partition_key: a partition key of 0 characters (allowed: 1..256 characters)",
    );
    let long_key = "k".repeat(257);
    one_err(
        &p(&format!(
            "{{records: [{{at: 0s, partition_key: {long_key}}}]}}"
        )),
        "t.yaml:6:40: producers[0].records[0].partition_key: a partition key of 257 characters",
    );
    one_err(
        &p("{records: [{at: 0s, partition_key: a}], arrival: poisson}"),
        "t.yaml:6:54: producers[0].arrival: applies to rate producers only",
    );
    one_err(
        &format!(
            "{}  - {{name: x, rate: 1/s}}\n  - {{name: x, rate: 2/s}}\n",
            p("{rate: 1/s}")
        ),
        "t.yaml:8:12: producers[2].name: producer name `x` is used twice",
    );
    // Shapes that are fine.
    let s = ok(&p(
        "{rate: 1/s, record_size: {mean: 2KiB, sigma: 0.5}, key_skew: 'zipf:1.1', arrival: poisson}",
    ));
    let ProducerKind::Rate(r) = &s.producers[0].kind else {
        panic!()
    };
    assert_eq!(
        r.record_size,
        RecordSize::LogNormal {
            mean: 2048,
            sigma: 0.5
        }
    );
    assert_eq!(r.key_skew, KeySkew::Zipf(1.1));
    let s = ok(&p(
        "{rate: 1/s, key_skew: {hot_key: k1, share: 30%}, changes: [{at: 10m, rate: 5/min}]}",
    ));
    let ProducerKind::Rate(r) = &s.producers[0].kind else {
        panic!()
    };
    assert_eq!(
        r.key_skew,
        KeySkew::HotKey {
            key: "k1".into(),
            share: 300_000
        }
    );
    assert_eq!(
        r.changes,
        vec![RateChange {
            at: SimTime::from_secs(600),
            rate_urps: 83_333
        }]
    );
}

#[test]
fn scripted_records_keep_their_data_exactly() {
    let text = "name: t\nduration: 1h\nstream: {shards: 2}\nevent_source_mapping: {StartingPosition: LATEST}\nproducers:\n  - records:\n      - {at: 2s, partition_key: b, data: {x: 1, a: [true, null]}}\n      - {at: 1s, partition_key: 7, data: hello, repeat: 3, explicit_hash_key: '340282366920938463463374607431768211455'}\n      - {at: 2s, partition_key: c}\n";
    let s = ok(text);
    let ProducerKind::Scripted(r) = &s.producers[0].kind else {
        panic!()
    };
    // Sorted by time, file order kept for equal times.
    assert_eq!(r[0].partition_key, "7");
    assert_eq!(r[0].data, b"hello");
    assert_eq!(r[0].repeat, 3);
    assert_eq!(r[0].explicit_hash_key, Some(u128::MAX));
    assert_eq!(r[1].data, br#"{"x":1,"a":[true,null]}"#);
    assert_eq!(r[2].data, b"");
    let big = text.replace(
        "'340282366920938463463374607431768211455'",
        "'340282366920938463463374607431768211456'",
    );
    one_err(
        &big,
        "t.yaml:8:79: producers[0].records[1].explicit_hash_key: `340282366920938463463374607431768211456` is 2^128 or more",
    );
}

#[test]
fn behaviour_checks() {
    let b = |beh: &str| format!("{MIN}function:\n  behaviours:\n    - {beh}\n");
    one_err(
        &b("{poison: {shard: 2, at: 1m}}"),
        "t.yaml:11:24: function.behaviours[0].poison.shard: 2 is out of range (allowed: 0..=1 (an index among the 2 shards at t=0))",
    );
    one_err(
        &b("{poison: {shard: 0}}"),
        "t.yaml:11:16: function.behaviours[0].poison.at: missing required key",
    );
    one_err(
        &b("{poison: {partition_key: k, at: 1m}}"),
        "t.yaml:11:16: function.behaviours[0].poison: a poison names its record(s) one way",
    );
    one_err(
        &b("{error_rate: 1%, outage: {from: 1m, to: 2m}}"),
        "t.yaml:11:7: function.behaviours[0]: a behaviour has exactly one kind, 2 given",
    );
    one_err(
        &b("{poison: {at: 1m}, effect: explode}"),
        "t.yaml:11:34: function.behaviours[0].effect: unknown value `explode` (allowed: error, timeout, report_failure, respond)",
    );
    one_err(
        &b("{error_rate: 1%, times: 2}"),
        "t.yaml:11:31: function.behaviours[0].times: `times` goes with `poison` only",
    );
    one_err(
        &b("{outage: {from: 2m, to: 1m}}"),
        "t.yaml:11:31: function.behaviours[0].outage.to: to (1m) must be after from (2m)",
    );
    one_err(
        &b("{slowdown: {from: 1m, to: 2m, factor: 0}}"),
        "t.yaml:11:45: function.behaviours[0].slowdown.factor: 0 is not a usable factor",
    );
    let s = ok(&b("{slowdown: {from: 1m, to: 2m, factor: 1.5}}"));
    assert!(matches!(
        s.function.behaviours[0],
        Behaviour::Slowdown {
            factor_ppm: 1_500_000,
            ..
        }
    ));
    let s = ok(&b("{poison: {at: 1m}, effect: timeout, times: 2}"));
    assert!(matches!(
        s.function.behaviours[0],
        Behaviour::Poison {
            effect: Effect::Timeout,
            times: Some(2),
            ..
        }
    ));
    // Simulated now: no note (the base has a rate producer, so the key note stays).
    assert!(
        !ok(&b("{poison: {partition_key: k}, effect: report_failure}"))
            .not_simulated
            .iter()
            .any(|n| n.contains("effect report_failure"))
    );
}

#[test]
fn actions_are_checked_and_update_mapping_cannot_set_starting_position() {
    let a = |act: &str| format!("{MIN}actions:\n  - {act}\n");
    one_err(
        &a("{at: 1h, update_mapping: {StartingPosition: LATEST}}"),
        "t.yaml:10:49: actions[0].update_mapping.StartingPosition: StartingPosition cannot be changed after creation",
    );
    one_err(
        &a("{at: 1h, update_mapping: {BatchSize: 0}}"),
        "t.yaml:10:42: actions[0].update_mapping.BatchSize: 0 is out of range",
    );
    one_err(
        &a("{at: 1h, split: shard-1}"),
        "t.yaml:10:21: actions[0].split: `shard-1` is not a shard id",
    );
    one_err(
        &a("{at: 1h, merge: [shardId-000000000000]}"),
        "t.yaml:10:21: actions[0].merge: 1 shards given (allowed: exactly two adjacent shard ids)",
    );
    one_err(
        &a("{at: 1h, set_retention: 12h}"),
        "t.yaml:10:29: actions[0].set_retention: 12h is out of range",
    );
    one_err(
        &a("{at: 1h}"),
        "t.yaml:10:5: actions[0]: an action does exactly one thing, 0 given",
    );
    one_err(
        &a("{split: shardId-000000000000}"),
        "t.yaml:10:5: actions[0].at: missing required key",
    );
    let s = ok(&a(
        "{at: 1h, update_mapping: {BatchSize: 50, MaximumRetryAttempts: -1, DestinationConfig: {OnFailure: {Destination: 'arn:aws:sns:us-east-1:1:t'}}}}",
    ));
    let ActionKind::UpdateMapping(u) = &s.actions[0].kind else {
        panic!()
    };
    assert_eq!(u.batch_size, Some(50));
    assert_eq!(u.max_retry_attempts, Some(None));
    assert_eq!(
        u.on_failure
            .as_ref()
            .and_then(|d| d.as_ref())
            .map(|d| d.kind),
        Some(DestinationKind::Sns)
    );
    assert_eq!(u.parallelization_factor, None);
}

#[test]
fn expect_lines_must_be_path_op_value() {
    one_err(
        &with("expect:\n  - records.expired > 0\n  - records.expired is big\n"),
        "t.yaml:11:5: expect[1]: `is` is not a comparison (allowed: < <= > >= == !=)",
    );
    // A path the summary does not have is an error of the file, with its position.
    let e = parse_str(&with("expect:\n  - records.expird > 0\n"), "t.yaml", false).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("t.yaml:10:5: expect[0]: no key `expird`"),
        "{e}"
    );
    assert!(e.to_string().contains("did you mean `expired`"), "{e}");
    // Units only where the path has them (the check parser's rule, shared).
    let e = parse_str(
        &with("expect:\n  - records.expired > 5m\n"),
        "t.yaml",
        false,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("t.yaml:10:5: expect[0]: "), "{e}");
}

// --- aliases -------------------------------------------------------------------------

#[test]
fn cloudformation_and_sam_aliases_are_accepted() {
    let text = "\
name: t
duration: 1h
stream:
  ShardCount: 3
  RetentionPeriodHours: 48
  StreamModeDetails: {StreamMode: ON_DEMAND}
producers: [{rate: 1/s}]
function:
  MemorySize: 512
  Timeout: 30
  Architectures: [arm64]
  ReservedConcurrentExecutions: 5
event_source_mapping:
  Stream: arn:aws:kinesis:us-east-1:123456789012:stream/s
  StartingPosition: TRIM_HORIZON
  KmsKeyArn: arn:aws:kms:us-east-1:1:key/k
  Tags: [{Key: team, Value: data}]
  MetricsConfig: {Metrics: [EventCount]}
";
    let s = ok(text);
    assert_eq!(s.stream.shards, 3);
    assert_eq!(s.stream.retention, SimDuration::from_hours(48));
    assert_eq!(s.stream.mode, StreamMode::OnDemand);
    assert_eq!(s.function.memory_mb, 512);
    assert_eq!(s.function.timeout, SimDuration::from_secs(30));
    assert_eq!(s.function.architecture, Architecture::Arm64);
    assert_eq!(s.function.reserved_concurrency, Some(5));
    assert_eq!(
        s.mapping.event_source_arn.as_deref(),
        Some("arn:aws:kinesis:us-east-1:123456789012:stream/s")
    );
    for note in [
        "event_source_mapping.KMSKeyArn",
        "event_source_mapping.Tags",
        "event_source_mapping.MetricsConfig",
    ] {
        assert!(
            s.not_simulated
                .contains(&format!("{note}: not simulated yet")),
            "{note}: {:?}",
            s.not_simulated
        );
    }
    // The Lambda API spellings too.
    let s = ok(&esm(
        "EventSourceArn: arn:aws:kinesis:us-east-1:1:stream/s/consumer/c:1\nKMSKeyArn: k\nTags: {team: data}",
    ));
    assert_eq!(
        s.stream.consumer,
        ConsumerKind::EnhancedFanOut,
        "a consumer ARN implies EFO"
    );
}

#[test]
fn giving_both_spellings_of_one_setting_is_an_error() {
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1, ShardCount: 2}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:3:33: stream.ShardCount: `shards` and `ShardCount` are the same setting: give only one",
    );
    one_err(
        &esm(
            "Stream: arn:aws:kinesis:us-east-1:1:stream/s\nEventSourceArn: arn:aws:kinesis:us-east-1:1:stream/s",
        ),
        "t.yaml:9:11: event_source_mapping.Stream: `EventSourceArn` and `Stream` are the same setting",
    );
    one_err(
        &esm("KmsKeyArn: a\nKMSKeyArn: b"),
        "t.yaml:9:14: event_source_mapping.KmsKeyArn: `KMSKeyArn` and `KmsKeyArn` are the same setting",
    );
    one_err(
        &with("function: {timeout: 3s, Timeout: 3}\n"),
        "t.yaml:9:34: function.Timeout: `timeout` and `Timeout` are the same setting",
    );
    one_err(
        &esm("EventSourceArn: arn:aws:sqs:us-east-1:1:q"),
        "t.yaml:9:19: event_source_mapping.EventSourceArn: `arn:aws:sqs:us-east-1:1:q` is not a Kinesis stream or consumer ARN",
    );
}

#[test]
fn cloudformation_intrinsics_are_placeholders_with_a_warning() {
    let text = esm(
        "EventSourceArn: !GetAtt Orders.Arn\nFunctionName: {Ref: Processor}\nDestinationConfig: {OnFailure: {Type: SNS, Destination: !Sub 'arn:${AWS::Partition}:sns:x'}}",
    );
    let s = ok(&text);
    assert_eq!(
        s.mapping.event_source_arn.as_deref(),
        Some("!GetAtt Orders.Arn")
    );
    assert_eq!(
        s.mapping.on_failure.as_ref().map(|d| d.kind),
        Some(DestinationKind::Sns)
    );
    for path in [
        "EventSourceArn",
        "FunctionName",
        "DestinationConfig.OnFailure.Destination",
    ] {
        let want =
            format!("event_source_mapping.{path}: CloudFormation intrinsic read as a placeholder");
        assert!(
            s.not_simulated.contains(&want),
            "{want}: {:?}",
            s.not_simulated
        );
    }
    // The `Fn::` form too.
    let s = ok(&esm("EventSourceArn: {\"Fn::GetAtt\": [Orders, Arn]}"));
    assert_eq!(
        s.mapping.event_source_arn.as_deref(),
        Some(r#"!GetAtt ["Orders","Arn"]"#)
    );
    // Where a number is needed, it cannot be a placeholder.
    one_err(
        &esm("BatchSize: !Ref Size"),
        "t.yaml:9:19: event_source_mapping.BatchSize: CloudFormation intrinsic `Ref` where a whole number is needed",
    );
}

// --- variants ------------------------------------------------------------------------

#[test]
fn variants_are_json_merge_patches_over_the_base() {
    let text = with(
        "function:\n  memory: 256\n  behaviours: [{error_rate: 1%}]\nvariants:\n  - name: big\n    stream: {shards: 8, retention: 48h}\n    function: {memory: null, behaviours: []}\n  - name: same\n",
    );
    let l = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.variant_names(), vec!["big", "same"]);
    assert_eq!(l.base.variant_names, vec!["big", "same"]);
    let big = l.variant("big").unwrap();
    assert_eq!(big.name, "t");
    assert_eq!(
        (big.stream.shards, big.stream.retention),
        (8, SimDuration::from_hours(48))
    );
    assert_eq!(
        big.function.memory_mb, 128,
        "null removes: back to the default"
    );
    assert!(big.function.behaviours.is_empty(), "lists replace");
    let same = l.variant("same").unwrap();
    assert_eq!(same, l.base);
    let e = l.variant("nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t: no variant named `nope` (variants: big, same)"
    );
}

#[test]
fn variant_errors_are_reported_at_load_with_their_prefix() {
    let text = with(
        "variants:\n  - name: a\n    event_source_mapping: {BatchSize: 0}\n  - name: b\n    seed: 3\n  - name: Bad\n  - name: a\n  - {stream: {shards: 2}}\n  - name: c\n    stream: {colour: red}\n",
    );
    let lines = errs(&text);
    let want = [
        "t.yaml:11:39: variants[0].event_source_mapping.BatchSize: 0 is out of range",
        "t.yaml:13:5: variants[1].seed: a variant may not change `seed`",
        "t.yaml:14:11: variants[2].name: `Bad` is not a valid variant name",
        "t.yaml:15:11: variants[3].name: variant `a` is defined twice",
        "t.yaml:16:5: variants[4].name: missing required key",
        "t.yaml:18:14: variants[5].stream.colour: unknown key `colour`",
    ];
    for w in want {
        assert!(
            lines.iter().any(|l| l.starts_with(w)),
            "no {w:?} in:\n{}",
            lines.join("\n")
        );
    }
    assert_eq!(lines.len(), want.len(), "{}", lines.join("\n"));
    // A base error is not repeated for each variant that keeps the value.
    let text = format!(
        "{}variants:\n  - name: a\n  - name: b\n",
        esm("BatchSize: 0")
    );
    let lines = errs(&text);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("t.yaml:9:14: event_source_mapping.BatchSize:"));
}

#[test]
fn patched_applies_sweep_settings_through_the_same_checks() {
    let l = load("poison-pill").unwrap();
    let s = l
        .patched(
            None,
            &[
                ("event_source_mapping.BatchSize", "1000"),
                ("stream.shards", "6"),
            ],
        )
        .unwrap();
    assert_eq!((s.mapping.batch_size, s.stream.shards), (1000, 6));
    let s = l
        .patched(
            Some("bisect-and-dlq"),
            &[("event_source_mapping.BatchSize", "10")],
        )
        .unwrap();
    assert!(s.mapping.bisect_on_error);
    let e = l
        .patched(None, &[("event_source_mapping.BatchSize", "0")])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("event_source_mapping.BatchSize: 0 is out of range"),
        "{e}"
    );
    assert!(matches!(
        l.patched(Some("nope"), &[]),
        Err(ScenarioError::UnknownVariant { .. })
    ));
}

// --- autoscale and simulation.on_demand_split_after ----------------------------------

#[test]
fn autoscale_full_form_parses_to_the_exact_struct() {
    let s = ok(&with(
        "autoscale:\n  metric: iterator_age\n  scale_out_above: 1m\n  scale_in_below: 5s\n  period: 30s\n  periods: 3\n  cooldown: 10m\n  min_shards: 2\n  max_shards: 64\n",
    ));
    assert_eq!(
        s.autoscale,
        Some(Autoscale {
            metric: AutoscaleMetric::IteratorAge,
            scale_out_above: 60_000,
            scale_in_below: Some(5_000),
            period: SimDuration::from_secs(30),
            periods: 3,
            cooldown: SimDuration::from_secs(600),
            min_shards: 2,
            max_shards: 64,
        })
    );
    assert!(s.not_simulated.is_empty(), "{:?}", s.not_simulated);
    let s = ok(&with(
        "autoscale: {metric: write_utilisation, scale_out_above: 80%, scale_in_below: 30.5%, period: 1d, periods: 1440, cooldown: 0s, min_shards: 10000, max_shards: 10000}\n",
    ));
    assert_eq!(
        s.autoscale,
        Some(Autoscale {
            metric: AutoscaleMetric::WriteUtilisation,
            scale_out_above: 800_000,
            scale_in_below: Some(305_000),
            period: SimDuration::from_hours(24),
            periods: 1440,
            cooldown: SimDuration::ZERO,
            min_shards: 10_000,
            max_shards: 10_000,
        })
    );
    // The ends of the ranges: above 100% is more offered than the shards accept.
    let s = ok(&with(
        "autoscale: {metric: write_utilisation, scale_out_above: 1000%, scale_in_below: 1%}\n",
    ));
    let a = s.autoscale.unwrap();
    assert_eq!(
        (a.scale_out_above, a.scale_in_below),
        (10_000_000, Some(10_000))
    );
    let s = ok(&with(
        "autoscale: {metric: iterator_age, scale_out_above: 1h30m, scale_in_below: 1ms, period: 1s, cooldown: 7d, max_shards: 1}\n",
    ));
    let a = s.autoscale.unwrap();
    assert_eq!((a.scale_out_above, a.scale_in_below), (5_400_000, Some(1)));
    assert_eq!(
        (a.period, a.cooldown),
        (SimDuration::from_secs(1), SimDuration::from_hours(168))
    );
    assert_eq!((a.min_shards, a.max_shards), (1, 1));
}

#[test]
fn autoscale_defaults_and_null() {
    let s = ok(&with(
        "autoscale:\n  metric: write_utilisation\n  scale_out_above: 80%\n",
    ));
    assert_eq!(
        s.autoscale,
        Some(Autoscale {
            metric: AutoscaleMetric::WriteUtilisation,
            scale_out_above: 800_000,
            scale_in_below: None,
            period: SimDuration::from_secs(60),
            periods: 1,
            cooldown: SimDuration::from_secs(300),
            min_shards: 1,
            max_shards: 10_000,
        })
    );
    assert_eq!(ok(&with("autoscale: null\n")).autoscale, None);
    assert_eq!(ok(&with("autoscale:\n")).autoscale, None);
    assert_eq!(ok(MIN).autoscale, None);
}

#[test]
fn autoscale_errors_point_at_the_value() {
    let cases = [
        // The metric is required, and decides the unit of the thresholds.
        (
            "autoscale:\n  scale_out_above: 1m\n",
            "t.yaml:10:3: autoscale.metric: missing required key",
        ),
        (
            "autoscale:\n  metric: iterator_age\n",
            "t.yaml:10:3: autoscale.scale_out_above: missing required key",
        ),
        (
            "autoscale: {metric: lag, scale_out_above: 1m}\n",
            "t.yaml:9:21: autoscale.metric: unknown value `lag` (allowed: iterator_age, write_utilisation)",
        ),
        // A threshold in the other metric's unit.
        (
            "autoscale: {metric: iterator_age, scale_out_above: 80%}\n",
            "t.yaml:9:52: autoscale.scale_out_above: `80%` is a percentage, but metric `iterator_age` is a duration (allowed: a duration above 0s, like 30s or 2m)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 1m}\n",
            "t.yaml:9:57: autoscale.scale_out_above: `1m` is a duration, but metric `write_utilisation` is a percentage (allowed: 1%..1000%)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 80%, scale_in_below: 30s}\n",
            "t.yaml:9:78: autoscale.scale_in_below: `30s` is a duration, but metric `write_utilisation` is a percentage (allowed: 1%..1000%)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 80}\n",
            "t.yaml:9:57: autoscale.scale_out_above: `80` is not a percentage like 0.1%, 30% or 100% (the `%` sign is missing)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 60}\n",
            "t.yaml:9:52: autoscale.scale_out_above: `60` has no unit (expected a duration like 250ms, 90s, 1h30m or 7d; e.g. `60s` for seconds)",
        ),
        // Out of range.
        (
            "autoscale: {metric: iterator_age, scale_out_above: 0s}\n",
            "t.yaml:9:52: autoscale.scale_out_above: must be longer than 0s (allowed: a duration above 0s, like 30s or 2m)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 0.5ms}\n",
            "t.yaml:9:52: autoscale.scale_out_above: `0.5ms` is not a whole number of milliseconds (allowed: a duration above 0s, like 30s or 2m)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 0.5%}\n",
            "t.yaml:9:57: autoscale.scale_out_above: 0.5% is out of range (allowed: 1%..1000%)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 1001%}\n",
            "t.yaml:9:57: autoscale.scale_out_above: 1001% is out of range (allowed: 1%..1000%)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, period: 0s}\n",
            "t.yaml:9:64: autoscale.period: 0s is out of range (allowed: 1s..=1d)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, periods: 0}\n",
            "t.yaml:9:65: autoscale.periods: 0 is out of range (allowed: 1..=1440)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, periods: 1441}\n",
            "t.yaml:9:65: autoscale.periods: 1441 is out of range (allowed: 1..=1440)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, cooldown: 7d1s}\n",
            "t.yaml:9:66: autoscale.cooldown: 7d1s is out of range (allowed: 0s..=7d)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, min_shards: 0}\n",
            "t.yaml:9:68: autoscale.min_shards: 0 is out of range (allowed: 1..=10000)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, max_shards: 10001}\n",
            "t.yaml:9:68: autoscale.max_shards: 10001 is out of range (allowed: 1..=10000)",
        ),
        // Cross-field.
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, scale_in_below: 2m}\n",
            "t.yaml:9:72: autoscale.scale_in_below: scale_in_below (2m) must be below scale_out_above (1m)",
        ),
        (
            "autoscale: {metric: write_utilisation, scale_out_above: 80%, scale_in_below: 80%}\n",
            "t.yaml:9:78: autoscale.scale_in_below: scale_in_below (80%) must be below scale_out_above (80%)",
        ),
        (
            "autoscale: {metric: iterator_age, scale_out_above: 1m, min_shards: 4, max_shards: 2}\n",
            "t.yaml:9:83: autoscale.max_shards: max_shards (2) is below min_shards (4)",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(errs(&with(extra)), vec![want.to_owned()], "for {extra:?}");
    }
}

#[test]
fn autoscale_shape_errors_and_unknown_keys() {
    // An unknown key gets a hint, and the required key it was meant to be is still missing.
    let lines = errs(&with(
        "autoscale:\n  metric: iterator_age\n  scaleOutAbove: 1m\n",
    ));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0],
        "t.yaml:10:3: autoscale.scale_out_above: missing required key"
    );
    assert_eq!(
        lines[1],
        "t.yaml:11:3: autoscale.scaleOutAbove: unknown key `scaleOutAbove` (did you mean `scale_out_above`?) (allowed: metric, scale_out_above, scale_in_below, period, periods, cooldown, min_shards, max_shards)"
    );
    // design.md's placeholder `{policy: target-tracking}` is not an autoscale block.
    let lines = errs(&with("autoscale: {policy: target-tracking}\n"));
    assert_eq!(
        lines,
        vec![
            "t.yaml:9:12: autoscale.metric: missing required key",
            "t.yaml:9:12: autoscale.scale_out_above: missing required key",
            "t.yaml:9:13: autoscale.policy: unknown key `policy` (allowed: metric, scale_out_above, scale_in_below, period, periods, cooldown, min_shards, max_shards)",
        ]
    );
    one_err(
        &with("autoscale: true\n"),
        "t.yaml:9:12: autoscale: expected a mapping, found boolean `true` (allowed: a mapping with keys metric, scale_out_above,",
    );
    // With no usable metric the thresholds are still read for what they are.
    let lines = errs(&with(
        "autoscale: {metric: lag, scale_out_above: 1m, scale_in_below: fast}\n",
    ));
    assert_eq!(
        lines,
        vec![
            "t.yaml:9:21: autoscale.metric: unknown value `lag` (allowed: iterator_age, write_utilisation)",
            "t.yaml:9:63: autoscale.scale_in_below: `fast` is neither a duration nor a percentage (allowed: a duration for iterator_age, a percentage for write_utilisation)",
        ]
    );
}

#[test]
fn autoscale_problems_are_all_reported_in_file_order() {
    let text = with(
        "autoscale:\n  metric: iterator_age\n  scale_out_above: 80%\n  scale_in_below: 0s\n  period: 2d\n  periods: 0\n  cooldown: 8d\n  min_shards: 0\n  max_shards: 20000\nsimulation:\n  on_demand_split_after: 2d\n",
    );
    assert_eq!(
        errs(&text),
        vec![
            "t.yaml:11:20: autoscale.scale_out_above: `80%` is a percentage, but metric `iterator_age` is a duration (allowed: a duration above 0s, like 30s or 2m)",
            "t.yaml:12:19: autoscale.scale_in_below: must be longer than 0s (allowed: a duration above 0s, like 30s or 2m)",
            "t.yaml:13:11: autoscale.period: 2d is out of range (allowed: 1s..=1d)",
            "t.yaml:14:12: autoscale.periods: 0 is out of range (allowed: 1..=1440)",
            "t.yaml:15:13: autoscale.cooldown: 8d is out of range (allowed: 0s..=7d)",
            "t.yaml:16:15: autoscale.min_shards: 0 is out of range (allowed: 1..=10000)",
            "t.yaml:17:15: autoscale.max_shards: 20000 is out of range (allowed: 1..=10000)",
            "t.yaml:19:26: simulation.on_demand_split_after: 2d is out of range (allowed: 0s..=1d)",
        ]
    );
}

#[test]
fn autoscale_is_refused_on_an_on_demand_stream() {
    const WHY: &str = "autoscale calls UpdateShardCount, which AWS refuses on an ON_DEMAND stream: it scales itself (allowed: stream.mode PROVISIONED, or no autoscale)";
    let text = "name: t\nduration: 1h\nstream: {shards: 2, mode: ON_DEMAND}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\nautoscale:\n  metric: iterator_age\n  scale_out_above: 1m\n";
    assert_eq!(errs(text), vec![format!("t.yaml:7:3: autoscale: {WHY}")]);
    let text = "name: t\nduration: 1h\nstream: {shards: 2, StreamModeDetails: {StreamMode: ON_DEMAND}}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\nautoscale: {metric: write_utilisation, scale_out_above: 80%}\n";
    assert_eq!(errs(text), vec![format!("t.yaml:6:12: autoscale: {WHY}")]);
}

#[test]
fn on_demand_split_after_default_and_explicit() {
    assert_eq!(
        ok(MIN).simulation.on_demand_split_after,
        SimDuration::from_secs(15 * 60)
    );
    let s = ok(&with("simulation: {on_demand_split_after: 5m}\n"));
    assert_eq!(
        s.simulation.on_demand_split_after,
        SimDuration::from_secs(300)
    );
    let s = ok(&with("simulation: {on_demand_split_after: 0s}\n"));
    assert_eq!(s.simulation.on_demand_split_after, SimDuration::ZERO);
    let s = ok(&with("simulation: {on_demand_split_after: 1d}\n"));
    assert_eq!(
        s.simulation.on_demand_split_after,
        SimDuration::from_hours(24)
    );
    assert_eq!(
        errs(&with("simulation: {on_demand_split_after: 24h1s}\n")),
        vec![
            "t.yaml:9:37: simulation.on_demand_split_after: 1d1s is out of range (allowed: 0s..=1d)"
        ]
    );
    one_err(
        &with("simulation: {on_demand_split_after: 15}\n"),
        "t.yaml:9:37: simulation.on_demand_split_after: `15` has no unit",
    );
}

#[test]
fn variants_add_change_and_remove_autoscale() {
    let text = with(
        "variants:\n  - name: scaled\n    autoscale: {metric: iterator_age, scale_out_above: 30s, max_shards: 8}\n  - name: plain\n",
    );
    let l = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.base.autoscale, None);
    assert_eq!(l.variant("plain").unwrap().autoscale, None);
    let a = l.variant("scaled").unwrap().autoscale.unwrap();
    assert_eq!(
        (a.metric, a.scale_out_above, a.max_shards, a.periods),
        (AutoscaleMetric::IteratorAge, 30_000, 8, 1)
    );
    assert!(l.variant("scaled").unwrap().not_simulated.is_empty());

    // Over a base block: keys merge, `null` removes the block.
    let text = with(
        "autoscale: {metric: iterator_age, scale_out_above: 1m}\nvariants:\n  - name: off\n    autoscale: null\n  - name: tighter\n    autoscale: {scale_out_above: 10s, scale_in_below: 1s}\n  - name: on-demand\n    stream: {mode: ON_DEMAND}\n    autoscale: null\n",
    );
    let l = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        l.base.autoscale.as_ref().map(|a| a.scale_out_above),
        Some(60_000)
    );
    assert_eq!(l.variant("off").unwrap().autoscale, None);
    let a = l.variant("tighter").unwrap().autoscale.unwrap();
    assert_eq!((a.scale_out_above, a.scale_in_below), (10_000, Some(1_000)));
    assert_eq!(l.variant("on-demand").unwrap().autoscale, None);

    // A variant is checked like the base: its problems carry its prefix.
    let text = with(
        "autoscale: {metric: iterator_age, scale_out_above: 1m}\nvariants:\n  - name: on-demand\n    stream: {mode: ON_DEMAND}\n  - name: utilisation\n    autoscale: {metric: write_utilisation}\n",
    );
    assert_eq!(
        errs(&text),
        vec![
            "t.yaml:9:12: variants[0].autoscale: autoscale calls UpdateShardCount, which AWS refuses on an ON_DEMAND stream: it scales itself (allowed: stream.mode PROVISIONED, or no autoscale)",
            "t.yaml:9:52: variants[1].autoscale.scale_out_above: `1m` is a duration, but metric `write_utilisation` is a percentage (allowed: 1%..1000%)",
        ]
    );

    // `--set` goes through the same checks.
    let l = load_text(MIN).unwrap();
    let s = l
        .patched(
            None,
            &[
                ("autoscale.metric", "write_utilisation"),
                ("autoscale.scale_out_above", "75%"),
            ],
        )
        .unwrap();
    assert_eq!(s.autoscale.map(|a| a.scale_out_above), Some(750_000));
    let e = l
        .patched(None, &[("autoscale.metric", "iterator_age")])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("autoscale.scale_out_above: missing required key"),
        "{e}"
    );
}

// --- JSON ----------------------------------------------------------------------------

#[test]
fn json_files_are_read_with_positions_and_tabs() {
    let text = "{\n\t\"name\": \"t\",\n\t\"duration\": \"1h\",\n\t\"stream\": {\"shards\": 2},\n\t\"producers\": [{\"rate\": \"1/s\"}],\n\t\"event_source_mapping\": {\"StartingPosition\": \"LATEST\", \"BatchSize\": 20000}\n}\n";
    let e = parse_str(text, "t.json", true).unwrap_err().to_string();
    assert_eq!(
        e,
        "t.json:6:70: event_source_mapping.BatchSize: 20000 is out of range (allowed: 1..=10000)"
    );
    let ok_text = text.replace("20000", "200");
    assert_eq!(
        parse_str(&ok_text, "t.json", true)
            .unwrap()
            .base
            .mapping
            .batch_size,
        200
    );
}

// --- no input panics -----------------------------------------------------------------

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "name",
        "description",
        "seed",
        "duration",
        "stream",
        "shards",
        "ShardCount",
        "retention",
        "RetentionPeriodHours",
        "mode",
        "StreamModeDetails",
        "StreamMode",
        "consumer",
        "other_consumers",
        "max_record_size",
        "producers",
        "rate",
        "arrival",
        "record_size",
        "mean",
        "sigma",
        "partition_keys",
        "key_skew",
        "hot_key",
        "share",
        "start",
        "end",
        "changes",
        "at",
        "retry_rejected",
        "filter_pass",
        "records",
        "partition_key",
        "data",
        "repeat",
        "explicit_hash_key",
        "function",
        "memory",
        "MemorySize",
        "timeout",
        "Timeout",
        "architecture",
        "Architectures",
        "reserved_concurrency",
        "account_concurrency",
        "cold_start",
        "idle_ttl",
        "base",
        "per_record",
        "per_kib",
        "jitter",
        "behaviours",
        "poison",
        "shard",
        "effect",
        "respond",
        "times",
        "error_rate",
        "outage",
        "from",
        "to",
        "slowdown",
        "factor",
        "event_source_mapping",
        "StartingPosition",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError",
        "FunctionResponseTypes",
        "DestinationConfig",
        "OnFailure",
        "Destination",
        "Type",
        "FilterCriteria",
        "Filters",
        "Pattern",
        "TumblingWindowInSeconds",
        "Enabled",
        "EventSourceArn",
        "Stream",
        "StartingPositionTimestamp",
        "Tags",
        "Key",
        "Value",
        "KMSKeyArn",
        "MetricsConfig",
        "Metrics",
        "actions",
        "split",
        "merge",
        "update_shard_count",
        "update_mapping",
        "set_retention",
        "disable_mapping",
        "enable_mapping",
        "autoscale",
        "metric",
        "scale_out_above",
        "scale_in_below",
        "period",
        "periods",
        "cooldown",
        "min_shards",
        "max_shards",
        "simulation",
        "retry_backoff",
        "initial",
        "max",
        "lane_blocking",
        "start_time",
        "sample_every",
        "max_events",
        "on_demand_split_after",
        "variants",
        "expect",
        "Ref",
        "Fn::GetAtt",
    ];

    const SCALARS: &[&str] = &[
        "0",
        "1",
        "-1",
        "30",
        "20000",
        "99999999999999999999999",
        "1.5",
        "-0.0",
        "1e400",
        "true",
        "null",
        "~",
        "''",
        "1h",
        "0.1ms",
        "24h",
        "12h",
        "7d",
        "400/s",
        "5/min",
        "1KiB",
        "10MiB",
        "0.1%",
        "100%",
        "zipf:1.1",
        "uniform",
        "TRIM_HORIZON",
        "AT_TIMESTAMP",
        "LATEST",
        "!Ref X",
        "!GetAtt A.B",
        "arn:aws:sqs:us-east-1:1:q",
        "arn:aws:s3:::b",
        "shardId-000000000000",
        "2026-01-01T00:00:00Z",
        "error",
        "report_failure",
        "iterator_age",
        "write_utilisation",
        "\"x\\ty\"",
        "'{\"a\": 1}'",
        "é",
        "[]",
        "{}",
    ];

    fn value() -> impl Strategy<Value = String> {
        let leaf = proptest::sample::select(SCALARS).prop_map(str::to_owned);
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec((proptest::sample::select(KEYS), inner.clone()), 0..6)
                    .prop_map(|kv| {
                        let body: Vec<String> = kv
                            .into_iter()
                            .map(|(k, v)| format!("\"{k}\": {v}"))
                            .collect();
                        format!("{{{}}}", body.join(", "))
                    }),
                proptest::collection::vec(inner, 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
            ]
        })
    }

    fn document() -> impl Strategy<Value = String> {
        proptest::collection::vec((proptest::sample::select(KEYS), value()), 0..12).prop_map(|kv| {
            kv.into_iter()
                .map(|(k, v)| format!("{k}: {v}\n"))
                .collect::<String>()
        })
    }

    fn exercise(text: &str, json: bool) {
        if let Ok(l) = parse_str(text, "p.yaml", json) {
            for v in l.variant_names() {
                let _ = l.variant(&v);
            }
            let _ = l.patched(None, &[("event_source_mapping.BatchSize", text)]);
        } else if let Err(e) = parse_str(text, "p.yaml", json) {
            let _ = e.to_string();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            exercise(&text, false);
            exercise(&text, true);
        }

        #[test]
        fn yaml_made_of_real_keys_never_panics(doc in document()) {
            exercise(&doc, false);
        }

        #[test]
        fn the_design_example_mutated_never_panics(
            line in 0usize..40,
            value in proptest::sample::select(SCALARS),
        ) {
            // Replace the value of one line of a valid scenario with something else.
            let text = load("poison-pill").map(|l| l.source().to_owned()).unwrap_or_default();
            let mutated: String = text
                .lines()
                .enumerate()
                .map(|(i, l)| match (i == line, l.split_once(": ")) {
                    (true, Some((k, _))) => format!("{k}: {value}\n"),
                    _ => format!("{l}\n"),
                })
                .collect();
            exercise(&mutated, false);
        }
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_errors_not_crashes() {
        let deep = format!("name: {}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_str(&deep, "d.yaml", false).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                p = if i == 1 {
                    "a".to_string()
                } else {
                    format!("b{}", i - 1)
                }
            ));
        }
        assert!(parse_str(&bomb, "b.yaml", false).is_err());
    }
}

#[test]
fn every_not_simulated_setting_is_listed() {
    let text = "\
name: t
duration: 1h
stream: {shards: 2, consumer: enhanced_fan_out, other_consumers: 1, mode: ON_DEMAND}
producers:
  - {rate: 1/s, filter_pass: 50%, retry_rejected: true}
function:
  behaviours:
    - {poison: {partition_key: a}, effect: report_failure}
    - {poison: {partition_key: b}, effect: {respond: {}}}
event_source_mapping:
  StartingPosition: AT_TIMESTAMP
  StartingPositionTimestamp: 0
  TumblingWindowInSeconds: 60
  FilterCriteria: {Filters: [{Pattern: '{}'}]}
  DestinationConfig: {OnFailure: {Destination: 'arn:aws:s3:::b'}}
  FunctionResponseTypes: [ReportBatchItemFailures]
  BisectBatchOnFunctionError: true
  MaximumRetryAttempts: 3
  MaximumRecordAgeInSeconds: 60
  ParallelizationFactor: 2
  MetricsConfig: {Metrics: [EventCount]}
  KMSKeyArn: k
  Tags: {a: b}
actions: [{at: 1m, update_shard_count: 3}]
";
    let notes = ok(text).not_simulated;
    let want = [
        "function.behaviours[0].poison.partition_key on a rate producer's keys",
        "function.behaviours[1].poison.partition_key on a rate producer's keys",
        "event_source_mapping.MetricsConfig",
        "event_source_mapping.KMSKeyArn",
        "event_source_mapping.Tags",
    ];
    let want: Vec<String> = want
        .iter()
        .map(|w| format!("{w}: not simulated yet"))
        .collect();
    assert_eq!(notes, want);
}

#[test]
fn more_spelling_and_shape_errors() {
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1, retention: 48h, RetentionPeriodHours: 48}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:3:59: stream.RetentionPeriodHours: `retention` and `RetentionPeriodHours` are the same setting",
    );
    one_err(
        "name: t\nduration: 1h\nstream: {shards: 1, StreamModeDetails: {StreamMode: FAST}}\nproducers: [{rate: 1/s}]\nevent_source_mapping: {StartingPosition: LATEST}\n",
        "t.yaml:3:53: stream.StreamModeDetails.StreamMode: unknown value `FAST` (allowed: PROVISIONED, ON_DEMAND)",
    );
    // YAML 1.2 booleans only: `yes` is a string.
    one_err(
        &esm("Enabled: yes"),
        "t.yaml:9:12: event_source_mapping.Enabled: expected true or false, found string \"yes\"",
    );
    one_err(
        &with("function: {Architectures: [x86_64, arm64]}\n"),
        "t.yaml:9:27: function.Architectures: 2 architectures given (allowed: exactly one of x86_64, arm64)",
    );
    one_err(
        &with("simulation: {retry_backoff: {initial: 10s, max: 1s}}\n"),
        "t.yaml:9:49: simulation.retry_backoff.max: max (1s) is shorter than initial (10s)",
    );
    one_err(
        &with("simulation: {start_time: 2026-02-30T00:00:00Z}\n"),
        "t.yaml:9:26: simulation.start_time: `2026-02-30T00:00:00Z` is not an ISO-8601 time",
    );
    one_err(
        &with("variants: {a: 1}\n"),
        "t.yaml:9:11: variants: expected a list of variants",
    );
}

#[test]
fn prices_default_to_r_cost_1_and_each_can_be_set() {
    assert_eq!(ok(MIN).prices, Prices::default());
    let s = ok(&with(
        "prices: {shard_hour: 0.03, lambda_per_million_requests: 0}\n",
    ));
    assert_eq!(s.prices.shard_hour, 0.03);
    assert_eq!(s.prices.lambda_per_million_requests, 0.0);
    assert_eq!(
        s.prices.per_million_put_units,
        Prices::default().per_million_put_units
    );
}

#[test]
fn a_price_below_zero_or_a_wrong_key_is_an_error_at_its_place() {
    let e = one_err(&with("prices: {shard_hour: -1}\n"), "t.yaml");
    assert!(
        e.contains("prices.shard_hour: -1 is not a price (allowed: an amount of USD, 0 or more"),
        "{e}"
    );
    let e = one_err(&with("prices: {shard_hours: 1}\n"), "t.yaml");
    assert!(e.contains("prices") && e.contains("shard_hours"), "{e}");
}
