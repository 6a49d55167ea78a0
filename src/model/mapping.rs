//! The event source mapping's work on one shard: polling, batching, invoking, retrying,
//! and retention trimming the records it holds (R-POLL-1, R-BATCH-1..3, R-ORDER-1,
//! R-CONC-2, R-ERR-1/2/5/6, R-METRIC-1).
//!
//! With ParallelizationFactor 1 a shard has one lane, and the lane's records are index
//! ranges of the shard's log: `[checkpoint, batch.first)` is empty, `[batch.first,
//! batch.end)` is the batch in flight or waiting, `[batch.end, read_pos)` the records read
//! and queued. Everything below `checkpoint` has its fate (I-1); the checkpoint only moves
//! forward (I-2). A lane has at most one timer, whose meaning its state gives.

use serde_json::json;

use crate::model::event::{Event, LaneRef};
use crate::model::function::{BatchFacts, Invocation, Outcome, PoisonHit, Start};
use crate::model::payload::{EVENT_ENVELOPE_BYTES, PAYLOAD_CAP_BYTES};
use crate::model::stream::{SeqIndex, sequence_number};
use crate::model::world::World;
use crate::time::{SimDuration, SimTime};

/// At most this many records per GetRecords call (R-STREAM-5).
pub const GET_RECORDS_MAX_RECORDS: u64 = 10_000;
/// At most this many data bytes per GetRecords call (R-STREAM-5).
pub const GET_RECORDS_MAX_BYTES: u64 = 10 << 20;

/// A batch: a range of the shard's log, and its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub first: SeqIndex,
    pub end: SeqIndex,
    /// Invocations of this batch that reached the function.
    pub invocations: u32,
    /// Failed invocations (the exponent of the retry backoff).
    pub failures: u32,
    /// Throttled attempts since the last invocation (the throttle backoff's exponent).
    pub throttles: u32,
    /// Records `[first, processed_upto)` were processed successfully at least once.
    pub processed_upto: SeqIndex,
    /// The invocation in flight, decided when it started.
    pub current: Option<Invocation>,
    pub cold: bool,
}

impl Batch {
    fn new(first: SeqIndex, end: SeqIndex) -> Self {
        Batch {
            first,
            end,
            invocations: 0,
            failures: 0,
            throttles: 0,
            processed_upto: first,
            current: None,
            cold: false,
        }
    }

    pub fn len(&self) -> u64 {
        self.end - self.first
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.first
    }
}

/// What a lane is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LaneState {
    /// No batch; a batching window may be open (its end is the lane's timer).
    #[default]
    Idle,
    /// An invocation of the batch is running; the timer is its end.
    Invoking(Batch),
    /// The batch failed or was throttled; the timer is the retry.
    Waiting(Batch),
}

#[derive(Clone, Debug, Default)]
pub struct Lane {
    /// Oldest record without a fate.
    pub checkpoint: SeqIndex,
    pub state: LaneState,
    /// Generation of the lane's one live timer; older timers are stale.
    pub generation: u32,
    /// When the open batching window opened (R-BATCH-3).
    pub window_since: Option<SimTime>,
    /// When the current run of failures began (for `blocked_ms`).
    pub blocked_since: Option<SimTime>,
}

impl Lane {
    /// First record not in a batch.
    pub fn queue_start(&self) -> SeqIndex {
        match self.state {
            LaneState::Idle => self.checkpoint,
            LaneState::Invoking(b) | LaneState::Waiting(b) => b.end,
        }
    }

    /// A failing (or throttled) batch waits: the lane is blocked and is not polled for.
    pub fn is_blocked(&self) -> bool {
        matches!(self.state, LaneState::Waiting(_))
    }
}

/// R-ERR-5 [choice]: the k-th retry waits initial * 2^(k-1), capped.
pub fn backoff(initial: SimDuration, max: SimDuration, k: u32) -> SimDuration {
    let shift = k.saturating_sub(1).min(40);
    SimDuration(initial.0.saturating_mul(1u64 << shift)).min(max)
}

