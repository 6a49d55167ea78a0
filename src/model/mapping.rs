//! The event source mapping's work on one shard: polling, batching, invoking, and
//! retention trimming the records it holds (R-POLL-1, R-BATCH-1..4, R-ORDER-1..3,
//! R-CONC-2, R-ERR-6, R-METRIC-1). What follows an invocation's end (success, retries,
//! bisect, partial responses, discards) is in `retry.rs`.
//!
//! A shard's records split into ParallelizationFactor lanes by partition key
//! (R-ORDER-2); each run of the log belongs to one lane. A lane's positions are indexes
//! of the shard's log, and its records are the log's records of its lane between them:
//! `[checkpoint, batch.first)` holds none of them, `[batch.first, batch.end)` is the
//! batch in flight or waiting, `[batch.end, read_pos)` the lane's queue (read, not yet
//! batched). Every lane record below `fated` has its fate (I-1); fates move forward only
//! (I-2). A lane has at most one timer, whose meaning its state gives.

use serde_json::json;

use crate::model::event::{Event, LaneRef};
use crate::model::function::{BatchFacts, PoisonHit, Start};
use crate::model::payload::{EVENT_ENVELOPE_BYTES, PAYLOAD_CAP_BYTES, event_bytes};
use crate::model::ranges::RangeSet;
use crate::model::reads::ReadLimits;
use crate::model::retry::Inflight;
use crate::model::stream::{SeqIndex, sequence_number};
use crate::model::world::{Shard, World};
use crate::observe::metrics::MsHistogram;
use crate::scenario::LaneBlocking;
use crate::time::{SimDuration, SimTime};

/// At most this many records per GetRecords call (R-STREAM-5).
pub const GET_RECORDS_MAX_RECORDS: u64 = 10_000;
/// At most this many data bytes per GetRecords call (R-STREAM-5).
pub const GET_RECORDS_MAX_BYTES: u64 = 10 << 20;

/// What one GetRecords call takes (`World::read_span`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadSpan {
    /// The read position after the call.
    pub end: SeqIndex,
    /// Data bytes read.
    pub bytes: u64,
    /// The call was full: the shard is behind (R-POLL-1).
    pub behind: bool,
}

impl ReadSpan {
    /// The call from `from` when `[from, avail_end)` is readable, all in one run of
    /// records of `data_bytes` bytes: as many as the caps allow (R-POLL-1).
    #[inline]
    pub(crate) fn in_one_run(from: SeqIndex, avail_end: SeqIndex, data_bytes: u32) -> ReadSpan {
        let avail = avail_end - from;
        let per = u64::from(data_bytes).max(1);
        let take = fit_in_budget(
            avail.min(GET_RECORDS_MAX_RECORDS),
            per,
            GET_RECORDS_MAX_BYTES,
        )
        .max(1)
        .min(avail);
        ReadSpan {
            end: from + take,
            bytes: take * u64::from(data_bytes),
            behind: take < avail || take >= GET_RECORDS_MAX_RECORDS,
        }
    }
}

/// What a batch's records may take of the payload cap (R-BATCH-2): each record costs its
/// entry plus a comma, so the budget counts the envelope and gives back the comma the
/// first record does not have.
const BATCH_BUDGET: u64 = PAYLOAD_CAP_BYTES + 1 - EVENT_ENVELOPE_BYTES;

/// A batch from the `queued` records of a lane's queue that one run holds, each taking
/// `entry_bytes` in the event: as many as BatchSize and the payload cap allow (R-BATCH-2;
/// a record too big for the cap still makes a batch of one, R-BATCH-4). Returns the
/// batch's records and whether it is full (it leaves records queued or holds BatchSize).
#[inline]
pub(crate) fn batch_in_one_run(queued: u64, entry_bytes: u32, batch_size: u64) -> (u64, bool) {
    let cost = u64::from(entry_bytes) + 1;
    let fit = fit_in_budget(queued.min(batch_size), cost, BATCH_BUDGET).max(1);
    (fit, fit < queued || fit >= batch_size)
}

/// A batch: the records of one lane in a range of the shard's log, and its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Index of the batch's first record.
    pub first: SeqIndex,
    /// One past the index of its last record.
    pub end: SeqIndex,
    /// Records of the lane in `[first, end)`.
    pub records: u64,
    /// Invocations of this batch that reached the function (approximateInvokeCount).
    pub invocations: u32,
    /// Failed invocations: the retry count of R-ERR-3 and the backoff's exponent.
    pub failures: u32,
    /// Throttled attempts since the last invocation (the throttle backoff's exponent).
    pub throttles: u32,
    /// The invocation in flight started a new execution environment.
    pub cold: bool,
    /// A tumbling window's final invocation (no records, R-WINDOW-2).
    pub final_window: bool,
}

