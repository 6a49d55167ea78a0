//! The event source mapping's work on one shard: polling, batching, invoking, and
//! retention trimming the records it holds (R-POLL-1, R-BATCH-1..4, R-ORDER-1, R-CONC-2,
//! R-ERR-6, R-METRIC-1). What follows an invocation's end (success, retries, bisect,
//! partial responses, discards) is in `retry.rs`.
//!
//! With ParallelizationFactor 1 a shard has one lane, and the lane's records are index
//! ranges of the shard's log: `[checkpoint, batch.first)` is empty, `[batch.first,
//! batch.end)` is the batch in flight or waiting, `[batch.end, read_pos)` the records read
//! and queued. Everything below `checkpoint` has its fate (I-1); the checkpoint only moves
//! forward (I-2). A lane has at most one timer, whose meaning its state gives.

use serde_json::json;

use crate::model::event::{Event, LaneRef};
use crate::model::function::{BatchFacts, Invocation, PoisonHit, Start};
use crate::model::payload::{EVENT_ENVELOPE_BYTES, PAYLOAD_CAP_BYTES, event_bytes};
use crate::model::ranges::RangeSet;
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
    /// Invocations of this batch that reached the function (approximateInvokeCount).
    pub invocations: u32,
    /// Failed invocations: the retry count of R-ERR-3 and the backoff's exponent.
    pub failures: u32,
    /// Throttled attempts since the last invocation (the throttle backoff's exponent).
    pub throttles: u32,
    /// The invocation in flight started a new execution environment.
    pub cold: bool,
}