impl World {
    fn schedule_lane_timer(&mut self, s: usize, at: SimTime) {
        let lane = &mut self.shards[s].lane;
        lane.generation = lane.generation.wrapping_add(1);
        let generation = lane.generation;
        self.engine.schedule(
            at,
            Event::LaneTimer {
                lane: LaneRef {
                    shard: s as u32,
                    lane: 0,
                },
                generation,
            },
        );
    }

    fn cancel_lane_timer(&mut self, s: usize) {
        let lane = &mut self.shards[s].lane;
        lane.generation = lane.generation.wrapping_add(1);
    }

    /// A poll event (R-POLL-1): trims, then reads if the lane is not blocked and has
    /// fewer than BatchSize records queued.
    pub(crate) fn poll(&mut self, s: usize, tick: bool) {
        let now = self.now();
        if tick {
            self.engine.schedule(
                now + SimDuration::from_secs(1),
                Event::Poll {
                    shard: s as u32,
                    tick: true,
                },
            );
        } else {
            self.shards[s].poll.extra_pending = false;
        }
        if !self.mapping_enabled {
            return;
        }
        self.trim(s);
        self.read_if_wanted(s);
    }

    /// Reads one GetRecords call's worth if the lane wants records and the call limit
    /// allows; then starts a batch if the lane is idle.
    fn read_if_wanted(&mut self, s: usize) {
        let now = self.now();
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let shard = &mut self.shards[s];
        if shard.lane.is_blocked() || shard.read_pos - shard.lane.queue_start() >= batch_size {
            return;
        }
        if !shard.poll.may_call(now) {
            return;
        }
        shard.poll.record_call(now);
        let from = shard.read_pos.max(shard.log.head());
        let avail_end = shard.log.arrived_prefix_end(from, now);
        let mut end = from;
        let mut bytes = 0u64;
        let mut capped = false;
        shard.log.for_each_in(from, avail_end, |a, b, run| {
            if capped {
                return;
            }
            let room_records = GET_RECORDS_MAX_RECORDS - (end - from);
            let per = u64::from(run.data_bytes).max(1);
            let room_bytes = (GET_RECORDS_MAX_BYTES - bytes) / per;
            let take = (b - a)
                .min(room_records)
                .min(room_bytes.max(u64::from(end == from)));
            end += take;
            bytes += take * u64::from(run.data_bytes);
            if take < b - a {
                capped = true;
            }
        });
        shard.read_pos = end;
        shard.poll.behind = capped || end - from >= GET_RECORDS_MAX_RECORDS;
        if shard.lane.state == LaneState::Idle {
            self.try_start(s);
        }
    }

    /// After a batch finishes on a shard that is behind, the next poll need not wait
    /// for the tick (R-POLL-1): now if the call limit allows, else as soon as it does.
    fn catch_up(&mut self, s: usize) {
        let now = self.now();
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let shard = &mut self.shards[s];
        if !shard.poll.behind
            || shard.poll.extra_pending
            || shard.read_pos - shard.lane.queue_start() >= batch_size
        {
            return;
        }
        if shard.poll.may_call(now) {
            self.read_if_wanted(s);
        } else {
            shard.poll.extra_pending = true;
            let at = shard.poll.next_allowed().max(now);
            self.engine.schedule(
                at,
                Event::Poll {
                    shard: s as u32,
                    tick: false,
                },
            );
        }
    }

    /// The lane is idle: send the next batch if R-BATCH-1 says so, or open the batching
    /// window (R-BATCH-3).
    fn try_start(&mut self, s: usize) {
        let now = self.now();
        let window = self.scenario.mapping.batching_window;
        let (first, end, full) = self.next_batch_range(s);
        if first == end {
            self.shards[s].lane.window_since = None;
            return;
        }
        if !window.is_zero() && !full {
            let lane = &mut self.shards[s].lane;
            match lane.window_since {
                Some(since) if now >= since + window => {}
                Some(_) => return, // its timer is already set
                None => {
                    lane.window_since = Some(now);
                    self.schedule_lane_timer(s, now + window);
                    return;
                }
            }
        }
        self.shards[s].lane.window_since = None;
        self.send(s, Batch::new(first, end));
    }

