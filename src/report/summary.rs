//! The JSON summary of a run (design.md §6.1): one `Serialize` struct whose key order is
//! the documented one. Every other format is written from it.

use serde::Serialize;

use crate::model::World;
use crate::model::reads::ReadLimits;
use crate::observe::metrics::{InvocationCounts, MsHistogram, RecordCounts};
use crate::scenario::{Architecture, ConsumerKind, LaneBlocking, Prices, Scenario, StreamMode};
use crate::time::{SimDuration, US_PER_H};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub run: RunInfo,
    pub scenario: String,
    pub variant: Option<String>,
    pub seed: u64,
    pub simulated_ms: u64,
    pub assumptions: Vec<String>,
    pub records: RecordCounts,
    pub invocations: InvocationCounts,
    pub iterator_age_ms: AgeStats,
    pub checkpoint_lag_ms: LagStats,
    pub latency_ms: LatencyStats,
    pub batch_records: BatchStats,
    pub concurrency: Concurrency,
    pub destination: DestinationStats,
    pub reads: ReadStats,
    pub actions: Vec<ActionOutcome>,
    pub cost_usd: Cost,
    pub shards: Vec<ShardSummary>,
}

/// The only part that may change without the behaviour changing (golden tests drop it).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunInfo {
    pub kinesim: String,
    pub events: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AgeStats {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LagStats {
    pub p99: u64,
    pub max: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LatencyStats {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BatchStats {
    pub mean: f64,
    pub max: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Concurrency {
    pub max: u32,
}

/// The mapping's GetRecords calls, and those refused by the shared read limit
/// (ReadProvisionedThroughputExceeded, R-STREAM-5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub calls: u64,
    pub throttled: u64,
    /// Data bytes the mapping read.
    pub bytes: u64,
}

impl ReadStats {
    fn add(&mut self, other: ReadStats) {
        self.calls += other.calls;
        self.throttled += other.throttled;
        self.bytes += other.bytes;
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DestinationStats {
    pub messages: u64,
    pub records: u64,
}

pub use crate::model::actions::ActionOutcome;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    pub lambda_requests: f64,
    pub lambda_duration: f64,
    pub kinesis: f64,
    pub total: f64,
    /// The parts of `kinesis`; those that do not apply are 0.
    pub kinesis_detail: KinesisCost,
}

/// Kinesis's bill by dimension (R-COST-1): provisioned shard-hours and PUT payload
/// units, or ON_DEMAND stream-hours and data written and read; enhanced fan-out and
/// retention beyond 24 h on top.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct KinesisCost {
    pub shard_hours: f64,
    pub put_units: f64,
    pub on_demand_stream_hours: f64,
    pub on_demand_written: f64,
    pub on_demand_read: f64,
    pub enhanced_fan_out: f64,
    pub extended_retention: f64,
}

impl KinesisCost {
    fn total(&self) -> f64 {
        self.shard_hours
            + self.put_units
            + self.on_demand_stream_hours
            + self.on_demand_written
            + self.on_demand_read
            + self.enhanced_fan_out
            + self.extended_retention
    }

    fn rounded(self) -> KinesisCost {
        KinesisCost {
            shard_hours: usd(self.shard_hours),
            put_units: usd(self.put_units),
            on_demand_stream_hours: usd(self.on_demand_stream_hours),
            on_demand_written: usd(self.on_demand_written),
            on_demand_read: usd(self.on_demand_read),
            enhanced_fan_out: usd(self.enhanced_fan_out),
            extended_retention: usd(self.extended_retention),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ShardSummary {
    pub id: String,
    pub parents: Vec<String>,
    /// [opened, closed or null], in milliseconds.
    pub open_ms: (u64, Option<u64>),
    pub records: RecordCounts,
    pub invocations: InvocationCounts,
    pub iterator_age_ms: AgeStats,
    pub checkpoint_lag_ms: LagStats,
    pub latency_ms: LatencyStats,
    pub blocked_ms: u64,
    /// How long the mapping waited for the shard's parents before reading it (R-RESHARD-3).
    pub waiting_for_parents_ms: u64,
    pub reads: ReadStats,
}

fn ages(h: &MsHistogram) -> AgeStats {
    let [p50, p90, p99] = h.quantiles([0.50, 0.90, 0.99]);
    AgeStats {
        p50,
        p90,
        p99,
        max: h.max(),
    }
}

fn lags(h: &MsHistogram) -> LagStats {
    LagStats {
        p99: h.quantile(0.99),
        max: h.max(),
    }
}

fn latencies(h: &MsHistogram) -> LatencyStats {
    let [p50, p99] = h.quantiles([0.50, 0.99]);
    LatencyStats {
        p50,
        p99,
        max: h.max(),
    }
}

/// Rounds a dollar amount to a millionth of a cent, so float noise never shows.
fn usd(x: f64) -> f64 {
    (x * 1e8).round() / 1e8
}

/// The choices in force where AWS is silent, and what is not simulated yet.
pub fn assumptions(s: &Scenario) -> Vec<String> {
    let sim = &s.simulation;
    let p = &s.prices;
    let mut a = vec![
        format!(
            "retry_backoff {}..{}: retries wait {} doubling up to {} after a failure, throttles the same (R-ERR-5, R-CONC-2)",
            sim.retry_backoff_initial, sim.retry_backoff_max, sim.retry_backoff_initial, sim.retry_backoff_max
        ),
        format!(
            "lane_blocking {} (R-ORDER-3)",
            match sim.lane_blocking {
                LaneBlocking::Lane => "lane",
                LaneBlocking::Shard => "shard",
            }
        ),
        "polling: each shard once per second at a seeded phase; after a GetRecords that hit its cap the next comes as soon as the lane wants records, within 5 calls/s (R-POLL-1)".to_string(),
        format!("mapping_start_delay {} (R-POLL-2)", sim.mapping_start_delay),
        "write limit: 1,000 records and 1 MiB per shard in each whole second; a record over 1 MiB is accepted as its second's first write (R-STREAM-3)".to_string(),
        "a record too big for the 6 MiB payload on its own is never sent: each attempt fails before the function, like a throw for retries, age and the destination (R-BATCH-4)".to_string(),
        "bisect: the first ceil(n/2) records go first, the rest after them; each half starts a fresh retry count (R-BISECT-1)".to_string(),
        "one destination message per discarded batch or half; AWS may consolidate several (R-BISECT-3)".to_string(),
        "a re-formed batch after a partial response waits the first backoff step before its retry (R-PBR-2)".to_string(),
        "iterator age is measured when a batch is sent, from its last record (R-METRIC-1)".to_string(),
        "a function that throws at a poison record has processed the records before it (R-ERR-1)".to_string(),
        "retention trims a batch being retried from its head; expired records get no destination message (R-ERR-6)".to_string(),
        format!("idle execution environments retire after {} (R-CONC-3)", s.function.idle_ttl),
        "event size: a rate producer's records carry its longest partition key; lognormal record sizes are drawn once per producer per second".to_string(),
        read_assumption(s),
        format!(
            "prices{}: Lambda ${}/M requests, ${}/GB-s x86_64, ${}/GB-s arm64; Kinesis ${}/shard-hour, ${}/M PUT units of 25 KiB (R-COST-1)",
            if s.prices == Prices::default() { "" } else { " (set by the scenario)" },
            p.lambda_per_million_requests,
            p.lambda_gb_second_x86_64,
            p.lambda_gb_second_arm64,
            p.shard_hour,
            p.per_million_put_units,
        ),
        format!(
            "prices not confirmed by AWS's pages (aws-evidence §6.3), used where they apply: ON_DEMAND ${}/stream-hour, ${}/GB written (records rounded up to 1 KiB), ${}/GB read by the mapping; enhanced fan-out ${}/consumer-shard-hour and ${}/GB; retention beyond 24 h ${}/shard-hour",
            p.on_demand_stream_hour,
            p.on_demand_per_gb_written,
            p.on_demand_per_gb_read,
            p.efo_consumer_shard_hour,
            p.efo_per_gb,
            p.extended_retention_shard_hour,
        ),
    ];
    if !s.mapping.tumbling_window.is_zero() {
        a.push("tumbling windows are aligned on the wall clock; a window's final invocation carries no records; --events writes the plain Kinesis event, without the window fields (R-WINDOW-1..2)".to_string());
    }
    a.extend(s.not_simulated.iter().cloned());
    a
}

/// How the mapping reads each shard (R-STREAM-5, R-EFO-1).
fn read_assumption(s: &Scenario) -> String {
    let limits = ReadLimits::of(&s.stream);
    if limits.efo {
        return format!(
            "reads: enhanced fan-out pushes records {} after they are written, 2 MiB/s per shard for this mapping alone, no call limit (R-EFO-1)",
            limits.propagation
        );
    }
    format!(
        "reads: shared throughput, polled; records readable {} after they are written (200 ms per standard consumer, at most 1 s); 2 MiB/s per shard with {} other consumer{} each reading every record once and served first, the mapping keeping at least its fair share; {} GetRecords call{} per {}; a 10 MiB call keeps the next out for 5 s (R-STREAM-5, R-EFO-1)",
        limits.propagation,
        limits.others,
        if limits.others == 1 { "" } else { "s" },
        limits.calls,
        if limits.calls == 1 { "" } else { "s" },
        limits.window,
    )
}

impl Summary {
    /// The summary of a finished run.
    pub fn of(world: &World, variant: Option<&str>) -> Summary {
        let s = world.scenario();
        let end_us = s.duration.0;
        let mut records = RecordCounts::default();
        let mut invocations = InvocationCounts::default();
        let mut age = MsHistogram::default();
        let mut lag = MsHistogram::default();
        let mut latency = MsHistogram::default();
        let (mut batches, mut batch_sum, mut batch_max, mut billed_ms, mut put_units) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut shard_us = 0u64;
        let mut reads = ReadStats::default();
        let mut written_kib = 0u64;
        let shards = world
            .shards()
            .iter()
            .map(|sh| {
                let m = &sh.metrics;
                records.add(&m.records);
                invocations.add(&m.invocations);
                age.add(&m.iterator_age);
                lag.add(&m.checkpoint_lag);
                latency.add(&m.latency);
                batches += m.batches;
                batch_sum += m.batch_records_sum;
                batch_max = batch_max.max(m.batch_records_max);
                billed_ms += m.billed_ms;
                put_units += m.put_units;
                let shard_reads = ReadStats {
                    calls: sh.poll.calls,
                    throttled: sh.poll.throttled,
                    bytes: sh.poll.bytes,
                };
                written_kib += m.written_kib;
                reads.add(shard_reads);
                let closed = sh.closed_at.map(|t| t.0).unwrap_or(end_us);
                shard_us += closed.saturating_sub(sh.opened_at.0);
                ShardSummary {
                    id: sh.id.clone(),
                    parents: sh
                        .parents
                        .iter()
                        .map(|&p| crate::model::stream::shard_id(p))
                        .collect(),
                    open_ms: (
                        sh.opened_at.as_millis(),
                        sh.closed_at.map(|t| t.as_millis()),
                    ),
                    records: m.records,
                    invocations: m.invocations,
                    iterator_age_ms: ages(&m.iterator_age),
                    checkpoint_lag_ms: lags(&m.checkpoint_lag),
                    latency_ms: latencies(&m.latency),
                    blocked_ms: SimDuration(m.blocked_us).as_millis(),
                    waiting_for_parents_ms: SimDuration(m.parent_wait_us).as_millis(),
                    reads: shard_reads,
                }
            })
            .collect();
        let p = &s.prices;
        let gb_second = match s.function.architecture {
            Architecture::X86_64 => p.lambda_gb_second_x86_64,
            Architecture::Arm64 => p.lambda_gb_second_arm64,
        };
        let lambda_requests = invocations.total as f64 / 1e6 * p.lambda_per_million_requests;
        let lambda_duration =
            billed_ms as f64 / 1000.0 * f64::from(s.function.memory_mb) / 1024.0 * gb_second;
        let shard_hours = shard_us as f64 / US_PER_H as f64;
        let gb = |bytes: u64| bytes as f64 / (1u64 << 30) as f64;
        let mut k = KinesisCost::default();
        if s.stream.mode == StreamMode::OnDemand {
            k.on_demand_stream_hours =
                s.duration.0 as f64 / US_PER_H as f64 * p.on_demand_stream_hour;
            k.on_demand_written = gb(written_kib * 1024) * p.on_demand_per_gb_written;
            k.on_demand_read = gb(reads.bytes) * p.on_demand_per_gb_read;
        } else {
            k.shard_hours = shard_hours * p.shard_hour;
            k.put_units = put_units as f64 / 1e6 * p.per_million_put_units;
        }
        if s.stream.consumer == ConsumerKind::EnhancedFanOut {
            k.enhanced_fan_out =
                shard_hours * p.efo_consumer_shard_hour + gb(reads.bytes) * p.efo_per_gb;
        }
        if s.stream.retention > SimDuration::from_hours(24) {
            k.extended_retention = shard_hours * p.extended_retention_shard_hour;
        }
        let kinesis = k.total();
        Summary {
            run: RunInfo {
                kinesim: env!("CARGO_PKG_VERSION").to_string(),
                events: world.events(),
            },
            scenario: s.name.clone(),
            variant: variant.map(str::to_string),
            seed: s.seed,
            simulated_ms: s.duration.as_millis(),
            assumptions: assumptions(s),
            records,
            invocations,
            iterator_age_ms: ages(&age),
            checkpoint_lag_ms: lags(&lag),
            latency_ms: latencies(&latency),
            batch_records: BatchStats {
                mean: if batches == 0 {
                    0.0
                } else {
                    (batch_sum as f64 / batches as f64 * 100.0).round() / 100.0
                },
                max: batch_max,
            },
            concurrency: Concurrency {
                max: world.max_concurrency(),
            },
            destination: {
                let (messages, records) = world.destination_counts();
                DestinationStats { messages, records }
            },
            reads,
            actions: world.action_log().to_vec(),
            cost_usd: Cost {
                lambda_requests: usd(lambda_requests),
                lambda_duration: usd(lambda_duration),
                kinesis: usd(kinesis),
                total: usd(lambda_requests + lambda_duration + kinesis),
                kinesis_detail: k.rounded(),
            },
            shards,
        }
    }

    /// The summary as JSON without the `run` block (for golden files and determinism tests).
    pub fn to_json_without_run(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("the summary serialises");
        if let Some(o) = v.as_object_mut() {
            o.remove("run");
        }
        v
    }
}