impl Batch {
    pub fn new(first: SeqIndex, end: SeqIndex, records: u64) -> Self {
        Batch {
            first,
            end,
            records,
            invocations: 0,
            failures: 0,
            throttles: 0,
            cold: false,
            final_window: false,
        }
    }

    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
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
    /// The lane's number in its shard.
    pub index: u8,
    /// No record of the lane below this index is unfinished.
    pub checkpoint: SeqIndex,
    /// Every record of the lane below this index has its fate; re-reads after a restart
    /// (R-ORDER-3) never give a record a second one.
    pub fated: SeqIndex,
    pub state: LaneState,
    /// Halves of bisected batches waiting their turn, the next on top (R-BISECT-1).
    pub halves: Vec<Batch>,
    /// The invocation in flight, decided when it started.
    pub inflight: Option<Inflight>,
    /// Records processed successfully at least once, above the shard's checkpoint.
    pub processed: RangeSet,
    /// Records delivered at least once, above the shard's checkpoint.
    pub delivered: RangeSet,
    /// Generation of the lane's one live timer; older timers are stale.
    pub generation: u32,
    /// When the open batching window opened (R-BATCH-3).
    pub window_since: Option<SimTime>,
    /// When the current run of failures began (for `blocked_ms`).
    pub blocked_since: Option<SimTime>,
    /// The tumbling window whose state the lane holds, until its final invocation.
    pub window: Option<u64>,
}

impl Lane {
    pub fn new(index: u8) -> Self {
        Lane {
            index,
            ..Lane::default()
        }
    }

    /// First index not in a batch (nor in a bisected half).
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

    /// The lane is blocked from its first failure (or throttle) until its batch is done,
    /// retries in flight included.
    pub fn is_blocked(&self) -> bool {
        self.blocked_since.is_some()
    }
}

/// Tumbling windows: aligned to multiples of their width on the wall clock, by record
/// arrival time (R-WINDOW-1).
#[derive(Clone, Copy, Debug)]
pub struct Windows {
    pub width_us: u64,
    /// Wall-clock time of t = 0, in microseconds since the Unix epoch.
    pub start_us: u64,
}

impl Windows {
    /// The window a record arriving at `t` belongs to.
    pub fn of(&self, t: SimTime) -> u64 {
        (self.start_us + t.0) / self.width_us
    }

    /// The simulated time at which window `w` ends.
    pub fn end(&self, w: u64) -> SimTime {
        SimTime(((w + 1) * self.width_us).saturating_sub(self.start_us))
    }
}

/// R-ERR-5 [choice]: the k-th retry waits initial * 2^(k-1), capped.
pub fn backoff(initial: SimDuration, max: SimDuration, k: u32) -> SimDuration {
    let shift = k.saturating_sub(1).min(40);
    SimDuration(initial.0.saturating_mul(1u64 << shift)).min(max)
}

impl World {
    pub(crate) fn schedule_lane_timer(&mut self, s: usize, l: usize, at: SimTime) {
        let lane = &mut self.shards[s].lanes[l];
        lane.generation = lane.generation.wrapping_add(1);
        let generation = lane.generation;
        let lane = LaneRef {
            shard: s as u32,
            lane: l as u8,
        };
        self.engine
            .schedule(at, Event::LaneTimer { lane, generation });
    }

    pub(crate) fn cancel_lane_timer(&mut self, s: usize, l: usize) {
        let lane = &mut self.shards[s].lanes[l];
        lane.generation = lane.generation.wrapping_add(1);
    }

    /// Whether lane `l` has fewer than BatchSize records queued (read, not batched):
    /// it wants more. Counts no further than BatchSize, however long a blocked lane's
    /// queue has grown.
    fn queue_short(&self, s: usize, l: usize) -> bool {
        let shard = &self.shards[s];
        let lane = &shard.lanes[l];
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        shard
            .log
            .lane_has_fewer(lane.queue_start(), shard.read_pos, lane.index, batch_size)
    }

    /// With `lane_blocking: shard`, a failing lane holds every lane of its shard
    /// (R-ORDER-3); with `lane` (the default), only itself.
    fn lane_held(&self, s: usize, l: usize) -> bool {
        let shard = &self.shards[s];
        match self.scenario.simulation.lane_blocking {
            LaneBlocking::Lane => shard.lanes[l].is_blocked(),
            LaneBlocking::Shard => shard.lanes.iter().any(Lane::is_blocked),
        }
    }

    /// Whether some lane the poll would feed is free and short of BatchSize records.
    fn wants_records(&self, s: usize) -> bool {
        (0..self.shards[s].lanes.len()).any(|l| !self.lane_held(s, l) && self.queue_short(s, l))
    }

