//! Counters and histograms of one shard, and of the whole run (the sum of its shards).
//!
//! Fates and counters are those defined at the end of spec/esm-rules.md; invocation
//! classes follow R-METRIC-2; ages and latency R-METRIC-1. Histograms hold milliseconds
//! with three significant digits and grow only as far as the largest value recorded, so
//! a healthy shard's histograms stay small. Maxima are kept exactly beside them.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::time::SimDuration;

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
        // Refusals alone can pass 2^64 (`World::write_span`); they saturate.
        self.rejected = self.rejected.saturating_add(o.rejected);
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

/// Values below this have a counter each in an hdrhistogram of three significant digits
/// (its first bucket counts 0..2048 one by one).
const DENSE_BELOW: u64 = 2048;

/// A millisecond histogram with its exact maximum.
///
/// Most values a run records are below two seconds, and recording them through
/// hdrhistogram cost a fifth of a fleet's run (its index arithmetic, per value). They are
/// counted here by value instead, as hdrhistogram's first bucket would count them, and
/// merged into one hdrhistogram when read: quantiles are exactly those of recording every
/// value into it. Larger values go to the hdrhistogram directly.
#[derive(Clone, Debug, Default)]
pub struct MsHistogram {
    /// `dense[v]`: how many times `v` (< `DENSE_BELOW`) was recorded; as long as the
    /// largest such value needs.
    dense: Vec<u64>,
    /// The values from `DENSE_BELOW` on, once there is one.
    wide: Option<Box<Histogram<u64>>>,
    max: u64,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

impl MsHistogram {
    #[inline]
    pub fn record(&mut self, ms: u64) {
        self.record_n(ms, 1);
    }

    #[inline]
    pub fn record_n(&mut self, ms: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.max = self.max.max(ms);
        if ms < DENSE_BELOW {
            let i = ms as usize;
            let count = match self.dense.get_mut(i) {
                Some(count) => count,
                None => self.grow_dense(i),
            };
            *count = count.saturating_add(n);
        } else {
            self.record_wide(ms, n);
        }
    }

    /// `record_n` of a value from `DENSE_BELOW` on: rare, and kept out of the callers.
    #[cold]
    #[inline(never)]
    fn record_wide(&mut self, ms: u64, n: u64) {
        // Auto-resizing histograms accept any u64; saturate rather than fail.
        let _ = self
            .wide
            .get_or_insert_with(|| Box::new(new_histogram()))
            .record_n(ms, n);
    }

    /// Makes room for value `i` (< `DENSE_BELOW`), at least doubling the room; returns
    /// its counter.
    #[cold]
    #[inline(never)]
    fn grow_dense(&mut self, i: usize) -> &mut u64 {
        let len = (i + 1)
            .max(self.dense.len() * 2)
            .clamp(64, DENSE_BELOW as usize);
        self.dense.resize(len, 0);
        &mut self.dense[i]
    }

    /// Raises the exact maximum without adding a sample (for values a histogram records
    /// only approximately, such as the oldest record of a chunk).
    pub fn note_max(&mut self, ms: u64) {
        self.max = self.max.max(ms);
    }

    pub fn add(&mut self, o: &MsHistogram) {
        if self.dense.len() < o.dense.len() {
            self.dense.resize(o.dense.len(), 0);
        }
        for (mine, theirs) in self.dense.iter_mut().zip(&o.dense) {
            *mine = mine.saturating_add(*theirs);
        }
        if let Some(theirs) = &o.wide {
            let _ = self
                .wide
                .get_or_insert_with(|| Box::new(new_histogram()))
                .add(&**theirs);
        }
        self.max = self.max.max(o.max);
    }

    pub fn count(&self) -> u64 {
        let dense = self.dense.iter().fold(0u64, |a, &c| a.saturating_add(c));
        dense.saturating_add(self.wide.as_ref().map_or(0, |h| h.len()))
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The values at quantiles `qs`, never above the exact maximum; 0 when empty.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        // Every value in one hdrhistogram, as if recorded there one by one.
        let mut all = self.wide.as_deref().cloned().unwrap_or_else(new_histogram);
        for (v, &c) in self.dense.iter().enumerate() {
            if c > 0 {
                let _ = all.record_n(v as u64, c);
            }
        }
        qs.map(|q| match all.is_empty() {
            true => 0,
            false => all.value_at_quantile(q).min(self.max),
        })
    }

    /// The value at quantile `q`, never above the exact maximum; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        self.quantiles([q])[0]
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

impl ShardMetrics {
    /// A batch of `n` records goes to the function, its last record `age_ms` old
    /// (R-METRIC-1's iterator age): what the healthy path counts (`World::steady_send`).
    #[inline]
    pub fn note_plain_send(&mut self, age_ms: u64, n: u64) {
        self.iterator_age.record(age_ms);
        self.since_sample.age_max_ms = self.since_sample.age_max_ms.max(age_ms);
        self.records.deliveries += n;
        self.batches += 1;
        self.batch_records_sum += n;
        self.batch_records_max = self.batch_records_max.max(n);
    }

    /// A warm invocation succeeded after `handler`: what the healthy path counts
    /// (`World::steady_end`).
    #[inline]
    pub fn note_plain_success(&mut self, handler: SimDuration) {
        self.billed_ms += handler.as_millis_ceil();
        self.invocations.total += 1;
        self.invocations.ok += 1;
        // CloudWatch's Errors (errors + timeouts) stay as the last failure left them.
        debug_assert_eq!(
            self.invocations.cloudwatch_errors,
            self.invocations.errors + self.invocations.timeouts
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Counting small values by value, then merging, gives the quantiles of recording
        /// every value into one hdrhistogram, also across `add` (the run's summary).
        #[test]
        fn quantiles_are_those_of_one_hdrhistogram(
            parts in proptest::collection::vec(
                proptest::collection::vec((0u64..5_000, 1u64..1_000), 0..40),
                1..4,
            ),
        ) {
            let mut reference = new_histogram();
            let mut max = 0;
            let mut sum = MsHistogram::default();
            for part in &parts {
                let mut h = MsHistogram::default();
                for &(v, n) in part {
                    h.record_n(v, n);
                    reference.record_n(v, n).unwrap();
                    max = max.max(v);
                }
                sum.add(&h);
            }
            let qs = [0.0, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];
            let expected = qs.map(|q| match reference.is_empty() {
                true => 0,
                false => reference.value_at_quantile(q).min(max),
            });
            prop_assert_eq!(sum.quantiles(qs), expected);
            prop_assert_eq!(sum.count(), reference.len());
            prop_assert_eq!(sum.max(), max);
        }
    }
}
