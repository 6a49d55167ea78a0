//! Random scenarios for the invariant properties: every value stays inside the ranges the
//! validator enforces (scenario/types.rs), and every run stays small enough to simulate in
//! a debug build in milliseconds.
//!
//! Runs are real simulations, so their cost is bounded here rather than hoped for: the
//! traffic is capped so that a run sends at most about [`INVOCATION_BUDGET`] full batches,
//! retry backoff never settles below 1 s, and the few runs that cross the 24 h retention do
//! so at a trickle (at most 5 records/s, less for small batches) on one or two shards, with
//! a batching window of 10 s or more and a retry backoff that settles at 10 s or more: a
//! day of one batch a second would be 10^5 invocations, each a trace line.
//!
//! Every time is drawn as a fraction of the run (or of a stretch of it) and every rate as
//! a fraction of the run's budget, and the scenario is put together in one last step: the
//! strategy is a plain tuple, so proptest shrinks each part on its own (a shorter run, a
//! producer or behaviour fewer, a smaller batch) instead of redrawing everything after the
//! run's length changes.
//!
//! One case in three also mixes every setting of the error-handling work (see
//! [`ErrorHandlingDraft`]): ParallelizationFactor and lane blocking, retries, record age,
//! bisect, partial responses, an on-failure destination, filter patterns over typed
//! records and `filter_pass`, tumbling windows, and poisons that report failures or
//! answer with a fixed response. Those cases have no actions: a disable/enable re-reads
//! records by design (R-ORDER-3). [`arb_events_scenario`] draws only such cases, small
//! enough to keep every event the function gets.

use kinesim::scenario::*;
use kinesim::time::{SimDuration, SimTime};
use proptest::prelude::*;

use crate::support::base;

/// About this many batches at most per run, whatever the batch size (records / BatchSize).
pub const INVOCATION_BUDGET: u64 = 20_000;
/// Total records per second across a short run's producers.
const MAX_TOTAL_RATE: u64 = 1_500;
/// Total records per second across a run that crosses retention.
const MAX_LONG_RATE: u64 = 5;

const US_PER_MS: u64 = 1_000;
const URPS: u64 = 1_000_000;
/// Fractions are parts per million.
const FRAC_ONE: u64 = 1_000_000;

fn t_ms(ms: u64) -> SimTime {
    SimTime(ms * US_PER_MS)
}

fn d_ms(ms: u64) -> SimDuration {
    SimDuration(ms * US_PER_MS)
}

/// `frac` (ppm) of `len` (any unit), rounded down: below `len` unless `frac` is one.
fn part(len: u64, frac: u64) -> u64 {
    (u128::from(len) * u128::from(frac) / u128::from(FRAC_ONE)) as u64
}

fn arb_frac() -> impl Strategy<Value = u64> {
    0..FRAC_ONE
}

/// What the drafts need to know of the run to become scenario values.
#[derive(Clone, Copy, Debug)]
struct Frame {
    dur_ms: u64,
    long: bool,
    shards: u32,
}

impl Frame {
    /// A time in `[0, dur)`, in ms.
    fn at(&self, frac: u64) -> u64 {
        part(self.dur_ms, frac)
    }

    /// A window `[from, to)` inside the run, at least 1 ms long.
    fn window(&self, a: u64, b: u64) -> (SimTime, SimTime) {
        let (from, to) = (self.at(a.min(b)), self.at(a.max(b)));
        (t_ms(from), t_ms(to.max(from + 1).min(self.dur_ms)))
    }

    /// An early time: in the first 10 minutes (or the run, if shorter).
    fn early(&self, frac: u64) -> u64 {
        part(self.dur_ms.min(600_000), frac)
    }
}

