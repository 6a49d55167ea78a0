//! The run over time: one row per shard per `simulation.sample_every`, for reports,
//! timelines and the live view. Collected only when asked for (`Outputs::timeseries`),
//! so a long run of many shards pays nothing for it otherwise.
//!
//! Counts (written, delivered, invocations, ...) are what happened during the interval
//! that ends at the row's time; pending, checkpoint lag and concurrency are the values
//! at that time; iterator age is the largest measured at a send during the interval.

use serde::Serialize;

/// What a shard was doing during an interval, for timelines. When several apply, the
/// first in this order wins: a closed shard with nothing left is `Closed`, a child not
/// yet readable is `WaitingForParents`, a failure or throttle anywhere in the interval
/// makes it `Failing` or `Throttled`, any invocation `Processing`, else `Idle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardState {
    Idle,
    Processing,
    /// A batch failed and is being retried (or discarded): the shard or a lane is held.
    Failing,
    /// Batches wait for concurrency (R-CONC-2).
    Throttled,
    /// A child shard the mapping may not read yet (R-RESHARD-3).
    WaitingForParents,
    /// Closed and read to its end.
    Closed,
}

impl ShardState {
    /// The CSV and JSON spelling.
    pub fn name(self) -> &'static str {
        match self {
            ShardState::Idle => "idle",
            ShardState::Processing => "processing",
            ShardState::Failing => "failing",
            ShardState::Throttled => "throttled",
            ShardState::WaitingForParents => "waiting_for_parents",
            ShardState::Closed => "closed",
        }
    }
}

/// One shard over one interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ShardSample {
    /// End of the interval.
    pub t_ms: u64,
    /// The shard's number (its id is `shardId-` and 12 digits of it).
    pub shard: u32,
    pub state: ShardState,
    pub written: u64,
    pub rejected: u64,
    pub delivered: u64,
    /// Records lost in the interval (expired or discarded without a destination).
    pub lost: u64,
    /// Records written and without a fate at the row's time.
    pub pending: u64,
    /// Largest iterator age at a send during the interval; 0 without sends.
    pub iterator_age_ms: u64,
    pub checkpoint_lag_ms: u64,
    pub invocations: u64,
    /// Invocations that failed: errors, timeouts, invalid responses (R-METRIC-2).
    pub errors: u64,
    pub throttles: u64,
    /// Invocations of the shard in flight at the row's time.
    pub concurrency: u32,
}

/// The CSV header of `timeseries.csv`, in the column order of `ShardSample::csv_row`.
pub const CSV_HEADER: &str = "t_ms,shard,state,written,rejected,delivered,lost,pending,iterator_age_ms,checkpoint_lag_ms,invocations,errors,throttles,concurrency";

impl ShardSample {
    /// The row as a CSV line (no newline); the shard as its id.
    pub fn csv_row(&self) -> String {
        format!(
            "{},shardId-{:012},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.t_ms,
            self.shard,
            self.state.name(),
            self.written,
            self.rejected,
            self.delivered,
            self.lost,
            self.pending,
            self.iterator_age_ms,
            self.checkpoint_lag_ms,
            self.invocations,
            self.errors,
            self.throttles,
            self.concurrency
        )
    }
}

/// Cumulative counters of a shard at the last sample, to turn totals into intervals.
#[derive(Clone, Copy, Debug, Default)]
pub struct SampleBase {
    pub written: u64,
    pub rejected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    /// Largest iterator age at a send since the last sample.
    pub age_max_ms: u64,
}