    /// The queued records the next batch takes: at most BatchSize, and no more than fit
    /// the payload cap (R-BATCH-1, R-BATCH-2). `full` when a limit, not the queue, ended it.
    fn next_batch_range(&self, s: usize) -> (SeqIndex, SeqIndex, bool) {
        let shard = &self.shards[s];
        let first = shard.lane.queue_start();
        let queued_end = shard.read_pos;
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let size_end = queued_end.min(first + batch_size);
        // Each record costs its entry plus a comma; the budget counts the envelope and
        // gives back the comma the first record does not have.
        let mut budget = PAYLOAD_CAP_BYTES + 1 - EVENT_ENVELOPE_BYTES;
        let mut end = first;
        let mut capped = false;
        shard.log.for_each_in(first, size_end, |a, b, run| {
            if capped {
                return;
            }
            let cost = u64::from(run.entry_bytes) + 1;
            let fit = (budget / cost).min(b - a);
            // A record too big for the cap on its own still makes a batch of one (R-BATCH-4).
            let fit = if end == first && fit == 0 { 1 } else { fit };
            end += fit;
            budget = budget.saturating_sub(fit * cost);
            if fit < b - a {
                capped = true;
            }
        });
        let full = capped || end - first >= batch_size;
        (first, end, full)
    }

    /// Sends a batch (first attempt or retry): retention first trims its head (R-ERR-6),
    /// then the function takes it or throttles (R-CONC-2).
    fn send(&mut self, s: usize, batch: Batch) {
        let now = self.now();
        self.shards[s].lane.state = LaneState::Waiting(batch);
        self.trim(s);
        let LaneState::Waiting(mut batch) = self.shards[s].lane.state else {
            // Retention took the whole batch; the lane goes on.
            self.try_start(s);
            return;
        };
        let sim = &self.scenario.simulation;
        let (initial, max) = (sim.retry_backoff_initial, sim.retry_backoff_max);
        let start = self.function.start(now);
        if start == Start::Throttled {
            batch.throttles += 1;
            let shard = &mut self.shards[s];
            shard.metrics.invocations.throttles += 1;
            shard.lane.state = LaneState::Waiting(batch);
            shard.lane.blocked_since.get_or_insert(now);
            self.trace
                .line(now, "throttle", json!({"shard": shard.id, "lane": 0}));
            self.schedule_lane_timer(s, now + backoff(initial, max, batch.throttles));
            return;
        }
        batch.throttles = 0;
        let facts = self.batch_facts(s, batch.first, batch.end);
        let rbif = self.scenario.mapping.report_batch_item_failures;
        let inv = self
            .function
            .invoke(now, &facts, rbif, &mut self.shards[s].rng);
        let shard = &mut self.shards[s];
        let n = batch.len();
        let last_arrival = shard.log.arrival(batch.end - 1).unwrap_or(now);
        // R-METRIC-1: iterator age at every send, from the batch's last record.
        shard
            .metrics
            .iterator_age
            .record(now.saturating_since(last_arrival).as_millis());
        let m = &mut shard.metrics;
        m.records.deliveries += n;
        if batch.invocations > 0 {
            m.records.redeliveries += n;
        }
        m.batches += 1;
        m.batch_records_sum += n;
        m.batch_records_max = m.batch_records_max.max(n);
        batch.invocations += 1;
        batch.cold = start == Start::Cold;
        if batch.cold {
            m.invocations.cold_starts += 1;
        }
        batch.current = Some(inv);
        let wall = if batch.cold {
            self.scenario.function.cold_start
        } else {
            SimDuration::ZERO
        } + inv.handler;
        if self.trace.enabled() {
            let mut line = json!({
                "shard": shard.id, "lane": 0, "attempt": batch.invocations,
                "first_seq": sequence_number(shard.number, batch.first),
                "last_seq": sequence_number(shard.number, batch.end - 1),
                "records": n, "bytes": facts.data_bytes, "outcome": inv.outcome.as_str(),
                "duration_ms": wall.as_millis(),
            });
            if let Some(off) = inv.failed_offset {
                line["failed_seq"] = json!(sequence_number(shard.number, batch.first + off));
            }
            self.trace.line(now, "invoke", line);
        }
        self.shards[s].lane.state = LaneState::Invoking(batch);
        self.schedule_lane_timer(s, now + wall);
    }