/// The run's length in ms, and whether it crosses the 24 h retention. Mostly 1 to 30 min;
/// a few seconds-long runs; one in fifteen from 25 h to 26 h (each costs about a second
/// in a debug build: a day of polls and write ticks).
fn arb_length() -> impl Strategy<Value = (u64, bool)> {
    prop_oneof![
        2 => (5_000u64..=60_000).prop_map(|d| (d, false)),
        12 => (60_000u64..=1_800_000).prop_map(|d| (d, false)),
        1 => (90_000_000u64..=93_600_000).prop_map(|d| (d, true)),
    ]
}

/// BatchSize 1..=10000, weighted to the sizes people use.
fn arb_batch_size() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 10u32..=500,
        1 => 1u32..=10,
        1 => 500u32..=10_000,
        1 => Just(10_000u32),
    ]
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

/// When a rate producer writes.
#[derive(Clone, Debug)]
enum Span {
    /// The whole run.
    Whole,
    /// Two fractions: in a short run, the window between them; in a run that crosses
    /// retention, a start in the first 30 min and a length of 10 min to 3 h, enough to
    /// fill what retention will trim without a day of one batch a second.
    Part(u64, u64),
}

#[derive(Clone, Debug)]
struct RateDraft {
    /// Share of the run's rate budget (ppm), and the same for each change.
    rate: u64,
    arrival: Arrival,
    record_size: RecordSize,
    keys: u64,
    key_skew: KeySkew,
    span: Span,
    /// (when, as a fraction of the producer's time; rate share).
    changes: Vec<(u64, u64)>,
    retry_rejected: bool,
}

#[derive(Clone, Debug)]
enum ProducerDraft {
    Rate(RateDraft),
    /// Records at fractions of the run.
    Scripted(Vec<(u64, ScriptedRecord)>),
}

fn arb_rate_draft() -> impl Strategy<Value = ProducerDraft> {
    (
        prop_oneof![9 => arb_frac(), 1 => Just(0u64)],
        prop_oneof![Just(Arrival::Uniform), Just(Arrival::Poisson)],
        arb_record_size(),
        prop_oneof![2 => 1u64..=100, 1 => 1u64..=5_000],
        arb_key_skew(),
        prop_oneof![
            3 => Just(Span::Whole),
            1 => (arb_frac(), arb_frac()).prop_map(|(a, b)| Span::Part(a, b)),
        ],
        prop::collection::vec((0u64..1_000, arb_frac()), 0..=2),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(rate, arrival, record_size, keys, key_skew, span, changes, retry_rejected)| {
                ProducerDraft::Rate(RateDraft {
                    rate,
                    arrival,
                    record_size,
                    keys,
                    key_skew,
                    span,
                    changes,
                    retry_rejected,
                })
            },
        )
}

/// Up to 20 scripted records (with repeats).
fn arb_scripted_draft() -> impl Strategy<Value = ProducerDraft> {
    let key = prop_oneof![
        4 => (0u32..1_000).prop_map(|i| format!("k{i}")),
        1 => "[a-zA-Z0-9]{1,256}",
    ];
    let record = (
        arb_frac(),
        key,
        "[a-z0-9 ]{0,200}",
        prop_oneof![4 => 1u64..=5, 1 => 1u64..=2_000],
        prop::option::weighted(0.1, any::<u128>()),
    )
        .prop_map(|(at, partition_key, data, repeat, explicit_hash_key)| {
            let record = ScriptedRecord {
                at: SimTime::ZERO,
                partition_key,
                data: data.into_bytes(),
                repeat,
                explicit_hash_key,
            };
            (at, record)
        });
    prop::collection::vec(record, 1..=20).prop_map(ProducerDraft::Scripted)
}