    /// A poll event (R-POLL-1): trims, then reads if a lane wants records.
    pub(crate) fn poll(&mut self, s: usize, tick: bool) {
        let now = self.now();
        if self.shards[s].is_drained() {
            // A closed shard read to its end and checkpointed has nothing left: its polls
            // stop (R-RESHARD-2).
            self.shards[s].poll.extra_pending = false;
            return;
        }
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
        if !self.mapping_enabled || !self.lineage_clear(s) {
            return;
        }
        self.trim(s);
        if self.reads.efo && tick {
            // Enhanced fan-out is not polled: the tick only makes sure a push is due.
            self.schedule_push(s);
        } else {
            self.read_if_wanted(s);
        }
        // An idle lane may hold a tumbling window whose time is over (R-WINDOW-2).
        for l in 0..self.shards[s].lanes.len() {
            let lane = &self.shards[s].lanes[l];
            if lane.window.is_some() && lane.state == LaneState::Idle {
                self.try_start(s, l);
            }
        }
    }

    /// R-RESHARD-3: the mapping reads a child shard only once every parent is drained
    /// (closed, read to its end and checkpointed). A blocked parent holds its children
    /// back; their records wait, and may expire, meanwhile.
    fn lineage_clear(&mut self, s: usize) -> bool {
        if self.shards[s].reads_allowed {
            return true;
        }
        let shard = &self.shards[s];
        if !shard
            .parents
            .iter()
            .all(|&p| self.shards[p as usize].is_drained())
        {
            return false;
        }
        let now = self.now();
        let shard = &mut self.shards[s];
        shard.reads_allowed = true;
        let waited = now.saturating_since(shard.opened_at);
        shard.metrics.parent_wait_us = waited.0;
        self.trace.line(now, "lineage", || {
            json!({
                "shard": shard.id,
                "parents": shard.parents.iter().map(|&p| crate::model::stream::shard_id(p)).collect::<Vec<_>>(),
                "waited_ms": waited.as_millis(),
            })
        });
        true
    }

    /// Reads one GetRecords call's worth (in sequence order, every lane's records joining
    /// its queue) if a lane wants records and the call limit allows; then starts a batch
    /// on each idle lane.
    fn read_if_wanted(&mut self, s: usize) {
        let now = self.now();
        let limits = self.reads;
        if !self.wants_records(s) {
            return;
        }
        let shard = &mut self.shards[s];
        if !shard.poll.may_call(now, &limits) {
            if !limits.efo && shard.poll.refused(now, &limits) {
                // The call goes out and is refused: ReadProvisionedThroughputExceeded
                // (R-STREAM-5); it counts against the call limit all the same.
                shard.poll.record_call(now, 0, true);
                self.trace
                    .line(now, "read_throttle", || json!({"shard": shard.id}));
            }
            return;
        }
        let read = Self::read_span(shard, now, &limits);
        shard.read_pos = read.end;
        shard.poll.record_call(now, read.bytes, false);
        shard.poll.behind = read.behind;
        for l in 0..shard.lanes.len() {
            if self.shards[s].lanes[l].state == LaneState::Idle {
                self.try_start(s, l);
            }
        }
        self.schedule_push(s);
    }

    /// What a GetRecords call on `shard` at `now` returns: the records from its read
    /// position that have propagated, up to 10,000 records or 10 MiB (R-STREAM-5).
    pub(crate) fn read_span(shard: &Shard, now: SimTime, limits: &ReadLimits) -> ReadSpan {
        let from = shard.read_pos.max(shard.log.head());
        let avail_end = match limits.readable_by(now) {
            Some(readable) => shard.log.arrived_prefix_end(from, readable),
            None => from,
        };
        if let Some(run) = shard.log.run_of(from)
            && avail_end <= run.end()
        {
            // One run holds what is readable (a healthy shard's usual case): the walk
            // below in one step.
            return ReadSpan::in_one_run(from, avail_end, run.data_bytes);
        }
        let mut end = from;
        let mut bytes = 0u64;
        let mut capped = false;
        shard.log.for_each_in_while(from, avail_end, |a, b, run| {
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
            !capped
        });
        ReadSpan {
            end,
            bytes,
            // A full call: more may be waiting, so the shard is behind (R-POLL-1).
            behind: capped || end - from >= GET_RECORDS_MAX_RECORDS,
        }
    }

    /// After a batch finishes on a shard that is behind, the next poll need not wait
    /// for the tick (R-POLL-1): now if the call limit allows, else as soon as it does.
    /// With enhanced fan-out every shard is read this way: records are pushed (R-EFO-1).
    pub(crate) fn catch_up(&mut self, s: usize) {
        let now = self.now();
        if !(self.shards[s].poll.behind || self.reads.efo)
            || self.shards[s].poll.extra_pending
            || !self.wants_records(s)
        {
            return;
        }
        let limits = self.reads;
        let poll = &mut self.shards[s].poll;
        if poll.may_call(now, &limits) {
            self.read_if_wanted(s);
        } else {
            poll.extra_pending = true;
            let at = poll.next_allowed(now, &limits);
            self.engine.schedule(
                at,
                Event::Poll {
                    shard: s as u32,
                    tick: false,
                },
            );
        }
    }