    /// What the function needs to know of `[first, end)`; counts a delivery on each
    /// poison record in it (for `times: N`).
    fn batch_facts(&mut self, s: usize, first: SeqIndex, end: SeqIndex) -> BatchFacts {
        let log = &mut self.shards[s].log;
        let mut facts = BatchFacts {
            records: end - first,
            ..BatchFacts::default()
        };
        let mut poisoned = vec![];
        log.for_each_in(first, end, |a, b, run| {
            facts.data_bytes += (b - a) * u64::from(run.data_bytes);
            if let Some(behaviour) = run.tag.poison {
                poisoned.push((a, behaviour, facts.data_bytes));
            }
        });
        for (idx, behaviour, bytes_through) in poisoned {
            let hits = log.run_of_mut(idx).map(|r| {
                r.hits += 1;
                r.hits
            });
            facts.poisons.push(PoisonHit {
                offset: idx - first,
                bytes_through,
                behaviour,
                hits: hits.unwrap_or(1),
            });
        }
        facts
    }

    /// The lane's timer fired: an invocation ended, a retry is due, or a window closed.
    pub(crate) fn lane_timer(&mut self, s: usize, generation: u32) {
        if self.shards[s].lane.generation != generation {
            return; // stale
        }
        match self.shards[s].lane.state {
            LaneState::Idle => self.try_start(s),
            LaneState::Invoking(batch) => self.invocation_ended(s, batch),
            LaneState::Waiting(batch) => self.send(s, batch),
        }
    }

    fn invocation_ended(&mut self, s: usize, mut batch: Batch) {
        let now = self.now();
        self.function.finish(now);
        let inv = batch
            .current
            .take()
            .expect("an invoking batch has its invocation");
        let cold = if batch.cold {
            self.scenario.function.cold_start
        } else {
            SimDuration::ZERO
        };
        let shard = &mut self.shards[s];
        let m = &mut shard.metrics;
        m.billed_ms += (cold + inv.handler).as_millis_ceil();
        m.invocations.total += 1;
        match inv.outcome {
            Outcome::Ok => m.invocations.ok += 1,
            Outcome::Error => m.invocations.errors += 1,
            Outcome::Timeout => m.invocations.timeouts += 1,
        }
        m.invocations.cloudwatch_errors = m.invocations.errors + m.invocations.timeouts;
        // Duplicates: successful processings of records processed successfully before.
        let processed_end = batch.first + inv.processed;
        if batch.processed_upto > batch.first {
            m.records.duplicates += processed_end.min(batch.processed_upto) - batch.first;
        }
        batch.processed_upto = batch.processed_upto.max(processed_end);
        m.records.acknowledged_unprocessed += inv.acknowledged_unprocessed;
        match inv.outcome {
            Outcome::Ok => {
                self.deliver(s, batch.first, batch.end);
                self.shards[s].lane.state = LaneState::Idle;
                self.unblock(s);
                self.catch_up(s);
                if self.shards[s].lane.state == LaneState::Idle {
                    self.try_start(s);
                }
            }
            Outcome::Error | Outcome::Timeout => {
                // R-ERR-2: the whole batch is retried, after the backoff of R-ERR-5.
                batch.failures += 1;
                let sim = &self.scenario.simulation;
                let delay = backoff(
                    sim.retry_backoff_initial,
                    sim.retry_backoff_max,
                    batch.failures,
                );
                let lane = &mut self.shards[s].lane;
                lane.state = LaneState::Waiting(batch);
                lane.blocked_since.get_or_insert(now);
                self.schedule_lane_timer(s, now + delay);
            }
        }
    }