impl ProducerDraft {
    /// The producer, with its rates shares of `max_urps`.
    fn build(self, f: Frame, max_urps: u64) -> ProducerKind {
        match self {
            ProducerDraft::Scripted(records) => {
                let mut records: Vec<ScriptedRecord> = records
                    .into_iter()
                    .map(|(at, r)| ScriptedRecord {
                        at: t_ms(f.at(at)),
                        ..r
                    })
                    .collect();
                records.sort_by_key(|r| r.at);
                ProducerKind::Scripted(records)
            }
            ProducerDraft::Rate(d) => {
                let (s, e) = match d.span {
                    Span::Whole => (0, f.dur_ms),
                    Span::Part(a, b) if f.long => {
                        let s = part(1_800_000, a);
                        (s, (s + 600_000 + part(10_200_000, b)).min(f.dur_ms))
                    }
                    Span::Part(a, b) => {
                        let (s, e) = (f.at(a.min(b)), f.at(a.max(b)));
                        (s, e.max(s + 1).min(f.dur_ms))
                    }
                };
                let (start, end) = (t_ms(s), t_ms(e));
                // Changes at permilles of the producer's time, strictly increasing.
                let mut changes: Vec<RateChange> = d
                    .changes
                    .into_iter()
                    .map(|(permille, rate)| RateChange {
                        at: SimTime(start.0 + (end.0 - start.0) * permille / 1_000),
                        rate_urps: part(max_urps, rate),
                    })
                    .collect();
                changes.sort_by_key(|c| c.at);
                changes.dedup_by_key(|c| c.at);
                ProducerKind::Rate(RateProducer {
                    rate_urps: part(max_urps, d.rate),
                    arrival: d.arrival,
                    record_size: d.record_size,
                    partition_keys: d.keys,
                    key_skew: d.key_skew,
                    start,
                    end,
                    changes,
                    retry_rejected: d.retry_rejected,
                    filter_pass: PPM_ONE,
                })
            }
        }
    }
}

/// 1 to 3 producers (a plain vector, so that shrinking can drop one).
fn arb_producer_drafts() -> impl Strategy<Value = Vec<ProducerDraft>> {
    let one = prop_oneof![3 => arb_rate_draft(), 1 => arb_scripted_draft()];
    prop::collection::vec(one, 1..=3)
}

/// The producers, each drawn up to the whole budget of `max_total_urps`, then scaled down
/// together if their peaks add up to more.
fn build_producers(drafts: Vec<ProducerDraft>, f: Frame, max_total_urps: u64) -> Vec<ProducerSpec> {
    let mut kinds: Vec<ProducerKind> = drafts
        .into_iter()
        .map(|d| d.build(f, max_total_urps))
        .collect();
    let peak = |k: &ProducerKind| match k {
        ProducerKind::Rate(r) => r
            .changes
            .iter()
            .map(|c| c.rate_urps)
            .fold(r.rate_urps, u64::max),
        ProducerKind::Scripted(_) => 0,
    };
    let total: u64 = kinds.iter().map(peak).sum();
    if total > max_total_urps {
        let scale = |x: &mut u64| {
            *x = (u128::from(*x) * u128::from(max_total_urps) / u128::from(total)) as u64
        };
        for k in &mut kinds {
            if let ProducerKind::Rate(r) = k {
                scale(&mut r.rate_urps);
                r.changes.iter_mut().for_each(|c| scale(&mut c.rate_urps));
            }
        }
    }
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| ProducerSpec {
            name: format!("p{i}"),
            kind,
        })
        .collect()
}

/// When a poison's record is written at or after.
#[derive(Clone, Copy, Debug)]
pub enum When {
    /// In the first 10 minutes, so that a long run's blocked shard meets retention.
    Early(u64),
    Any(u64),
}

/// A poison record: the first written at or after a time, in a given shard (an index
/// reduced modulo the shard count) or any.
#[derive(Clone, Debug)]
pub struct PoisonDraft {
    pub shard: Option<u32>,
    pub when: When,
    pub effect: Effect,
    pub times: Option<u32>,
}

impl PoisonDraft {
    fn build(&self, f: Frame) -> Behaviour {
        let at = match self.when {
            When::Early(x) => f.early(x),
            When::Any(x) => f.at(x),
        };
        Behaviour::Poison {
            target: PoisonTarget::FirstAt {
                shard: self.shard.map(|n| n % f.shards),
                at: t_ms(at),
            },
            effect: self.effect.clone(),
            times: self.times,
        }
    }

