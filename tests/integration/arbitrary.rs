//! Random scenarios for the invariant properties: every value stays inside the ranges the
//! validator enforces (scenario/types.rs), and every run stays small enough to simulate in
//! a debug build in milliseconds.
//!
//! Runs are real simulations, so their cost is bounded here rather than hoped for: the
//! traffic is capped so that a run sends at most about [`INVOCATION_BUDGET`] batches, retry
//! backoff never settles below 1 s, and the few runs that cross the 24 h retention do so at
//! a trickle (1 to 5 records/s) on one or two shards.

use kinesim::scenario::*;
use kinesim::time::{SimDuration, SimTime};
use proptest::prelude::*;

use crate::support::base;

/// About this many batches at most per run, whatever the batch size (records / BatchSize).
pub const INVOCATION_BUDGET: u64 = 30_000;
/// Total records per second across a short run's producers.
const MAX_TOTAL_RATE: u64 = 1_500;
/// Total records per second across a run that crosses retention.
const MAX_LONG_RATE: u64 = 5;

const US_PER_MS: u64 = 1_000;
const URPS: u64 = 1_000_000;

fn t_ms(ms: u64) -> SimTime {
    SimTime(ms * US_PER_MS)
}

fn d_ms(ms: u64) -> SimDuration {
    SimDuration(ms * US_PER_MS)
}

/// The run's length in ms, and whether it crosses the 24 h retention. Mostly 1 to 30 min;
/// a few seconds-long runs; one in eight from 25 h to 26 h.
fn arb_length() -> impl Strategy<Value = (u64, bool)> {
    prop_oneof![
        2 => (5_000u64..=60_000).prop_map(|d| (d, false)),
        12 => (60_000u64..=1_800_000).prop_map(|d| (d, false)),
        2 => (90_000_000u64..=93_600_000).prop_map(|d| (d, true)),
    ]
}

/// BatchSize 1..=10000, weighted to the sizes people use.
fn arb_batch_size() -> impl Strategy<Value = u32> {
    prop_oneof![
        1 => 1u32..=10,
        3 => 10u32..=500,
        1 => 500u32..=10_000,
        1 => Just(10_000u32),
    ]
}

/// A time inside `[0, dur_ms)` in ms, or a window `[from, to)` inside the run.
fn arb_window(dur_ms: u64) -> impl Strategy<Value = (SimTime, SimTime)> {
    (0..dur_ms, 0..dur_ms).prop_map(move |(a, b)| {
        let (from, to) = (a.min(b), a.max(b));
        (t_ms(from), t_ms(to.max(from + 1)))
    })
}

fn arb_record_size() -> impl Strategy<Value = RecordSize> {
    prop_oneof![
        4 => (1u64..=2_048).prop_map(RecordSize::Fixed),
        1 => (1u64..=65_536).prop_map(RecordSize::Fixed),
        2 => (1u64..=65_536, 0.0f64..=2.0)
            .prop_map(|(mean, sigma)| RecordSize::LogNormal { mean, sigma }),
    ]
}

fn arb_key_skew() -> impl Strategy<Value = KeySkew> {
    prop_oneof![
        3 => Just(KeySkew::Uniform),
        1 => (0.1f64..=3.0).prop_map(KeySkew::Zipf),
        1 => (prop_oneof![Just("hot".to_string()), "[a-z0-9-]{1,20}"], 0u32..=PPM_ONE)
            .prop_map(|(key, share)| KeySkew::HotKey { key, share }),
    ]
}

