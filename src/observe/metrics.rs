//! Counters and histograms of one shard, and of the whole run (the sum of its shards).
//!
//! Fates and counters are those defined at the end of spec/esm-rules.md; invocation
//! classes follow R-METRIC-2; ages and latency R-METRIC-1. Histograms hold milliseconds
//! with three significant digits and grow only as far as the largest value recorded, so
//! a healthy shard's histograms stay small. Maxima are kept exactly beside them.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Fates and record counters (spec/esm-rules.md, "Fates and invariants").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub written: u64,
    pub rejected: u64,
    pub delivered: u64,
    pub to_destination: u64,
    pub discarded: u64,
    pub filtered: u64,
    pub skipped: u64,
    pub expired: u64,
    pub pending: u64,
    pub lost: u64,
    pub deliveries: u64,
    pub redeliveries: u64,
    pub duplicates: u64,
    pub acknowledged_unprocessed: u64,
}

impl RecordCounts {
    pub fn add(&mut self, o: &RecordCounts) {
        self.written += o.written;
        self.rejected += o.rejected;
        self.delivered += o.delivered;
        self.to_destination += o.to_destination;
        self.discarded += o.discarded;
        self.filtered += o.filtered;
        self.skipped += o.skipped;
        self.expired += o.expired;
        self.pending += o.pending;
        self.lost += o.lost;
        self.deliveries += o.deliveries;
        self.redeliveries += o.redeliveries;
        self.duplicates += o.duplicates;
        self.acknowledged_unprocessed += o.acknowledged_unprocessed;
    }

    /// Sum of every fate: equals `written` when I-1 holds.
    pub fn fates(&self) -> u64 {
        self.settled() + self.pending
    }

    /// Records with a final fate (every fate but `pending`, which is set at the end).
    pub fn settled(&self) -> u64 {
        self.delivered
            + self.to_destination
            + self.discarded
            + self.filtered
            + self.skipped
            + self.expired
    }
}

/// Invocation counters (R-METRIC-2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InvocationCounts {
    pub total: u64,
    pub ok: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub partial: u64,
    pub invalid_response: u64,
    pub cloudwatch_errors: u64,
    pub throttles: u64,
    pub bisections: u64,
    pub cold_starts: u64,
}

impl InvocationCounts {
    pub fn add(&mut self, o: &InvocationCounts) {
        self.total += o.total;
        self.ok += o.ok;
        self.errors += o.errors;
        self.timeouts += o.timeouts;
        self.partial += o.partial;
        self.invalid_response += o.invalid_response;
        self.cloudwatch_errors += o.cloudwatch_errors;
        self.throttles += o.throttles;
        self.bisections += o.bisections;
        self.cold_starts += o.cold_starts;
    }
}

/// A millisecond histogram with its exact maximum.
#[derive(Clone, Debug)]
pub struct MsHistogram {
    hist: Histogram<u64>,
    max: u64,
}

impl Default for MsHistogram {
    fn default() -> Self {
        MsHistogram {
            hist: Histogram::new(3).expect("3 significant digits is valid"),
            max: 0,
        }
    }
}

impl MsHistogram {
    pub fn record(&mut self, ms: u64) {
        self.record_n(ms, 1);
    }

    pub fn record_n(&mut self, ms: u64, n: u64) {
        if n == 0 {
            return;
        }
        // Auto-resizing histograms accept any u64; saturate rather than fail.
        let _ = self.hist.record_n(ms, n);
        self.max = self.max.max(ms);
    }

    /// Raises the exact maximum without adding a sample (for values a histogram records
    /// only approximately, such as the oldest record of a chunk).
    pub fn note_max(&mut self, ms: u64) {
        self.max = self.max.max(ms);
    }

    pub fn add(&mut self, o: &MsHistogram) {
        let _ = self.hist.add(&o.hist);
        self.max = self.max.max(o.max);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q`, never above the exact maximum; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            return 0;
        }
        self.hist.value_at_quantile(q).min(self.max)
    }
}

/// Everything observed of one shard.
#[derive(Clone, Debug, Default)]
pub struct ShardMetrics {
    pub records: RecordCounts,
    pub invocations: InvocationCounts,
    pub iterator_age: MsHistogram,
    pub checkpoint_lag: MsHistogram,
    pub latency: MsHistogram,
    /// Time spent with a failing batch waiting to be retried.
    pub blocked_us: u64,
    /// Records written, each rounded up to 1 KiB (ON_DEMAND's billing unit).
    pub written_kib: u64,
    /// How long the shard waited for its parents before the mapping read it (R-RESHARD-3).
    pub parent_wait_us: u64,
    pub batches: u64,
    pub batch_records_sum: u64,
    pub batch_records_max: u64,
    /// Billed milliseconds of this shard's invocations (cold starts included).
    pub billed_ms: u64,
    /// PUT payload units of accepted writes (R-COST-1).
    pub put_units: u64,
    /// The counters at the last time-series sample.
    pub since_sample: crate::observe::timeseries::SampleBase,
}