    /// The poison in `s`'s terms.
    pub fn for_scenario(&self, s: &Scenario) -> Behaviour {
        self.build(Frame {
            dur_ms: s.duration.as_millis(),
            long: false,
            shards: s.stream.shards,
        })
    }
}

pub fn arb_poison() -> impl Strategy<Value = PoisonDraft> {
    (
        prop::option::of(0u32..4),
        prop_oneof![
            arb_frac().prop_map(When::Early),
            arb_frac().prop_map(When::Any)
        ],
        prop_oneof![
            6 => Just(Effect::Error),
            3 => Just(Effect::Timeout),
            1 => Just(Effect::ReportFailure),
            1 => arb_response().prop_map(Effect::Respond),
        ],
        prop::option::weighted(0.3, 1u32..=10),
    )
        .prop_map(|(shard, when, effect, times)| PoisonDraft {
            shard,
            when,
            effect,
            times,
        })
}

#[derive(Clone, Debug)]
enum BehaviourDraft {
    Poison(PoisonDraft),
    ErrorRate(u32),
    Outage(u64, u64),
    Slowdown(u64, u64, u64),
}

impl BehaviourDraft {
    fn build(&self, f: Frame) -> Behaviour {
        match self {
            BehaviourDraft::Poison(p) => p.build(f),
            BehaviourDraft::ErrorRate(p) => Behaviour::ErrorRate(*p),
            BehaviourDraft::Outage(a, b) => {
                let (from, to) = f.window(*a, *b);
                Behaviour::Outage { from, to }
            }
            BehaviourDraft::Slowdown(a, b, factor_ppm) => {
                let (from, to) = f.window(*a, *b);
                Behaviour::Slowdown {
                    from,
                    to,
                    factor_ppm: *factor_ppm,
                }
            }
        }
    }
}

fn arb_behaviour() -> impl Strategy<Value = BehaviourDraft> {
    prop_oneof![
        4 => arb_poison().prop_map(BehaviourDraft::Poison),
        1 => (0u32..=200_000).prop_map(BehaviourDraft::ErrorRate),
        1 => (arb_frac(), arb_frac()).prop_map(|(a, b)| BehaviourDraft::Outage(a, b)),
        1 => (arb_frac(), arb_frac(), 100_000u64..=10_000_000)
            .prop_map(|(a, b, f)| BehaviourDraft::Slowdown(a, b, f)),
    ]
}

/// (reserved concurrency, account concurrency): reserved at most account − 100.
fn arb_concurrency() -> impl Strategy<Value = (Option<u32>, u32)> {
    prop_oneof![
        6 => Just((None, 1_000)),
        3 => (0u32..=4).prop_map(|r| (Some(r), 1_000)),
        1 => (1u32..=4).prop_map(|a| (None, a)),
    ]
}

#[derive(Clone, Debug)]
struct FunctionDraft {
    memory_mb: u32,
    timeout_s: u64,
    concurrency: (Option<u32>, u32),
    /// base, per record, per KiB (µs); jitter (ppm).
    duration: (u64, u64, u64, u32),
    cold_start_ms: u64,
    idle_ttl_s: u64,
    behaviours: Vec<BehaviourDraft>,
    /// In a run that crosses retention: a poison that never heals, in the first ten
    /// minutes, so that its shard waits for retention (R-ERR-6). Unused in short runs.
    blocker: Option<(u32, u64, Effect)>,
}