    /// R-EFO-1: with enhanced fan-out, records are pushed about 70 ms after they are
    /// written rather than polled once a second. If a lane wants records and some are
    /// written but not yet read, the shard's next read comes when the first of them can
    /// be read (and the dedicated 2 MiB/s allows). A lane that is busy reads on when its
    /// batch ends (`catch_up`).
    pub(crate) fn schedule_push(&mut self, s: usize) {
        let now = self.now();
        let shard = &self.shards[s];
        if !self.reads.efo
            || !self.mapping_enabled
            || !shard.reads_allowed
            || shard.poll.extra_pending
        {
            return;
        }
        let Some(arrival) = shard.log.arrival(shard.read_pos.max(shard.log.head())) else {
            return;
        };
        // Only an idle lane takes pushed records at once; a busy one reads on when its
        // batch ends, so records are not pushed one by one while it works.
        let idle_wanting = (0..shard.lanes.len()).any(|l| {
            shard.lanes[l].state == LaneState::Idle
                && !self.lane_held(s, l)
                && self.queue_short(s, l)
        });
        if !idle_wanting {
            return;
        }
        let limits = self.reads;
        let poll = &mut self.shards[s].poll;
        let at = (arrival + limits.propagation)
            .max(poll.next_allowed(now, &limits))
            .max(now);
        poll.extra_pending = true;
        self.engine.schedule(
            at,
            Event::Poll {
                shard: s as u32,
                tick: false,
            },
        );
    }

    /// The lane is idle: send the next batch if R-BATCH-1 says so, or open the batching
    /// window (R-BATCH-3).
    pub(crate) fn try_start(&mut self, s: usize, l: usize) {
        if !self.mapping_enabled || self.lane_held(s, l) {
            return;
        }
        let now = self.now();
        let window = self.scenario.mapping.batching_window;
        let (first, end, records, full) = self.next_batch_range(s, l);
        // R-WINDOW-2: the open tumbling window closes with a final invocation once its
        // time is over or the next batch belongs to a later window.
        if let (Some(open), Some(w)) = (self.shards[s].lanes[l].window, self.tumbling()) {
            let next_window = if records > 0 {
                self.shards[s].log.arrival(first).map(|a| w.of(a))
            } else {
                None
            };
            let window_done = match next_window {
                Some(next) => next > open,
                // A window does not survive its shard's end (R-WINDOW-2).
                None => now >= w.end(open) || self.shards[s].is_exhausted(),
            };
            if window_done {
                let at = self.shards[s].lanes[l].checkpoint;
                let mut last = Batch::new(at, at, 0);
                last.final_window = true;
                return self.send(s, l, last);
            }
        }
        if records == 0 {
            // Nothing of this lane is queued for the function: its checkpoint catches up
            // with the reads, passing any filtered records.
            let (checkpoint, read_pos) =
                (self.shards[s].lanes[l].checkpoint, self.shards[s].read_pos);
            self.shards[s].lanes[l].window_since = None;
            if read_pos > checkpoint {
                self.pass_checkpoint(s, l, checkpoint, read_pos);
            }
            return;
        }
        if !window.is_zero() && !full {
            let lane = &mut self.shards[s].lanes[l];
            match lane.window_since {
                Some(since) if now >= since + window => {}
                Some(_) => return, // its timer is already set
                None => {
                    lane.window_since = Some(now);
                    self.schedule_lane_timer(s, l, now + window);
                    return;
                }
            }
        }
        self.shards[s].lanes[l].window_since = None;
        self.send(s, l, Batch::new(first, end, records));
    }

    /// The queued records the next batch takes: at most BatchSize, and no more than fit
    /// the payload cap (R-BATCH-1, R-BATCH-2). `full` when a limit, not the queue, ended
    /// it. Returns (first index, end index, records, full).
    fn next_batch_range(&self, s: usize, l: usize) -> (SeqIndex, SeqIndex, u64, bool) {
        let shard = &self.shards[s];
        let lane = &shard.lanes[l];
        self.batch_range_in(shard, lane.index, lane.queue_start(), shard.read_pos)
    }

