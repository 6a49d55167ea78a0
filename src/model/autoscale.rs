//! A reactive resharding strategy (`autoscale`): every `period` it reads one metric and,
//! when the metric has been past a threshold for `periods` evaluations in a row, calls
//! UpdateShardCount to double or halve the open shards, within `min_shards..=max_shards`.
//! The call goes through the same AWS limits as an operator's (R-RESHARD-1): a refused
//! call is recorded in the summary's `actions` like any other.
//!
//! [choice] No call while the stream is UPDATING or within `cooldown` of the last
//! resharding's completion (or of a refused call), so the strategy does not hammer AWS.

use crate::model::event::Event;
use crate::model::world::{WRITE_LIMIT_BYTES, WRITE_LIMIT_RECORDS, World};
use crate::scenario::{ActionKind, AutoscaleMetric};
use crate::time::{SimDuration, SimTime};

/// What the strategy remembers between evaluations.
#[derive(Clone, Debug, Default)]
pub struct Autoscaler {
    /// Records and bytes offered to the stream since the last evaluation.
    offered_records: u64,
    offered_bytes: u64,
    /// Evaluations in a row above the scale-out / below the scale-in threshold.
    above: u32,
    below: u32,
    /// When the last call was refused.
    refused_at: Option<SimTime>,
}

impl Autoscaler {
    /// Producers offered `records` of `bytes` in total (accepted or not).
    pub fn offered(&mut self, records: u64, bytes: u64) {
        self.offered_records = self.offered_records.saturating_add(records);
        self.offered_bytes = self.offered_bytes.saturating_add(bytes);
    }
}

impl World {
    /// The metric the strategy watches, in its unit: milliseconds of iterator age (the
    /// oldest unfinished record over all shards, as IteratorAge's maximum shows it), or
    /// parts per million of write utilisation over the last period.
    fn autoscale_metric(&mut self, metric: AutoscaleMetric, period: SimDuration) -> u64 {
        let now = self.now();
        match metric {
            AutoscaleMetric::IteratorAge => self
                .shards
                .iter()
                .map(|sh| sh.checkpoint_lag_ms(now))
                .max()
                .unwrap_or(0),
            AutoscaleMetric::WriteUtilisation => {
                let a = &mut self.autoscaler;
                let (records, bytes) = (
                    std::mem::take(&mut a.offered_records),
                    std::mem::take(&mut a.offered_bytes),
                );
                let open = self.open_shards().len() as u128;
                let secs_us = u128::from(period.0);
                // offered / (open × limit per second × seconds), in ppm.
                let of = |offered: u64, limit: u64| {
                    let capacity = open * u128::from(limit) * secs_us;
                    let ppm = (u128::from(offered) * 1_000_000 * 1_000_000)
                        .checked_div(capacity)
                        .unwrap_or(0);
                    u64::try_from(ppm).unwrap_or(u64::MAX)
                };
                of(records, WRITE_LIMIT_RECORDS).max(of(bytes, WRITE_LIMIT_BYTES))
            }
        }
    }

    /// One evaluation of the strategy.
    pub(crate) fn autoscale(&mut self) {
        let Some(policy) = self.scenario.autoscale.clone() else {
            return;
        };
        let now = self.now();
        self.engine.schedule(now + policy.period, Event::Autoscale);
        let value = self.autoscale_metric(policy.metric, policy.period);
        let a = &mut self.autoscaler;
        a.above = if value > policy.scale_out_above {
            a.above + 1
        } else {
            0
        };
        a.below = match policy.scale_in_below {
            Some(below) if value < below => a.below + 1,
            _ => 0,
        };
        let cooling = [self.resharding.last_completed, a.refused_at]
            .into_iter()
            .flatten()
            .any(|t| now < t + policy.cooldown);
        if self.resharding.is_updating() || cooling {
            return;
        }
        let open = self.open_shards().len() as u32;
        let a = &mut self.autoscaler;
        // Out only ever grows the stream and in only shrinks it, whatever the bounds.
        let target = if a.above >= policy.periods {
            (open * 2).min(policy.max_shards).max(open)
        } else if a.below >= policy.periods {
            open.div_ceil(2).max(policy.min_shards).min(open)
        } else {
            return;
        };
        if target == open {
            return;
        }
        a.above = 0;
        a.below = 0;
        let shown = match policy.metric {
            AutoscaleMetric::IteratorAge => {
                format!("iterator age {}", SimDuration::from_millis(value))
            }
            AutoscaleMetric::WriteUtilisation => {
                format!("write utilisation {:.1}%", value as f64 / 10_000.0)
            }
        };
        let what = format!("autoscale: update_shard_count {target} ({shown})");
        if !self.reshard_action(&ActionKind::UpdateShardCount { target }, what) {
            self.autoscaler.refused_at = Some(now);
        }
    }
}