fn arb_function_draft() -> impl Strategy<Value = FunctionDraft> {
    let small_us = |max: u64| prop_oneof![3 => 0..=max, 1 => Just(0u64)];
    (
        128u32..=10_240,
        1u64..=60,
        arb_concurrency(),
        (
            small_us(2_000_000),
            small_us(5_000),
            small_us(2_000),
            prop_oneof![Just(0u32), 0u32..=500_000],
        ),
        prop_oneof![Just(0u64), 0u64..=2_000],
        1u64..=1_800,
        prop::collection::vec(arb_behaviour(), 0..=3),
        prop::option::weighted(
            0.5,
            (
                0u32..4,
                arb_frac(),
                prop_oneof![Just(Effect::Error), Just(Effect::Timeout)],
            ),
        ),
    )
        .prop_map(
            |(
                memory_mb,
                timeout_s,
                concurrency,
                duration,
                cold_start_ms,
                idle_ttl_s,
                behaviours,
                blocker,
            )| FunctionDraft {
                memory_mb,
                timeout_s,
                concurrency,
                duration,
                cold_start_ms,
                idle_ttl_s,
                behaviours,
                blocker,
            },
        )
}

impl FunctionDraft {
    fn build(self, f: Frame) -> FunctionSpec {
        let mut behaviours: Vec<Behaviour> = self.behaviours.iter().map(|b| b.build(f)).collect();
        if let (true, Some((shard, at, effect))) = (f.long, self.blocker) {
            behaviours.push(
                PoisonDraft {
                    shard: Some(shard),
                    when: When::Early(at),
                    effect,
                    times: None,
                }
                .build(f),
            );
        }
        let (base, per_record, per_kib, jitter) = self.duration;
        FunctionSpec {
            name: "function".into(),
            memory_mb: self.memory_mb,
            timeout: SimDuration::from_secs(self.timeout_s),
            architecture: Architecture::X86_64,
            reserved_concurrency: self.concurrency.0,
            account_concurrency: self.concurrency.1,
            cold_start: d_ms(self.cold_start_ms),
            idle_ttl: SimDuration::from_secs(self.idle_ttl_s),
            duration: DurationModel {
                base: SimDuration(base),
                per_record: SimDuration(per_record),
                per_kib: SimDuration(per_kib),
                jitter,
            },
            behaviours,
        }
    }
}

/// The responses a poison may give (R-PBR-3): valid item ids are not known in advance, so
/// these are the complete successes and a complete failure.
fn arb_response() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::json!({"batchItemFailures": []})),
        Just(serde_json::json!({"batchItemFailures": [{"itemIdentifier": ""}]})),
        Just(serde_json::json!({})),
    ]
}

/// Keys `k0`..`k9` of the typed records, which partition-key poisons and the `prefix`
/// pattern aim at (support.rs's `scripted()` names its keys the same way).
const TYPED_KEYS: u32 = 10;

/// The `data` of typed records: JSON that the filter patterns look into, and one that is
/// not JSON.
const TYPED_DATA: [&str; 5] = [
    r#"{"type":"a"}"#,
    r#"{"type":"b"}"#,
    r#"{"type":"a","n":5}"#,
    r#"{"type":"c","n":1}"#,
    "plain text",
];

/// FilterCriteria patterns (R-FILTER-1) over the typed records' data and keys.
const PATTERNS: [&str; 6] = [
    r#"{"data": {"type": ["a"]}}"#,
    r#"{"data": {"type": ["b", "c"]}}"#,
    r#"{"partitionKey": [{"prefix": "k1"}]}"#,
    r#"{"data": {"n": [{"numeric": [">", 3]}]}}"#,
    r#"{"partitionKey": ["k2", "k3"]}"#,
    r#"{"data": {"type": [{"exists": true}]}}"#,
];

fn arb_destination() -> impl Strategy<Value = Destination> {
    let d = |arn: &str, kind| Destination {
        arn: arn.to_string(),
        kind,
    };
    prop_oneof![
        Just(d(
            "arn:aws:sqs:us-east-1:123456789012:q",
            DestinationKind::Sqs
        )),
        Just(d(
            "arn:aws:sns:us-east-1:123456789012:t",
            DestinationKind::Sns
        )),
        Just(d("arn:aws:s3:::b", DestinationKind::S3)),
    ]
}