    /// `next_batch_range` of the lane numbered `lane_no` whose queue is `[start,
    /// read_pos)`.
    pub(crate) fn batch_range_in(
        &self,
        shard: &Shard,
        lane_no: u8,
        start: SeqIndex,
        read_pos: SeqIndex,
    ) -> (SeqIndex, SeqIndex, u64, bool) {
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let mut budget = BATCH_BUDGET;
        let (mut first, mut end, mut records) = (None, start, 0u64);
        let mut capped = false;
        let tumbling = self.tumbling();
        // The whole queue in one run of the lane (a healthy shard's usual case): the walk
        // below reduces to arithmetic. The queue may start past the read position (after
        // a restart from the checkpoint, or retention moving an idle lane on): it is empty.
        if tumbling.is_none()
            && let Some(run) = shard.log.run_of(start)
            && read_pos <= run.end()
            && run.lane == lane_no
            && !run.tag.filtered
        {
            let queued = read_pos.saturating_sub(start);
            if queued == 0 {
                return (start, start, 0, false);
            }
            let (fit, full) = batch_in_one_run(queued, run.entry_bytes, batch_size);
            return (start, start + fit, fit, full);
        }
        let mut window_end: Option<SimTime> = None;
        shard
            .log
            .for_each_in_lane_while(start, read_pos, lane_no, |a, b, run| {
                let cost = u64::from(run.entry_bytes) + 1;
                let room = batch_size - records;
                let mut fit = (budget / cost).min(b - a).min(room);
                // A record too big for the cap on its own still makes a batch of one
                // (R-BATCH-4); the window below always admits the batch's first record.
                if records == 0 && fit == 0 {
                    fit = 1;
                }
                if let Some(w) = tumbling {
                    // R-BATCH-1: a batch never spans two tumbling windows.
                    let end_t = *window_end.get_or_insert_with(|| w.end(w.of(run.arrival(a))));
                    let arrived = run.count_arrived_by(SimTime(end_t.0.saturating_sub(1)));
                    fit = fit.min(arrived.saturating_sub(a - run.first));
                    if fit == 0 {
                        capped = true;
                        return false;
                    }
                }
                if fit > 0 {
                    first.get_or_insert(a);
                    end = a + fit;
                    records += fit;
                    budget = budget.saturating_sub(fit * cost);
                }
                if fit < b - a {
                    capped = true;
                }
                // Stop at the first limit: the rest of a long queue is not this batch.
                !capped && records < batch_size
            });
        let full = capped || records >= batch_size;
        (first.unwrap_or(start), end, records, full)
    }

    /// Sends a batch (first attempt or retry): retention trims its head (R-ERR-6), the
    /// record age cuts what is too old (R-ERR-4), then the function takes it or
    /// throttles (R-CONC-2).
    pub(crate) fn send(&mut self, s: usize, l: usize, batch: Batch) {
        // A batch cut whole, or failed before the function, moves the lane on to its next
        // batch at once (`next_batch`, `try_start`, here again): thousands of them at one
        // instant nest that deep. The stack grows on the heap rather than overflow.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.send_now(s, l, batch));
    }

    fn send_now(&mut self, s: usize, l: usize, batch: Batch) {
        if !self.mapping_enabled {
            return self.park(s);
        }
        let now = self.now();
        self.shards[s].lanes[l].state = LaneState::Waiting(batch);
        if !batch.final_window {
            self.trim(s);
            self.cut_by_age(s, l);
        }
        let LaneState::Waiting(mut batch) = self.shards[s].lanes[l].state else {
            // Retention or age took the whole batch; the lane goes on.
            return self.next_batch(s, l);
        };
        let sim = &self.scenario.simulation;
        let (initial, max) = (sim.retry_backoff_initial, sim.retry_backoff_max);
        let mut facts = self.batch_facts(s, l, batch);
        if !batch.final_window && event_bytes(batch.len(), facts.entries_bytes) > PAYLOAD_CAP_BYTES
        {
            // R-BATCH-4 [choice]: a record too big for the payload cap on its own can never
            // be sent. The call fails before it reaches the function (no invocation, no
            // environment); the attempt counts like a throw, so retries, age and the
            // destination deal with it.
            let shard = &self.shards[s];
            let seq = sequence_number(shard.number, batch.first);
            self.trace.line(
                now,
                "payload_too_large",
                || json!({"shard": shard.id, "lane": l, "first_seq": seq}),
            );
            return self.failed(
                s,
                l,
                batch,
                crate::model::destination::FunctionError::Unhandled,
            );
        }
        let start = self.start_invocation(s, now);
        if start == Start::Throttled {
            batch.throttles += 1;
            let shard = &mut self.shards[s];
            shard.metrics.invocations.throttles += 1;
            shard.lanes[l].state = LaneState::Waiting(batch);
            self.trace
                .line(now, "throttle", || json!({"shard": shard.id, "lane": l}));
            self.block(s, l);
            self.schedule_lane_timer(s, l, now + backoff(initial, max, batch.throttles));
            return;
        }
        batch.throttles = 0;
        self.count_poison_hits(s, &mut facts);
        if let Some(w) = self.tumbling() {
            facts.windowed = true;
            if !batch.final_window && batch.invocations == 0 {
                // The lane now holds the state of this batch's window (R-WINDOW-1).
                let first_arrival = self.shards[s].log.arrival(batch.first).unwrap_or(now);
                self.shards[s].lanes[l].window = Some(w.of(first_arrival));
            }
        }
        let rbif = self.scenario.mapping.report_batch_item_failures;
        let inv = self
            .function
            .invoke(now, &facts, rbif, &mut self.shards[s].rng);
        if self.events_out.enabled() && !batch.final_window {
            let event = self.event_json(s, l, batch.first, batch.end);
            self.events_out.write_line(&event);
        }
        let shard = &mut self.shards[s];
        let lane_no = shard.lanes[l].index;
        let last = shard
            .log
            .last_of_lane(batch.first, batch.end, lane_no)
            .unwrap_or(batch.end.saturating_sub(1));
        if !batch.final_window {
            let last_arrival = shard.log.arrival(last).unwrap_or(now);
            // R-METRIC-1: iterator age at every send, from the batch's last record.
            let age = now.saturating_since(last_arrival).as_millis();
            shard.metrics.iterator_age.record(age);
            let since = &mut shard.metrics.since_sample;
            since.age_max_ms = since.age_max_ms.max(age);
        }
        let m = &mut shard.metrics;
        let lane = &mut shard.lanes[l];
        let n = batch.len();
        m.records.deliveries += n;
        m.records.redeliveries += lane.delivered.count_in(batch.first, batch.end);
        for &(a, b) in &facts.slices {
            lane.delivered.insert(a, b);
        }
        if !batch.final_window {
            m.batches += 1;
            m.batch_records_sum += n;
            m.batch_records_max = m.batch_records_max.max(n);
        }
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
        let named: Vec<SeqIndex> = inv
            .named
            .iter()
            .filter_map(|&off| facts.index_of(off))
            .collect();
        if self.trace.enabled() {
            let seq = |i| sequence_number(shard.number, i);
            let mut line = json!({
                "shard": shard.id, "lane": l, "attempt": batch.invocations,
                "first_seq": seq(batch.first), "last_seq": seq(last),
                "records": n, "bytes": facts.data_bytes, "outcome": inv.outcome.as_str(),
                "duration_ms": wall.as_millis(),
            });
            if batch.final_window {
                line["final_window"] = json!(true);
            }
            if let Some(at) = inv.failed_offset.and_then(|off| facts.index_of(off)) {
                line["failed_seq"] = json!(seq(at));
            }
            if !named.is_empty() {
                // The records the function's response names as failed.
                line["reported_seqs"] = json!(named.iter().map(|&i| seq(i)).collect::<Vec<_>>());
            }
            self.trace.line(now, "invoke", || line);
        }
        shard.lanes[l].inflight = Some(Inflight {
            inv,
            named,
            slices: facts.slices,
        });
        shard.lanes[l].state = LaneState::Invoking(batch);
        self.schedule_lane_timer(s, l, now + wall);
    }

