//! Running each shard on its own between global events (`World::run` when
//! `shards_independent`) is the same run as handling every event one by one
//! (`World::step`): same summary, same time series, same event count. Checked on every
//! built-in scenario and variant, and on random scenarios.

use kinesim::engine::LimitHit;
use kinesim::scenario::{Scenario, builtin, load};
use kinesim::time::SimDuration;
use kinesim::{Outputs, RunError, World};
use proptest::prelude::*;

use crate::arbitrary::arb_scenario;

/// The summary JSON and the time series of `s`, run one way or the other.
fn outcome(s: &Scenario, alone: bool) -> (String, String) {
    let outputs = Outputs {
        timeseries: true,
        ..Outputs::default()
    };
    let mut world = World::new(s, outputs);
    if alone {
        world.run().expect("runs");
    } else {
        while world.step().expect("runs").is_some() {}
        world.finish().expect("finishes");
    }
    let summary = kinesim::Summary::of(&world, None);
    let json = serde_json::to_string(&summary).unwrap();
    (json, format!("{:?}", world.timeseries()))
}

fn independent(s: &Scenario) -> bool {
    World::new(s, Outputs::default()).shards_independent()
}

/// Runs the scenario `yaml` (named `file`) both ways, requires its shards to be
/// independent and the two outcomes equal, and returns the summary.
fn runs_the_same_alone(yaml: &str, file: &str) -> serde_json::Value {
    let s = kinesim::scenario::parse_str(yaml, file, false)
        .expect("the scenario is valid")
        .base;
    assert!(independent(&s));
    let (one_by_one, series) = outcome(&s, false);
    assert_eq!((one_by_one.clone(), series), outcome(&s, true));
    serde_json::from_str(&one_by_one).unwrap()
}

#[test]
fn every_builtin_runs_the_same_with_shards_alone() {
    let mut alone = 0;
    for name in builtin::names() {
        let loaded = load(name).expect("built-in loads");
        let mut runs = vec![(name.to_string(), loaded.base.clone())];
        for v in loaded.variant_names() {
            runs.push((format!("{name}/{v}"), loaded.variant(&v).expect("variant")));
        }
        for (label, mut s) in runs {
            // A few simulated hours are enough to cover every mechanism a built-in shows.
            s.duration = s.duration.min(SimDuration::from_secs(6 * 3600));
            if independent(&s) {
                alone += 1;
            }
            assert_eq!(outcome(&s, false), outcome(&s, true), "{label}");
        }
    }
    // The check means something only if most runs take the other path.
    assert!(
        alone >= 20,
        "only {alone} built-in runs have independent shards"
    );
}

#[test]
fn a_shared_function_pool_gives_the_same_cold_starts() {
    // Many shards, an idle TTL shorter than the gaps between their batches: environments
    // retire and come back cold all day long, so the pool's order matters.
    let mut s = load("steady").expect("built-in").base;
    s.stream.shards = 16;
    s.function.idle_ttl = SimDuration::from_millis(300);
    s.duration = SimDuration::from_secs(600);
    assert!(independent(&s));
    let (one_by_one, _) = outcome(&s, false);
    let (alone, _) = outcome(&s, true);
    assert_eq!(one_by_one, alone);
    let v: serde_json::Value = serde_json::from_str(&alone).unwrap();
    let cold = v["invocations"]["cold_starts"].as_u64().unwrap();
    assert!(
        cold > 100,
        "the pool should go cold often: {cold} cold starts"
    );
}

/// A lane that never fails but falls further behind each hour: a batch of one record
/// takes 15 s while a record comes every 10 s. Its reads stay under the GetRecords cap,
/// so it keeps to the steady path (`model::steady`) while its oldest records age past
/// MaximumRecordAgeInSeconds (`max_age`) or, over days, past the retention.
fn falling_behind(max_age: Option<u32>) -> Scenario {
    let age = max_age.map_or(String::new(), |a| {
        format!("  MaximumRecordAgeInSeconds: {a}\n")
    });
    let yaml = format!(
        "name: falling-behind
seed: 3
duration: 80h
stream: {{shards: 2, retention: 24h}}
producers:
  - name: p
    rate: 0.2/s
    arrival: uniform
    record_size: 100B
    partition_keys: 64
function:
  timeout: 60s
  duration: {{base: 15s}}
simulation:
  sample_every: 10min
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 1
{age}"
    );
    kinesim::scenario::parse_str(&yaml, "falling-behind.yaml", false)
        .expect("the scenario is valid")
        .base
}