/// Which records a poison of the error-handling cases hits.
#[derive(Clone, Debug)]
enum TargetDraft {
    FirstAt(Option<u32>, When),
    /// Typed key `k{i}`.
    Key(u32),
}

#[derive(Clone, Debug)]
struct EhPoisonDraft {
    target: TargetDraft,
    effect: Effect,
    times: Option<u32>,
}

impl EhPoisonDraft {
    fn build(&self, f: Frame) -> Behaviour {
        let target = match &self.target {
            TargetDraft::FirstAt(shard, when) => {
                return PoisonDraft {
                    shard: *shard,
                    when: *when,
                    effect: self.effect.clone(),
                    times: self.times,
                }
                .build(f);
            }
            TargetDraft::Key(i) => PoisonTarget::PartitionKey(format!("k{i}")),
        };
        Behaviour::Poison {
            target,
            effect: self.effect.clone(),
            times: self.times,
        }
    }
}

fn arb_eh_poison() -> impl Strategy<Value = EhPoisonDraft> {
    (
        prop_oneof![
            1 => (
                prop::option::of(0u32..4),
                prop_oneof![
                    arb_frac().prop_map(When::Early),
                    arb_frac().prop_map(When::Any)
                ],
            )
                .prop_map(|(shard, when)| TargetDraft::FirstAt(shard, when)),
            1 => (0..TYPED_KEYS).prop_map(TargetDraft::Key),
        ],
        prop_oneof![
            2 => Just(Effect::Error),
            1 => Just(Effect::Timeout),
            2 => Just(Effect::ReportFailure),
            2 => arb_response().prop_map(Effect::Respond),
        ],
        prop::option::weighted(0.4, 1u32..=3),
    )
        .prop_map(|(target, effect, times)| EhPoisonDraft {
            target,
            effect,
            times,
        })
}

/// Every setting of the error-handling work at once (R-ORDER-2..3, R-ERR-3..4,
/// R-BISECT-1..2, R-PBR-1..4, R-DEST-1, R-FILTER-1, R-WINDOW-1..2), with typed records
/// for the patterns and the key poisons to act on. No actions: a disable/enable re-reads
/// records (R-ORDER-3), which the order properties do not allow for.
#[derive(Clone, Debug)]
pub struct ErrorHandlingDraft {
    parallelization_factor: u32,
    lane_blocking: LaneBlocking,
    max_retry_attempts: Option<u32>,
    max_record_age_s: Option<u64>,
    bisect_on_error: bool,
    report_batch_item_failures: bool,
    on_failure: Option<Destination>,
    /// Indexes into [`PATTERNS`].
    patterns: Vec<usize>,
    /// `filter_pass` of the first three rate producers.
    filter_pass: Vec<Ppm>,
    tumbling_window_s: u64,
    forgets_window_state: bool,
    /// (when, as a fraction of the run; key index; index into [`TYPED_DATA`]; repeat).
    typed: Vec<(u64, u32, usize, u64)>,
    poisons: Vec<EhPoisonDraft>,
}

fn arb_error_handling() -> impl Strategy<Value = ErrorHandlingDraft> {
    (
        (
            1u32..=4,
            prop_oneof![3 => Just(LaneBlocking::Lane), 1 => Just(LaneBlocking::Shard)],
            prop::option::of(0u32..=3),
            prop::option::of(60u64..=600),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(arb_destination()),
        ),
        prop_oneof![
            1 => Just(vec![]),
            2 => prop::collection::vec(0..PATTERNS.len(), 1..=2),
        ],
        prop::collection::vec(prop_oneof![2 => Just(PPM_ONE), 1 => 0..=PPM_ONE], 3),
        prop_oneof![1 => Just(0u64), 1 => 10u64..=120],
        prop::bool::weighted(0.2),
        prop::collection::vec(
            (arb_frac(), 0..TYPED_KEYS, 0..TYPED_DATA.len(), 1u64..=3),
            0..=30,
        ),
        prop::collection::vec(arb_eh_poison(), 0..=3),
    )
        .prop_map(
            |(
                (pf, lane_blocking, mra, age, bisect, rbif, on_failure),
                patterns,
                filter_pass,
                tumbling,
                forgets,
                typed,
                poisons,
            )| ErrorHandlingDraft {
                parallelization_factor: pf,
                lane_blocking,
                max_retry_attempts: mra,
                max_record_age_s: age,
                bisect_on_error: bisect,
                report_batch_item_failures: rbif,
                on_failure,
                patterns,
                filter_pass,
                tumbling_window_s: tumbling,
                forgets_window_state: forgets,
                typed,
                poisons,
            },
        )
}