    /// What the function needs to know of lane `l`'s records in `batch` (R-BATCH-2's
    /// entry bytes among them), in one walk of the log.
    fn batch_facts(&self, s: usize, l: usize, batch: Batch) -> BatchFacts {
        let shard = &self.shards[s];
        let mut facts = BatchFacts {
            records: batch.len(),
            shard: shard.number,
            ..BatchFacts::default()
        };
        let mut offset = 0;
        let lane = shard.lanes[l].index;
        shard
            .log
            .for_each_in_lane(batch.first, batch.end, lane, |a, b, run| {
                facts.slices.push((a, b));
                if let Some(behaviour) = run.tag.poison {
                    // Poison runs hold one record each; `count_poison_hits` sets `hits`.
                    facts.poisons.push(PoisonHit {
                        offset,
                        bytes_through: facts.data_bytes + u64::from(run.data_bytes),
                        behaviour,
                        hits: 0,
                    });
                }
                facts.data_bytes += (b - a) * u64::from(run.data_bytes);
                facts.entries_bytes += (b - a) * u64::from(run.entry_bytes);
                offset += b - a;
            });
        facts
    }

    /// The batch is about to reach the function: each poison record in it counts one more
    /// delivery (for `times: N`).
    fn count_poison_hits(&mut self, s: usize, facts: &mut BatchFacts) {
        for k in 0..facts.poisons.len() {
            let Some(idx) = facts.index_of(facts.poisons[k].offset) else {
                continue;
            };
            let hits = self.shards[s].log.run_of_mut(idx).map(|r| {
                r.hits += 1;
                r.hits
            });
            facts.poisons[k].hits = hits.unwrap_or(1);
        }
    }

    /// The lane's timer fired: an invocation ended, a retry is due, or a window closed.
    pub(crate) fn lane_timer(&mut self, s: usize, l: usize, generation: u32) {
        if self.shards[s].lanes[l].generation != generation {
            return; // stale
        }
        match self.shards[s].lanes[l].state {
            LaneState::Idle => self.try_start(s, l),
            LaneState::Invoking(batch) => self.invocation_ended(s, l, batch),
            LaneState::Waiting(batch) => self.send(s, l, batch),
        }
    }