#[test]
fn healthy_lanes_cut_by_retention_or_record_age_run_the_same_alone() {
    for (max_age, lost) in [(None, "expired"), (Some(600), "discarded")] {
        let s = falling_behind(max_age);
        assert!(independent(&s));
        let (one_by_one, series) = outcome(&s, false);
        assert_eq!(
            (one_by_one.clone(), series),
            outcome(&s, true),
            "{max_age:?}"
        );
        // The run must reach the cut it is about.
        let v: serde_json::Value = serde_json::from_str(&one_by_one).unwrap();
        let cut = v["records"][lost].as_u64().unwrap();
        assert!(cut > 1_000, "{max_age:?}: only {cut} records {lost}");
    }
}

#[test]
fn writes_refused_and_sent_again_run_the_same_alone() {
    // 1,500 records/s per shard for 20 s, then 800: the write limit refuses a third of
    // the first seconds, and the producer sends them again until they fit. While any
    // wait, the write ticks go one by one; once none does, they may go at once.
    let yaml = "name: refused
seed: 7
duration: 3m
stream: {shards: 2, retention: 24h}
producers:
  - name: p
    rate: 3000/s
    arrival: uniform
    record_size: 100B
    partition_keys: 1000
    retry_rejected: true
    changes:
      - {at: 20s, rate: 1600/s}
function:
  timeout: 60s
  duration: {base: 20ms, per_record: 0.01ms}
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 500
";
    let v = runs_the_same_alone(yaml, "refused.yaml");
    let rejected = v["records"]["rejected"].as_u64().unwrap();
    assert!(rejected > 100_000, "only {rejected} refusals");
}

#[test]
fn a_scripted_backlog_with_rare_samples_runs_the_same_alone() {
    // A script writes 900 records a second for 200 s, and a sample comes every 3 h,
    // while a slow function works through the backlog for 2.5 h: only the write ticks,
    // every second of the run, bound the shards' stretches (to a minute).
    let records: String = (0..200)
        .map(|t| format!("      - {{at: {t}s, partition_key: a, data: x, repeat: 900}}\n"))
        .collect();
    let yaml = format!(
        "name: quiet
seed: 3
duration: 4h
simulation: {{sample_every: 3h}}
stream: {{shards: 1, retention: 24h}}
producers:
  - name: script
    records:
{records}function:
  timeout: 60s
  idle_ttl: 2m
  duration: {{base: 5s}}
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 100
"
    );
    let v = runs_the_same_alone(&yaml, "quiet.yaml");
    // The backlog keeps the function busy for hours: a batch every 5 s.
    let invocations = v["invocations"]["total"].as_u64().unwrap();
    assert!(invocations > 2 * 3600 / 5, "only {invocations} invocations");
}

#[test]
fn a_plain_second_whose_last_batch_the_record_age_cuts_runs_the_same_alone() {
    // A poison record blocks the shard until MaximumRecordAgeInSeconds (60 s) discards
    // it; two records written meanwhile wait unread. The next poll reads them both, and
    // their batches (one record each, 0.4 s) would end within the second; but where they
    // were written in a window of 0.4 s, about a minute before, the second batch is cut
    // by the record age (R-ERR-4) when it is sent: that second is not a plain one. The
    // writing time goes across the window in steps of 0.1 s, wherever the poll falls.
    let mut cuts = 0;
    for tenth in 50..100 {
        let yaml = format!(
            "name: aged
seed: 5
duration: 90s
stream: {{shards: 1, retention: 24h}}
producers:
  - name: script
    records:
      - {{at: 0s, partition_key: a, data: poison}}
      - {{at: {}.{}s, partition_key: a, data: late, repeat: 2}}
function:
  timeout: 60s
  duration: {{base: 400ms}}
  behaviours:
    - poison: {{shard: 0, at: 0s}}
      effect: error
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 1
  MaximumRecordAgeInSeconds: 60
",
            tenth / 10,
            tenth % 10
        );
        let v = runs_the_same_alone(&yaml, "aged.yaml");
        let records = &v["records"];
        if records["delivered"] == 1 && records["discarded"] == 2 {
            cuts += 1;
        }
    }
    // The run must reach the case it is about: one of the two cut, the other delivered.
    assert!(
        cuts > 0,
        "no writing time puts the second batch past the record age"
    );
}