impl ErrorHandlingDraft {
    /// The typed records, as a scripted producer.
    fn typed_producer(&self) -> Option<ProducerDraft> {
        let records = self
            .typed
            .iter()
            .map(|&(at, key, data, repeat)| {
                let record = ScriptedRecord {
                    at: SimTime::ZERO,
                    partition_key: format!("k{key}"),
                    data: TYPED_DATA[data].as_bytes().to_vec(),
                    repeat,
                    explicit_hash_key: None,
                };
                (at, record)
            })
            .collect::<Vec<_>>();
        (!records.is_empty()).then_some(ProducerDraft::Scripted(records))
    }

    fn apply(&self, f: Frame, shape: Shape, s: &mut Scenario) {
        let m = &mut s.mapping;
        m.parallelization_factor = self.parallelization_factor;
        if f.long {
            // A day of polls on four lanes a shard is too many events for a debug build.
            m.parallelization_factor = m.parallelization_factor.min(2);
        }
        if shape.events {
            m.parallelization_factor = m.parallelization_factor.max(2);
        }
        m.max_retry_attempts = self.max_retry_attempts;
        m.max_record_age = self.max_record_age_s.map(SimDuration::from_secs);
        m.bisect_on_error = self.bisect_on_error;
        m.report_batch_item_failures = self.report_batch_item_failures;
        m.on_failure = self.on_failure.clone();
        m.filter_patterns = self
            .patterns
            .iter()
            .map(|&i| PATTERNS[i].to_string())
            .collect();
        m.filter_patterns.dedup();
        // A final invocation per window and lane: over a day, windows of 2 min at least.
        m.tumbling_window = SimDuration::from_secs(match self.tumbling_window_s {
            0 => 0,
            w if f.long => w.max(120),
            w => w,
        });
        s.simulation.lane_blocking = self.lane_blocking;
        let rates = s.producers.iter_mut().filter_map(|p| match &mut p.kind {
            ProducerKind::Rate(r) => Some(r),
            ProducerKind::Scripted(_) => None,
        });
        for (r, pass) in rates.zip(&self.filter_pass) {
            r.filter_pass = *pass;
        }
        let b = &mut s.function.behaviours;
        b.extend(self.poisons.iter().map(|p| p.build(f)));
        if self.forgets_window_state {
            b.push(Behaviour::ForgetsWindowState);
        }
    }
}

/// What kind of case a strategy draws.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// Error-handling settings: in one case in three, or in every case.
    error_handling_always: bool,
    /// Small enough to write and read every event (`--events`): runs of at most 5 min,
    /// at most [`MAX_EVENTS_RATE`] records/s of at most [`MAX_EVENTS_RECORD`] bytes,
    /// ParallelizationFactor 2 or more.
    events: bool,
}

/// Total records per second across an events case's producers.
const MAX_EVENTS_RATE: u64 = 30;
/// Data bytes per record of an events case's rate producers.
const MAX_EVENTS_RECORD: u64 = 256;

/// A valid random scenario (see the module docs for its bounds); one in three mixes the
/// error-handling settings (see [`ErrorHandlingDraft`]).
pub fn arb_scenario() -> impl Strategy<Value = Scenario> {
    arb_shaped(Shape {
        error_handling_always: false,
        events: false,
    })
}