    /// The checkpoint passes `[first, end)` as delivered.
    fn deliver(&mut self, s: usize, first: SeqIndex, end: SeqIndex) {
        let now = self.now();
        let shard = &mut self.shards[s];
        debug_assert_eq!(
            first, shard.lane.checkpoint,
            "I-2: the checkpoint moves in order"
        );
        shard.metrics.records.delivered += end - first;
        // R-METRIC-1 latency, write to checkpoint: per run slice, in a few chunks (the
        // arrivals of a slice are evenly spaced, so chunk midpoints are exact enough).
        let latency = &mut shard.metrics.latency;
        shard.log.for_each_in(first, end, |a, b, run| {
            let n = b - a;
            let chunks = n.min(4);
            for c in 0..chunks {
                let lo = a + n * c / chunks;
                let hi = a + n * (c + 1) / chunks;
                let mid = lo + (hi - lo) / 2;
                latency.record_n(now.saturating_since(run.arrival(mid)).as_millis(), hi - lo);
            }
            latency.note_max(now.saturating_since(run.arrival(a)).as_millis());
        });
        shard.lane.checkpoint = end;
        // Records behind the checkpoint are never read again: drop them.
        shard.log.trim_to(end);
    }

    fn unblock(&mut self, s: usize) {
        let now = self.now();
        let shard = &mut self.shards[s];
        if let Some(since) = shard.lane.blocked_since.take() {
            shard.metrics.blocked_us += now.saturating_since(since).0;
        }
    }

    /// Retention trims the shard (R-STREAM-4, R-ERR-6): records older than the retention
    /// are gone; those without a fate are `expired`. A batch waiting for its retry loses
    /// its head; an invocation in flight keeps its records until it ends.
    pub(crate) fn trim(&mut self, s: usize) {
        let now = self.now();
        let retention = self.scenario.stream.retention;
        if now.0 < retention.0 {
            return;
        }
        let horizon = SimTime(now.0 - retention.0);
        let shard = &mut self.shards[s];
        let head = shard.log.head();
        let mut upto = shard.log.arrived_prefix_end(head, horizon);
        if let LaneState::Invoking(b) = shard.lane.state {
            upto = upto.min(b.first);
        }
        if upto <= head {
            return;
        }
        shard.log.trim_to(upto);
        let expired = upto.saturating_sub(shard.lane.checkpoint.max(head));
        if expired > 0 {
            shard.metrics.records.expired += expired;
            self.trace.line(
                now,
                "expire",
                json!({"shard": shard.id, "records": expired}),
            );
        }
        shard.lane.checkpoint = shard.lane.checkpoint.max(upto);
        shard.read_pos = shard.read_pos.max(upto);
        if let LaneState::Waiting(mut b) = shard.lane.state {
            if b.first < upto {
                b.first = upto.min(b.end);
                b.processed_upto = b.processed_upto.max(b.first);
                if b.is_empty() {
                    shard.lane.state = LaneState::Idle;
                    self.cancel_lane_timer(s);
                    self.unblock(s);
                } else {
                    shard.lane.state = LaneState::Waiting(b);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_err_5_backoff_gives_attempts_at_0_1_3_7_15_27_39_51() {
        let (i, m) = (SimDuration::from_secs(1), SimDuration::from_secs(12));
        let mut t = 0;
        let mut starts = vec![0];
        for k in 1..=7 {
            t += backoff(i, m, k).0 / 1_000_000;
            starts.push(t);
        }
        assert_eq!(starts, vec![0, 1, 3, 7, 15, 27, 39, 51]);
    }
}