    /// The lane finished a batch (delivered or discarded): the next bisected half goes at
    /// once (R-BISECT-1); otherwise the lane reads on and starts the next batch.
    pub(crate) fn next_batch(&mut self, s: usize, l: usize) {
        if !self.mapping_enabled {
            return self.park(s);
        }
        let lane = &mut self.shards[s].lanes[l];
        if let Some(half) = lane.halves.pop() {
            lane.state = LaneState::Waiting(half);
            return self.send(s, l, half);
        }
        lane.state = LaneState::Idle;
        self.unblock(s, l);
        self.catch_up(s);
        // With shard-wide blocking, the other lanes were held by this one.
        let lanes = match self.scenario.simulation.lane_blocking {
            LaneBlocking::Lane => l..l + 1,
            LaneBlocking::Shard => 0..self.shards[s].lanes.len(),
        };
        for k in lanes {
            if self.shards[s].lanes[k].state == LaneState::Idle {
                self.try_start(s, k);
            }
        }
    }

    /// The checkpoint of lane `l` passes `[first, end)`; returns how many of its records
    /// there get their fate now (those not fated before a restart).
    pub(crate) fn pass_checkpoint(
        &mut self,
        s: usize,
        l: usize,
        first: SeqIndex,
        end: SeqIndex,
    ) -> u64 {
        let shard = &mut self.shards[s];
        let lane = &mut shard.lanes[l];
        debug_assert!(
            first >= lane.checkpoint,
            "I-2: the checkpoint moves in order"
        );
        // Everything from the lane's fate mark on gets its fate now: the records the
        // function had, and the filtered ones among and before them (R-FILTER-1).
        let (newly, filtered) = shard.log.count_lane_split(lane.fated, end, lane.index);
        shard.metrics.records.filtered += filtered;
        lane.checkpoint = end;
        lane.fated = lane.fated.max(end);
        // Records behind every lane's checkpoint are never read again: drop them.
        let low = shard.checkpoint();
        for lane in &mut shard.lanes {
            lane.processed.prune_below(low);
            lane.delivered.prune_below(low);
        }
        shard.log.trim_to(low);
        newly
    }

    /// The checkpoint passes `[first, end)` of lane `l` as delivered, with its latency
    /// (R-METRIC-1).
    pub(crate) fn deliver(&mut self, s: usize, l: usize, first: SeqIndex, end: SeqIndex) {
        if first >= end {
            return;
        }
        let now = self.now();
        let shard = &mut self.shards[s];
        let lane = shard.lanes[l].index;
        let from = first.max(shard.lanes[l].fated);
        let latency = &mut shard.metrics.latency;
        shard.log.for_each_in_lane(from, end, lane, |a, b, run| {
            record_latency(latency, now, a, b, |i| run.arrival(i));
        });
        let newly = self.pass_checkpoint(s, l, first, end);
        self.shards[s].metrics.records.delivered += newly;
    }

    /// Lane `l` starts failing (or being throttled); the shard counts as blocked while
    /// any of its lanes is.
    pub(crate) fn block(&mut self, s: usize, l: usize) {
        let now = self.now();
        let shard = &mut self.shards[s];
        if shard.lanes[l].blocked_since.is_none() {
            shard.lanes[l].blocked_since = Some(now);
            shard.blocked_lanes += 1;
            shard.blocked_since.get_or_insert(now);
        }
    }

    pub(crate) fn unblock(&mut self, s: usize, l: usize) {
        let now = self.now();
        let shard = &mut self.shards[s];
        if shard.lanes[l].blocked_since.take().is_some() {
            shard.blocked_lanes -= 1;
            if shard.blocked_lanes == 0
                && let Some(since) = shard.blocked_since.take()
            {
                shard.metrics.blocked_us += now.saturating_since(since).0;
            }
        }
    }