/// A rate producer of at most `max_urps` micro-records/s, active inside `[0, dur_ms]`.
/// In a run that crosses retention it mostly writes for a while in the first hours only:
/// enough to fill what retention will trim, without a day of one batch per second.
fn arb_rate_producer(
    dur_ms: u64,
    long: bool,
    max_urps: u64,
) -> impl Strategy<Value = ProducerKind> {
    let start_end = if long {
        prop_oneof![
            1 => Just((0, dur_ms)),
            3 => (0u64..1_800_000, 600_000u64..=10_800_000)
                .prop_map(move |(s, len)| (s, (s + len).min(dur_ms))),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just((0, dur_ms)),
            1 => (0..dur_ms, 0..=dur_ms).prop_map(move |(a, b)| {
                let (s, e) = (a.min(b), a.max(b));
                (s, e.max(s + 1).min(dur_ms))
            }),
        ]
        .boxed()
    };
    let rate = prop_oneof![1 => Just(0u64), 9 => 0..=max_urps];
    (
        rate,
        prop_oneof![Just(Arrival::Uniform), Just(Arrival::Poisson)],
        arb_record_size(),
        prop_oneof![2 => 1u64..=100, 1 => 1u64..=5_000],
        arb_key_skew(),
        start_end,
        prop::collection::vec((0u64..1_000, 0..=max_urps), 0..=2),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            move |(rate_urps, arrival, record_size, keys, key_skew, (s, e), ch, retry)| {
                let (start, end) = (t_ms(s), t_ms(e));
                // Changes at permilles of the producer's time, strictly increasing.
                let mut changes: Vec<RateChange> = ch
                    .into_iter()
                    .map(|(permille, rate_urps)| RateChange {
                        at: SimTime(start.0 + (end.0 - start.0) * permille / 1_000),
                        rate_urps,
                    })
                    .collect();
                changes.sort_by_key(|c| c.at);
                changes.dedup_by_key(|c| c.at);
                ProducerKind::Rate(RateProducer {
                    rate_urps,
                    arrival,
                    record_size,
                    partition_keys: keys,
                    key_skew,
                    start,
                    end,
                    changes,
                    retry_rejected: retry,
                    filter_pass: PPM_ONE,
                })
            },
        )
}

/// Up to 20 scripted records (with repeats) inside the run.
fn arb_scripted(dur_ms: u64) -> impl Strategy<Value = ProducerKind> {
    let key = prop_oneof![
        4 => (0u32..1_000).prop_map(|i| format!("k{i}")),
        1 => "[a-zA-Z0-9]{1,256}",
    ];
    let record = (
        0..dur_ms,
        key,
        "[a-z0-9 ]{0,200}",
        prop_oneof![4 => 1u64..=5, 1 => 1u64..=2_000],
        prop::option::weighted(0.1, any::<u128>()),
    )
        .prop_map(
            |(at, partition_key, data, repeat, explicit_hash_key)| ScriptedRecord {
                at: t_ms(at),
                partition_key,
                data: data.into_bytes(),
                repeat,
                explicit_hash_key,
            },
        );
    prop::collection::vec(record, 1..=20).prop_map(|mut records| {
        records.sort_by_key(|r| r.at);
        ProducerKind::Scripted(records)
    })
}

/// 1 to 3 producers sharing at most `max_total_urps`.
fn arb_producers(
    dur_ms: u64,
    long: bool,
    max_total_urps: u64,
) -> impl Strategy<Value = Vec<ProducerSpec>> {
    (1usize..=3).prop_flat_map(move |n| {
        let each = max_total_urps / n as u64;
        let one = prop_oneof![
            3 => arb_rate_producer(dur_ms, long, each),
            1 => arb_scripted(dur_ms),
        ];
        prop::collection::vec(one, n).prop_map(|kinds| {
            kinds
                .into_iter()
                .enumerate()
                .map(|(i, kind)| ProducerSpec {
                    name: format!("p{i}"),
                    kind,
                })
                .collect()
        })
    })
}

fn arb_effect() -> impl Strategy<Value = Effect> {
    prop_oneof![Just(Effect::Error), Just(Effect::Timeout)]
}

/// A poison record: the first written at or after a time, in a given shard or any. Half
/// come in the first 10 minutes, so that a long run's blocked shard meets retention.
pub fn arb_poison(dur_ms: u64, shards: u32) -> impl Strategy<Value = Behaviour> {
    (
        prop::option::of(0..shards),
        prop_oneof![0..dur_ms, 0..dur_ms.min(600_000)],
        arb_effect(),
        prop::option::weighted(0.3, 1u32..=10),
    )
        .prop_map(|(shard, at, effect, times)| Behaviour::Poison {
            target: PoisonTarget::FirstAt {
                shard,
                at: t_ms(at),
            },
            effect,
            times,
        })
}

fn arb_behaviour(dur_ms: u64, shards: u32) -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        4 => arb_poison(dur_ms, shards),
        1 => (0u32..=200_000).prop_map(Behaviour::ErrorRate),
        1 => arb_window(dur_ms).prop_map(|(from, to)| Behaviour::Outage { from, to }),
        1 => (arb_window(dur_ms), 100_000u64..=10_000_000).prop_map(|((from, to), factor_ppm)| {
            Behaviour::Slowdown { from, to, factor_ppm }
        }),
    ]
}