impl Batch {
    pub fn new(first: SeqIndex, end: SeqIndex) -> Self {
        Batch {
            first,
            end,
            invocations: 0,
            failures: 0,
            throttles: 0,
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
    /// Halves of bisected batches waiting their turn, the next on top (R-BISECT-1).
    pub halves: Vec<Batch>,
    /// The invocation in flight, decided when it started.
    pub inflight: Option<Invocation>,
    /// In-flight records processed successfully at least once (for `duplicates`).
    pub processed: RangeSet,
    /// In-flight records delivered at least once (for `redeliveries`).
    pub delivered: RangeSet,
    /// Generation of the lane's one live timer; older timers are stale.
    pub generation: u32,
    /// When the open batching window opened (R-BATCH-3).
    pub window_since: Option<SimTime>,
    /// When the current run of failures began (for `blocked_ms`).
    pub blocked_since: Option<SimTime>,
}

impl Lane {
    /// First record not in a batch (nor in a bisected half).
    pub fn queue_start(&self) -> SeqIndex {
        let current = match self.state {
            LaneState::Idle => self.checkpoint,
            LaneState::Invoking(b) | LaneState::Waiting(b) => b.end,
        };
        self.halves
            .iter()
            .map(|h| h.end)
            .fold(current, SeqIndex::max)
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
    pub(crate) fn schedule_lane_timer(&mut self, s: usize, at: SimTime) {
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

    pub(crate) fn cancel_lane_timer(&mut self, s: usize) {
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
    pub(crate) fn catch_up(&mut self, s: usize) {
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
    pub(crate) fn try_start(&mut self, s: usize) {
        if !self.mapping_enabled {
            return;
        }
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

    /// Sends a batch (first attempt or retry): retention trims its head (R-ERR-6), the
    /// record age cuts what is too old (R-ERR-4), then the function takes it or
    /// throttles (R-CONC-2).
    pub(crate) fn send(&mut self, s: usize, batch: Batch) {
        if !self.mapping_enabled {
            return self.park(s);
        }
        let now = self.now();
        self.shards[s].lane.state = LaneState::Waiting(batch);
        self.trim(s);
        self.cut_by_age(s);
        let LaneState::Waiting(mut batch) = self.shards[s].lane.state else {
            // Retention or age took the whole batch; the lane goes on.
            return self.next_batch(s);
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
        let entries_bytes: u64 = self.entries_bytes(s, batch.first, batch.end);
        let inv = if event_bytes(batch.len(), entries_bytes) > PAYLOAD_CAP_BYTES {
            // R-BATCH-4 [choice]: a record too big for the payload cap on its own can never
            // be sent; the attempt fails like a throw, and retries, age and the
            // destination deal with it.
            Invocation {
                outcome: crate::model::function::Outcome::Error,
                handler: SimDuration::ZERO,
                processed_prefix: 0,
                named: vec![],
                failed_offset: Some(0),
                function_error: crate::model::destination::FunctionError::Unhandled,
            }
        } else {
            self.function
                .invoke(now, &facts, rbif, &mut self.shards[s].rng)
        };
        if self.events_out.enabled() {
            let event = self.event_json(s, batch.first, batch.end);
            self.events_out.write_line(&event);
        }
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
        m.records.redeliveries += shard.lane.delivered.count_in(batch.first, batch.end);
        shard.lane.delivered.insert(batch.first, batch.end);
        m.batches += 1;
        m.batch_records_sum += n;
        m.batch_records_max = m.batch_records_max.max(n);
        batch.invocations += 1;
        batch.cold = start == Start::Cold;
        if batch.cold {
            m.invocations.cold_starts += 1;
        }
        let cold = if batch.cold {
            self.scenario.function.cold_start
        } else {
            SimDuration::ZERO
        };
        let wall = cold + inv.handler;
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
        shard.lane.inflight = Some(inv);
        shard.lane.state = LaneState::Invoking(batch);
        self.schedule_lane_timer(s, now + wall);
    }

    /// Bytes of the event entries of `[first, end)` (R-BATCH-2).
    fn entries_bytes(&self, s: usize, first: SeqIndex, end: SeqIndex) -> u64 {
        let mut total = 0;
        self.shards[s].log.for_each_in(first, end, |a, b, run| {
            total += (b - a) * u64::from(run.entry_bytes)
        });
        total
    }

    /// What the function needs to know of `[first, end)`; counts a delivery on each
    /// poison record in it (for `times: N`).
    fn batch_facts(&mut self, s: usize, first: SeqIndex, end: SeqIndex) -> BatchFacts {
        let shard = &mut self.shards[s];
        let log = &mut shard.log;
        let mut facts = BatchFacts {
            records: end - first,
            shard: shard.number,
            first_index: first,
            ..BatchFacts::default()
        };
        let mut poisoned = vec![];
        log.for_each_in(first, end, |a, b, run| {
            if let Some(behaviour) = run.tag.poison {
                // Poison runs hold one record each.
                poisoned.push((a, behaviour, facts.data_bytes + u64::from(run.data_bytes)));
            }
            facts.data_bytes += (b - a) * u64::from(run.data_bytes);
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

    /// The lane finished a batch (delivered or discarded): the next bisected half goes at
    /// once (R-BISECT-1); otherwise the lane reads on and starts the next batch.
    pub(crate) fn next_batch(&mut self, s: usize) {
        if !self.mapping_enabled {
            return self.park(s);
        }
        let lane = &mut self.shards[s].lane;
        if let Some(half) = lane.halves.pop() {
            lane.state = LaneState::Waiting(half);
            return self.send(s, half);
        }
        lane.state = LaneState::Idle;
        self.unblock(s);
        self.catch_up(s);
        if self.shards[s].lane.state == LaneState::Idle {
            self.try_start(s);
        }
    }

    /// The checkpoint passes `[first, end)`, which must start at it (I-2).
    pub(crate) fn pass_checkpoint(&mut self, s: usize, first: SeqIndex, end: SeqIndex) {
        let lane = &mut self.shards[s].lane;
        debug_assert_eq!(first, lane.checkpoint, "I-2: the checkpoint moves in order");
        lane.checkpoint = end;
        lane.processed.prune_below(end);
        lane.delivered.prune_below(end);
        // Records behind the checkpoint are never read again: drop them.
        self.shards[s].log.trim_to(end);
    }

    /// The checkpoint passes `[first, end)` as delivered, with its latency (R-METRIC-1).
    pub(crate) fn deliver(&mut self, s: usize, first: SeqIndex, end: SeqIndex) {
        if first >= end {
            return;
        }
        let now = self.now();
        let shard = &mut self.shards[s];
        shard.metrics.records.delivered += end - first;
        // Per run slice, in a few chunks: a slice's arrivals are evenly spaced, so chunk
        // midpoints are exact enough; the exact maximum is kept beside.
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
        self.pass_checkpoint(s, first, end);
    }

    pub(crate) fn unblock(&mut self, s: usize) {
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
        shard.lane.processed.prune_below(upto);
        shard.lane.delivered.prune_below(upto);
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
        for h in &mut shard.lane.halves {
            h.first = h.first.max(upto.min(h.end));
        }
        shard.lane.halves.retain(|h| !h.is_empty());
        if let LaneState::Waiting(mut b) = shard.lane.state {
            if b.first < upto {
                b.first = upto.min(b.end);
                if b.is_empty() {
                    // The whole batch expired: the next half, if any, is due at once.
                    self.cancel_lane_timer(s);
                    let lane = &mut self.shards[s].lane;
                    match lane.halves.pop() {
                        Some(half) => {
                            lane.state = LaneState::Waiting(half);
                            self.schedule_lane_timer(s, now);
                        }
                        None => {
                            lane.state = LaneState::Idle;
                            self.unblock(s);
                        }
                    }
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