    /// The tumbling window setting, if one is set (R-WINDOW-1).
    pub(crate) fn tumbling(&self) -> Option<Windows> {
        let w = self.scenario.mapping.tumbling_window;
        (!w.is_zero()).then(|| Windows {
            width_us: w.0,
            start_us: self.scenario.simulation.start_time_unix_ms.max(0) as u64 * 1000,
        })
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
        let horizon_end = shard.log.arrived_prefix_end(head, horizon);
        if horizon_end <= head {
            return;
        }
        // Each lane loses what is past retention; a lane with an invocation in flight keeps
        // that batch's records until it ends (so the log keeps them too).
        let mut expired = 0;
        let mut low = horizon_end;
        for l in 0..shard.lanes.len() {
            let lane_no = shard.lanes[l].index;
            let upto = match shard.lanes[l].state {
                LaneState::Invoking(b) => horizon_end.min(b.first),
                _ => horizon_end,
            };
            low = low.min(upto);
            let lane = &mut shard.lanes[l];
            let from = lane.fated.max(head);
            if upto > from {
                expired += shard.log.count_lane_all(from, upto, lane_no);
            }
            lane.fated = lane.fated.max(upto);
            lane.checkpoint = lane.checkpoint.max(upto);
            // Cut the waiting batch and halves before the log forgets the records.
            let cut = |b: &mut Batch| {
                if b.first < upto && !b.final_window {
                    b.records -= shard.log.count_lane(b.first, upto.min(b.end), lane_no);
                    b.first = upto.min(b.end);
                }
            };
            lane.halves.iter_mut().for_each(cut);
            lane.halves.retain(|h| !h.is_empty());
            if let LaneState::Waiting(mut b) = lane.state {
                cut(&mut b);
                lane.state = LaneState::Waiting(b);
            }
        }
        for lane in &mut shard.lanes {
            lane.processed.prune_below(low);
            lane.delivered.prune_below(low);
        }
        shard.log.trim_to(low);
        shard.read_pos = shard.read_pos.max(low);
        if expired > 0 {
            shard.metrics.records.expired += expired;
            self.trace.line(
                now,
                "expire",
                || json!({"shard": shard.id, "records": expired}),
            );
        }
        for l in 0..self.shards[s].lanes.len() {
            let lane = &mut self.shards[s].lanes[l];
            if let LaneState::Waiting(b) = lane.state
                && b.is_empty()
                && !b.final_window
            {
                // The whole batch expired: the next half, if any, is due at once.
                self.cancel_lane_timer(s, l);
                let lane = &mut self.shards[s].lanes[l];
                match lane.halves.pop() {
                    Some(half) => {
                        lane.state = LaneState::Waiting(half);
                        self.schedule_lane_timer(s, l, now);
                    }
                    None => {
                        lane.state = LaneState::Idle;
                        self.unblock(s, l);
                        // Let the lane go on at its next chance (a poll, or now).
                        self.schedule_lane_timer(s, l, now);
                    }
                }
            }
        }
    }
}

/// How many of `want` items of `cost` bytes each fit in `budget` bytes: `want` when all
/// do (the usual case, found without a division), else `budget / cost`.
#[inline]
fn fit_in_budget(want: u64, cost: u64, budget: u64) -> u64 {
    match want.checked_mul(cost) {
        Some(all) if all <= budget => want,
        _ => (budget / cost).min(want),
    }
}

/// Records the latency at `now` of one run's records `[a, b)` (R-METRIC-1), `arrival`
/// giving their arrivals, in two chunks (one for a single record), `[a, a + n/2)` and
/// `[a + n/2, b)`: a run's arrivals are evenly spaced, so each chunk's midpoint stands for
/// it closely enough. The exact maximum, the first record's, is kept beside.
#[inline]
pub(crate) fn record_latency(
    latency: &mut MsHistogram,
    now: SimTime,
    a: SeqIndex,
    b: SeqIndex,
    arrival: impl Fn(SeqIndex) -> SimTime,
) {
    let half = a + (b - a) / 2;
    for (lo, hi) in [(a, half), (half, b)] {
        if lo < hi {
            let mid = lo + (hi - lo) / 2;
            latency.record_n(now.saturating_since(arrival(mid)).as_millis(), hi - lo);
        }
    }
    latency.note_max(now.saturating_since(arrival(a)).as_millis());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_in_one_run_takes_what_the_caps_allow() {
        // R-POLL-1: all that is readable, up to 10,000 records and 10 MiB.
        let small = ReadSpan::in_one_run(100, 600, 1024);
        assert_eq!(
            small,
            ReadSpan {
                end: 600,
                bytes: 500 * 1024,
                behind: false
            }
        );
        let many = ReadSpan::in_one_run(0, 25_000, 100);
        assert_eq!(
            many,
            ReadSpan {
                end: 10_000,
                bytes: 1_000_000,
                behind: true
            }
        );
        // 1 MiB records: ten of them fill the 10 MiB.
        let big = ReadSpan::in_one_run(0, 25, 1 << 20);
        assert_eq!(
            big,
            ReadSpan {
                end: 10,
                bytes: 10 << 20,
                behind: true
            }
        );
        assert_eq!(
            ReadSpan::in_one_run(7, 7, 1024),
            ReadSpan {
                end: 7,
                bytes: 0,
                behind: false
            }
        );
    }

    #[test]
    fn a_batch_in_one_run_takes_what_batch_size_and_the_payload_cap_allow() {
        // R-BATCH-2: BatchSize, else the 6 MB payload; R-BATCH-4: at least one record.
        assert_eq!(batch_in_one_run(900, 1_400, 500), (500, true));
        assert_eq!(batch_in_one_run(400, 1_400, 500), (400, false));
        let fit = BATCH_BUDGET / 100_001;
        assert_eq!(batch_in_one_run(10_000, 100_000, 10_000), (fit, true));
        assert_eq!(batch_in_one_run(3, 10_000_000, 10_000), (1, true));
        assert_eq!(fit_in_budget(10, 7, 70), 10);
        assert_eq!(fit_in_budget(10, 7, 69), 9);
        assert_eq!(fit_in_budget(u64::MAX, 2, 100), 50);
    }

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