/// (reserved concurrency, account concurrency): reserved at most account − 100.
fn arb_concurrency() -> impl Strategy<Value = (Option<u32>, u32)> {
    prop_oneof![
        6 => Just((None, 1_000)),
        1 => (1u32..=4).prop_map(|a| (None, a)),
        3 => (0u32..=4).prop_map(|r| (Some(r), 1_000)),
    ]
}

/// The function. A run that crosses retention gets, one time in two, a poison record that
/// never heals in its first ten minutes: its shard then waits for retention (R-ERR-6).
fn arb_function(dur_ms: u64, long: bool, shards: u32) -> impl Strategy<Value = FunctionSpec> {
    let blocker = (0..shards, 0..dur_ms.min(600_000), arb_effect()).prop_map(|(n, at, effect)| {
        Behaviour::Poison {
            target: PoisonTarget::FirstAt {
                shard: Some(n),
                at: t_ms(at),
            },
            effect,
            times: None,
        }
    });
    let small_us = |max: u64| prop_oneof![1 => Just(0u64), 3 => 0..=max];
    (
        128u32..=10_240,
        1u64..=60,
        arb_concurrency(),
        (
            small_us(2_000_000),
            small_us(5_000),
            small_us(2_000),
            prop_oneof![1 => Just(0u32), 1 => 0u32..=500_000],
        ),
        prop_oneof![1 => Just(0u64), 1 => 0u64..=2_000],
        1u64..=1_800,
        prop::collection::vec(arb_behaviour(dur_ms, shards), 0..=3),
        if long {
            prop::option::weighted(0.5, blocker).boxed()
        } else {
            Just(None).boxed()
        },
    )
        .prop_map(
            |(
                memory_mb,
                timeout_s,
                (reserved, account),
                (b, r, k, jitter),
                cold,
                ttl,
                mut behaviours,
                blocker,
            )| {
                behaviours.extend(blocker);
                FunctionSpec {
                    name: "function".into(),
                    memory_mb,
                    timeout: SimDuration::from_secs(timeout_s),
                    architecture: Architecture::X86_64,
                    reserved_concurrency: reserved,
                    account_concurrency: account,
                    cold_start: d_ms(cold),
                    idle_ttl: SimDuration::from_secs(ttl),
                    duration: DurationModel {
                        base: SimDuration(b),
                        per_record: SimDuration(r),
                        per_kib: SimDuration(k),
                        jitter,
                    },
                    behaviours,
                }
            },
        )
}

/// A valid random scenario (see the module docs for its bounds).
pub fn arb_scenario() -> impl Strategy<Value = Scenario> {
    (arb_length(), 1u32..=4, arb_batch_size()).prop_flat_map(|((dur_ms, long), shards, batch)| {
        let shards = if long { shards.min(2) } else { shards };
        let dur_s = dur_ms.div_ceil(1_000);
        let max_total_urps = if long {
            MAX_LONG_RATE * URPS
        } else {
            (INVOCATION_BUDGET * u64::from(batch) / dur_s).clamp(1, MAX_TOTAL_RATE) * URPS
        };
        (
            any::<u64>(),
            arb_producers(dur_ms, long, max_total_urps),
            arb_function(dur_ms, long, shards),
            prop_oneof![2 => Just(0u64), 1 => 0u64..=60],
            prop_oneof![
                3 => Just(StartingPosition::TrimHorizon),
                1 => Just(StartingPosition::Latest)
            ],
            (1_000u64..=60_000, 10u64..=5_000),
            prop_oneof![2 => Just(0u64), 1 => 0u64..=120_000],
        )
            .prop_map(
                move |(seed, producers, function, window_s, start, (max, init), delay)| {
                    let mut s = base("prop", shards, d_ms(dur_ms));
                    s.seed = seed;
                    s.producers = producers;
                    s.function = function;
                    s.mapping.batch_size = batch;
                    s.mapping.batching_window = SimDuration::from_secs(window_s);
                    s.mapping.starting_position = start;
                    s.simulation.retry_backoff_initial = d_ms(init.min(max));
                    s.simulation.retry_backoff_max = d_ms(max);
                    s.simulation.mapping_start_delay = d_ms(delay);
                    s
                },
            )
    })
}
