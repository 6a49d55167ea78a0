//! The checked, typed scenario: what the simulation reads.
//!
//! Built only by `validate` from the raw serde structs, after every range and cross-field
//! check, so the model can trust every value here: ranges hold, required keys are present,
//! units are converted to integers (microseconds, bytes, micro-records per second,
//! parts per million). Defaults are AWS's where AWS has one (design.md §4).

use crate::time::{SimDuration, SimTime};

/// Parts per million: probabilities and shares inside the model (1% = 10_000 ppm).
pub type Ppm = u32;
pub const PPM_ONE: Ppm = 1_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `[a-z0-9-]+`.
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    pub stream: StreamSpec,
    pub producers: Vec<ProducerSpec>,
    pub function: FunctionSpec,
    pub mapping: MappingSpec,
    pub simulation: SimulationSpec,
    /// Operator actions, sorted by `at` (stable for equal times).
    pub actions: Vec<Action>,
    /// A reactive resharding strategy, if any.
    pub autoscale: Option<Autoscale>,
    /// The prices the cost is computed with (R-COST-1).
    pub prices: Prices,
    /// Names of the variants, in file order (their patches are applied by `Scenario::variant`).
    pub variant_names: Vec<String>,
    /// `expect:` lines, unparsed beyond `<path> <op> <value>` (the check issue evaluates them).
    pub expect: Vec<String>,
    /// Keys accepted but not simulated yet, and other warnings (e.g. CloudFormation
    /// intrinsics read as placeholders). Each becomes a line of the run's `assumptions`.
    pub not_simulated: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StreamSpec {
    /// Used in ARNs. Default "stream".
    pub name: String,
    /// Open shards at t = 0 (≥ 1), even hash ranges.
    pub shards: u32,
    /// RetentionPeriodHours: 24 h ..= 8760 h. Default 24 h.
    pub retention: SimDuration,
    pub mode: StreamMode,
    pub consumer: ConsumerKind,
    /// Other standard readers sharing the read limit. Default 0.
    pub other_consumers: u32,
    /// MaxRecordSizeInKiB as bytes: 1 MiB ..= 10 MiB. Default 1 MiB.
    pub max_record_size: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamMode {
    Provisioned,
    OnDemand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerKind {
    Shared,
    EnhancedFanOut,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProducerSpec {
    /// Default `p{index}`. Key i of producer P is the string `P-i` (R-TRAFFIC-1).
    pub name: String,
    pub kind: ProducerKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProducerKind {
    Rate(RateProducer),
    Scripted(Vec<ScriptedRecord>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RateProducer {
    /// Records per second across the stream, in micro-records per second
    /// (`400/s` = 400_000_000; `5/min` = 83_333_333, rounded to nearest).
    pub rate_urps: u64,
    pub arrival: Arrival,
    pub record_size: RecordSize,
    /// Distinct partition keys (≥ 1). Default 1000.
    pub partition_keys: u64,
    pub key_skew: KeySkew,
    /// Default 0s.
    pub start: SimTime,
    /// Default = scenario duration. start < end.
    pub end: SimTime,
    /// Rate steps, sorted by `at` (strictly increasing).
    pub changes: Vec<RateChange>,
    pub retry_rejected: bool,
    /// Share passing FilterCriteria. Default 100%.
    pub filter_pass: Ppm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateChange {
    pub at: SimTime,
    pub rate_urps: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    Uniform,
    Poisson,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecordSize {
    /// Data bytes per record (≥ 1, ≤ stream.max_record_size).
    Fixed(u64),
    /// Lognormal with this mean (bytes) and sigma of the underlying normal.
    LogNormal { mean: u64, sigma: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum KeySkew {
    Uniform,
    /// Zipf over the key indexes with exponent s > 0.
    Zipf(f64),
    /// One literal partition key gets `share` of the traffic; the rest is uniform.
    HotKey {
        key: String,
        share: Ppm,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptedRecord {
    pub at: SimTime,
    /// 1..=256 characters.
    pub partition_key: String,
    /// The record's data bytes (the YAML string as UTF-8; a JSON object/value is written compactly).
    pub data: Vec<u8>,
    /// Copies written at the same instant, one after the other. Default 1.
    pub repeat: u64,
    /// Explicit hash key (decimal, < 2^128), overrides MD5(partition key).
    pub explicit_hash_key: Option<u128>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSpec {
    /// Default "function".
    pub name: String,
    /// MemorySize MB: 128 ..= 10240. Default 128.
    pub memory_mb: u32,
    /// Timeout: 1 s ..= 900 s. Default 3 s.
    pub timeout: SimDuration,
    pub architecture: Architecture,
    /// ReservedConcurrentExecutions; at most account_concurrency − 100. None = unreserved.
    pub reserved_concurrency: Option<u32>,
    /// Default 1000.
    pub account_concurrency: u32,
    /// Default 0.
    pub cold_start: SimDuration,
    /// Idle environments retire after this. Default 10 min.
    pub idle_ttl: SimDuration,
    pub duration: DurationModel,
    pub behaviours: Vec<Behaviour>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    X86_64,
    Arm64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationModel {
    pub base: SimDuration,
    pub per_record: SimDuration,
    /// Per KiB of record data (data bytes / 1024, fractional).
    pub per_kib: SimDuration,
    /// ± jitter as a share of the duration, uniform. Default 0.
    pub jitter: Ppm,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    Poison {
        target: PoisonTarget,
        effect: Effect,
        times: Option<u32>,
    },
    /// Each invocation fails (throws) with this probability.
    ErrorRate(Ppm),
    /// Every invocation that starts in [from, to) fails (throws).
    Outage { from: SimTime, to: SimTime },
    /// Invocations that start in [from, to) take `factor_ppm / 1e6` times as long.
    Slowdown {
        from: SimTime,
        to: SimTime,
        factor_ppm: u64,
    },
    /// With a tumbling window, the function returns no `state`: every invocation then
    /// counts as failed (R-WINDOW-1).
    ForgetsWindowState,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PoisonTarget {
    /// The first record written at or after `at`, into `shard` if given (shard index
    /// among the shards open at t = 0), else into any shard.
    FirstAt { shard: Option<u32>, at: SimTime },
    /// Every record with this partition key.
    PartitionKey(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Error,
    Timeout,
    ReportFailure,
    /// Exactly this JSON response.
    Respond(serde_json::Value),
}

#[derive(Clone, Debug, PartialEq)]
pub struct MappingSpec {
    pub event_source_arn: Option<String>,
    pub starting_position: StartingPosition,
    /// BatchSize 1..=10000, default 100.
    pub batch_size: u32,
    /// MaximumBatchingWindowInSeconds 0..=300, default 0.
    pub batching_window: SimDuration,
    /// ParallelizationFactor 1..=10, default 1.
    pub parallelization_factor: u32,
    /// MaximumRetryAttempts: None = −1 (infinite), else 0..=10000.
    pub max_retry_attempts: Option<u32>,
    /// MaximumRecordAgeInSeconds: None = −1, else 60 s ..= 604800 s.
    pub max_record_age: Option<SimDuration>,
    pub bisect_on_error: bool,
    pub report_batch_item_failures: bool,
    /// DestinationConfig.OnFailure.Destination.
    pub on_failure: Option<Destination>,
    /// FilterCriteria patterns (JSON strings), 0..=5... (validated up to the AWS count).
    pub filter_patterns: Vec<String>,
    /// TumblingWindowInSeconds 0..=900; zero = none.
    pub tumbling_window: SimDuration,
    pub enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartingPosition {
    TrimHorizon,
    Latest,
    /// StartingPositionTimestamp, as simulated time (seconds since start_time).
    AtTimestamp(SimTime),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub arn: String,
    pub kind: DestinationKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationKind {
    Sqs,
    Sns,
    S3,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimulationSpec {
    pub retry_backoff_initial: SimDuration,
    pub retry_backoff_max: SimDuration,
    pub lane_blocking: LaneBlocking,
    pub reshard_step: SimDuration,
    pub mapping_start_delay: SimDuration,
    /// Wall-clock time of t = 0 as Unix milliseconds (default 2026-01-01T00:00:00Z).
    pub start_time_unix_ms: i64,
    pub sample_every: SimDuration,
    pub max_events: u64,
    /// ON_DEMAND: how long after a shard's incoming writes pass 500 KB/s it is split
    /// ([choice] 15m: AWS says "within 15 minutes").
    pub on_demand_split_after: SimDuration,
}

/// `autoscale`: UpdateShardCount calls when a metric crosses a threshold, under the AWS
/// limits of R-RESHARD-1 (a refused call is recorded like any action).
#[derive(Clone, Debug, PartialEq)]
pub struct Autoscale {
    pub metric: AutoscaleMetric,
    /// Scale out (double the open shards, at most `max_shards`) when the metric is above
    /// this for `periods` evaluations in a row: milliseconds of iterator age, or parts
    /// per million of write utilisation.
    pub scale_out_above: u64,
    /// Scale in (halve, at least `min_shards`) when below this for `periods` evaluations;
    /// never when absent.
    pub scale_in_below: Option<u64>,
    /// Time between evaluations (default 1m).
    pub period: SimDuration,
    /// Evaluations in a row the condition must hold (default 1).
    pub periods: u32,
    /// No new call until this long after the last scaling completed (default 5m).
    pub cooldown: SimDuration,
    /// Bounds on the open shard count (defaults 1 and 10,000).
    pub min_shards: u32,
    pub max_shards: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoscaleMetric {
    /// The oldest unfinished record's age over all shards (IteratorAge, maximum).
    IteratorAge,
    /// Records or bytes offered in the last period over what the open shards accept
    /// (1,000 records and 1 MiB per shard per second), whichever is higher.
    WriteUtilisation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneBlocking {
    Lane,
    Shard,
}

/// Wall-clock time of the default `simulation.start_time`, 2026-01-01T00:00:00Z.
pub const DEFAULT_START_UNIX_MS: i64 = 1_767_225_600_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub at: SimTime,
    pub kind: ActionKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    /// SplitShard of this shard id, at the midpoint or at `at_hash_key`.
    Split {
        shard: String,
        at_hash_key: Option<u128>,
    },
    /// MergeShards of two shard ids.
    Merge {
        shards: [String; 2],
    },
    /// UpdateShardCount, UNIFORM_SCALING.
    UpdateShardCount {
        target: u32,
    },
    DisableMapping,
    EnableMapping,
    /// UpdateEventSourceMapping with these keys; only the keys given are set.
    UpdateMapping(MappingUpdate),
    /// Increase/DecreaseStreamRetentionPeriod.
    SetRetention(SimDuration),
}

impl ActionKind {
    /// SplitShard, MergeShards or UpdateShardCount (R-RESHARD-1).
    pub fn is_reshard(&self) -> bool {
        matches!(
            self,
            ActionKind::Split { .. }
                | ActionKind::Merge { .. }
                | ActionKind::UpdateShardCount { .. }
        )
    }
}

/// The members UpdateEventSourceMapping accepts (no StartingPosition: R-POLL-2).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MappingUpdate {
    pub batch_size: Option<u32>,
    pub batching_window: Option<SimDuration>,
    pub parallelization_factor: Option<u32>,
    pub max_retry_attempts: Option<Option<u32>>,
    pub max_record_age: Option<Option<SimDuration>>,
    pub bisect_on_error: Option<bool>,
    pub report_batch_item_failures: Option<bool>,
    pub on_failure: Option<Option<Destination>>,
    pub tumbling_window: Option<SimDuration>,
    pub enabled: Option<bool>,
}

/// Prices in USD (R-COST-1): `prices:` in a scenario, each key defaulting to us-east-1's
/// first tier. The last six are not confirmed by AWS's pages (aws-evidence §6.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prices {
    pub lambda_per_million_requests: f64,
    pub lambda_gb_second_x86_64: f64,
    pub lambda_gb_second_arm64: f64,
    pub shard_hour: f64,
    pub per_million_put_units: f64,
    pub extended_retention_shard_hour: f64,
    pub efo_consumer_shard_hour: f64,
    pub efo_per_gb: f64,
    pub on_demand_stream_hour: f64,
    pub on_demand_per_gb_written: f64,
    pub on_demand_per_gb_read: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            lambda_per_million_requests: 0.20,
            lambda_gb_second_x86_64: 0.000_016_666_7,
            lambda_gb_second_arm64: 0.000_013_333_4,
            shard_hour: 0.015,
            per_million_put_units: 0.014,
            extended_retention_shard_hour: 0.02,
            efo_consumer_shard_hour: 0.015,
            efo_per_gb: 0.013,
            on_demand_stream_hour: 0.04,
            on_demand_per_gb_written: 0.08,
            on_demand_per_gb_read: 0.04,
        }
    }
}