proptest! {
    #![proptest_config(crate::invariants::config(48))]

    /// Any scenario: those whose shards are coupled run one event at a time both ways.
    #[test]
    fn random_scenarios_run_the_same_with_shards_alone(s in arb_scenario()) {
        prop_assert_eq!(outcome(&s, false), outcome(&s, true));
    }

    /// Random scenarios made independent (no actions or autoscale, no cold-start delay,
    /// room for every lane), so that every case runs its shards alone.
    #[test]
    fn random_independent_scenarios_run_the_same_with_shards_alone(mut s in arb_scenario()) {
        s.actions.clear();
        s.autoscale = None;
        s.function.cold_start = SimDuration::ZERO;
        s.function.reserved_concurrency = None;
        s.function.account_concurrency = s.function.account_concurrency.max(
            s.stream.shards * s.mapping.parallelization_factor,
        );
        prop_assume!(independent(&s));
        prop_assert_eq!(outcome(&s, false), outcome(&s, true));
    }
}

/// How the run of `s` ends, one way or the other: whether an event limit stopped it,
/// and the events it handled.
fn ending(s: &Scenario, alone: bool) -> (bool, u64) {
    let mut world = World::new(s, Outputs::default());
    let result = if alone {
        world.run()
    } else {
        loop {
            match world.step() {
                Ok(Some(_)) => {}
                Ok(None) => break world.finish(),
                Err(e) => break Err(e),
            }
        }
    };
    let limited = match result {
        Ok(()) => false,
        Err(RunError::Limit(LimitHit::MaxEvents { .. })) => true,
        Err(e) => panic!("stopped by {e}"),
    };
    (limited, world.events())
}

#[test]
fn an_event_limit_stops_a_run_alone_at_the_limit() {
    // Healthy shards whose seconds are plain: `World::steady_run` counts a second's
    // events at once, having made sure of room for them. Alone, a shard works through a
    // stretch before the next one does, so the limit stops the run at another instant
    // than one by one; but at the same count, and only when the run needs more.
    let mut s = kinesim::scenario::parse_str(
        "name: limited
seed: 5
duration: 10m
stream: {shards: 3}
producers:
  - name: p
    rate: 2400/s
    arrival: uniform
    record_size: 1KiB
    partition_keys: 3000
function:
  duration: {base: 50ms, per_record: 0.1ms}
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 500
",
        "limited.yaml",
        false,
    )
    .expect("the scenario is valid")
    .base;
    assert!(independent(&s));
    let (_, all) = ending(&s, true);
    assert!(all > 5_000, "{all} events");
    for limit in [all / 3, all / 3 + 1, all / 2 + 2, all - 1, all] {
        s.simulation.max_events = limit;
        let expected = (limit < all, limit.min(all));
        assert_eq!(ending(&s, false), expected, "one by one, limit {limit}");
        assert_eq!(ending(&s, true), expected, "alone, limit {limit}");
    }
}

#[test]
fn a_plain_second_reuses_an_earlier_ones_batches_only_when_their_durations_hold() {
    // `plan_second` splits a second that reads as many records as one of the shard's
    // last two plain ones the same way, with the same durations: not across a slowdown
    // (durations depend on the time), nor across a change of run (here, of record size,
    // which the per-KiB duration sees; one shard, so that it reads as many records of
    // either size). Both change within a minute, where a stretch of shards running alone
    // (which starts with no second to reuse) cannot hide them.
    let base = "seed: 9
duration: 12m
event_source_mapping:
  StartingPosition: TRIM_HORIZON
  BatchSize: 300
";
    let slowed = format!(
        "name: slowed
{base}stream: {{shards: 2}}
producers:
  - {{name: p, rate: 1200/s, record_size: 1KiB, partition_keys: 400}}
function:
  duration: {{base: 40ms, per_record: 0.2ms}}
  behaviours:
    - slowdown: {{from: 210s, to: 7m, factor: 1.5}}
"
    );
    let resized = format!(
        "name: resized
{base}stream: {{shards: 1}}
producers:
  - {{name: small, rate: 600/s, record_size: 512B, partition_keys: 400, end: 330s}}
  - {{name: large, rate: 600/s, record_size: 1536B, partition_keys: 400, start: 330s}}
function:
  duration: {{base: 40ms, per_record: 0.2ms, per_kib: 0.05ms}}
"
    );
    for (yaml, file) in [(slowed, "slowed.yaml"), (resized, "resized.yaml")] {
        let v = runs_the_same_alone(&yaml, file);
        assert!(
            v["invocations"]["ok"].as_u64().unwrap() > 1_000,
            "{file}: {}",
            v["invocations"]
        );
    }
}