/// A small scenario with the error-handling settings and ParallelizationFactor 2 to 4,
/// whose every event can be kept and read.
pub fn arb_events_scenario() -> impl Strategy<Value = Scenario> {
    arb_shaped(Shape {
        error_handling_always: true,
        events: true,
    })
}

fn arb_shaped(shape: Shape) -> impl Strategy<Value = Scenario> {
    let length = if shape.events {
        prop_oneof![
            1 => (5_000u64..=60_000).prop_map(|d| (d, false)),
            3 => (60_000u64..=300_000).prop_map(|d| (d, false)),
        ]
        .boxed()
    } else {
        arb_length().boxed()
    };
    let error_handling = if shape.error_handling_always {
        arb_error_handling().prop_map(Some).boxed()
    } else {
        prop_oneof![2 => Just(None), 1 => arb_error_handling().prop_map(Some)].boxed()
    };
    (
        (length, 1u32..=4, arb_batch_size(), any::<u64>()),
        arb_producer_drafts(),
        arb_function_draft(),
        prop_oneof![2 => Just(0u64), 1 => 0u64..=60],
        prop_oneof![
            3 => Just(StartingPosition::TrimHorizon),
            1 => Just(StartingPosition::Latest)
        ],
        (1_000u64..=60_000, 10u64..=5_000),
        prop_oneof![2 => Just(0u64), 1 => 0u64..=120_000],
        error_handling,
    )
        .prop_map(
            move |(
                ((dur_ms, long), shards, batch, seed),
                mut producers,
                function,
                window_s,
                start,
                (backoff_max, backoff_initial),
                delay,
                error_handling,
            )| {
                let shards = if long { shards.min(2) } else { shards };
                let f = Frame {
                    dur_ms,
                    long,
                    shards,
                };
                // Full batches at the budget's pace (a batching window only ever lowers it);
                // at least a record every 10 s.
                let cap = match (long, shape.events) {
                    (true, _) => MAX_LONG_RATE,
                    (false, true) => MAX_EVENTS_RATE,
                    (false, false) => MAX_TOTAL_RATE,
                };
                let max_total_urps = (INVOCATION_BUDGET * u64::from(batch) * URPS
                    / dur_ms.div_ceil(1_000))
                .clamp(URPS / 10, cap * URPS);
                let (window_s, backoff_max) = if long {
                    (window_s.max(10), backoff_max.max(10_000))
                } else {
                    (window_s, backoff_max)
                };
                if let Some(typed) = error_handling.as_ref().and_then(|e| e.typed_producer()) {
                    producers.push(typed);
                }
                let mut s = base("prop", shards, d_ms(dur_ms));
                s.seed = seed;
                s.producers = build_producers(producers, f, max_total_urps);
                if shape.events {
                    for p in &mut s.producers {
                        match &mut p.kind {
                            ProducerKind::Rate(r) => {
                                r.record_size = match r.record_size {
                                    RecordSize::Fixed(b) => {
                                        RecordSize::Fixed(b.min(MAX_EVENTS_RECORD))
                                    }
                                    RecordSize::LogNormal { mean, .. } => {
                                        RecordSize::Fixed(mean.min(MAX_EVENTS_RECORD))
                                    }
                                };
                            }
                            ProducerKind::Scripted(records) => {
                                records.iter_mut().for_each(|r| r.repeat = r.repeat.min(5));
                            }
                        }
                    }
                }
                s.function = function.build(f);
                s.mapping.batch_size = batch;
                s.mapping.batching_window = SimDuration::from_secs(window_s);
                s.mapping.starting_position = start;
                s.simulation.retry_backoff_initial = d_ms(backoff_initial.min(backoff_max));
                s.simulation.retry_backoff_max = d_ms(backoff_max);
                s.simulation.mapping_start_delay = d_ms(delay);
                if let Some(e) = &error_handling {
                    e.apply(f, shape, &mut s);
                }
                s
            },
        )
}
