//! Healthy shards worked out without the event queue: the steady path.
//!
//! While shards run alone (`World::run_shards_alone`), most events of a healthy shard are
//! its once-a-second poll, which reads what has arrived (R-POLL-1), and the ends of
//! batches that succeed one after another (R-ORDER-1). `steady_run` handles such a
//! shard's polls and invocation ends in a loop of its own, by the same rules and in the
//! same order as `poll`, `read_if_wanted`, `try_start`, `send` and `invocation_ended`,
//! but without a queue entry per event, a copy of each invocation or range sets per
//! batch. The shard's two pending events (its next poll, the end of the batch in flight)
//! are kept here, in the order of one instant the engine would give them.
//!
//! Most seconds of a healthy shard are alike: its poll reads what came in since the last
//! one and the batches that follow end before the next poll. Such a *plain second* is
//! planned and carried out at once (`plan_second`, `run_second`), with the run holding
//! its records found once; any other second goes event by event.
//!
//! Before each event the path checks that the event stays healthy: a poison record in
//! the next batch, retention or the record age about to cut, a read that would leave the
//! shard behind, an invocation that could fail or draw at random: any of these hands
//! the shard back to the generic handlers at that event, with its pending events back in
//! the queue. Nothing observable differs from handling the events one by one, which
//! tests/integration/alone.rs checks on every built-in scenario and random ones.

use crate::engine::LimitHit;
use crate::model::event::Event;
use crate::model::function::{Invocation, Outcome, Slices};
use crate::model::mapping::{Batch, LaneState, ReadSpan, batch_in_one_run, record_latency};
use crate::model::payload::{PAYLOAD_CAP_BYTES, event_bytes};
use crate::model::retry::Inflight;
use crate::model::stream::{Run, SeqIndex, StepDivisors};
use crate::model::world::{Shard, World};
use crate::time::{SimDuration, SimTime};

/// The batch in flight on the steady path: it succeeds at `ends`.
struct Flight {
    batch: Batch,
    handler: SimDuration,
    ends: SimTime,
    /// Its end's place among events of one instant (`Engine::next_place`).
    place: u64,
}

/// A batch about to be sent that is sure to succeed: `records` records from index
/// `first` (the log is not mixed: they are consecutive). Small, as it is moved about
/// with every event.
#[derive(Clone, Copy, Default)]
struct Planned {
    first: SeqIndex,
    records: u64,
    handler: SimDuration,
}

/// What a poll does: a GetRecords call, and the batch it starts on an idle lane.
struct TickPlan {
    read: Option<ReadSpan>,
    send: Option<Planned>,
}

/// Batches a plain second may hold (`plan_second`); more go event by event.
const SECOND_BATCHES: usize = 8;

/// A plain second of a shard: its poll's read and the batches that follow it.
#[derive(Default)]
struct Second {
    read: ReadSpan,
    /// The last two reads' batches, `splits[current]` this second's: a shard's seconds
    /// mostly read one of two counts (its rate's whole part and one more).
    splits: [Split; 2],
    current: usize,
    /// The run the second reads from, as the first second planned from it found it,
    /// kept for the next ones (`plan_second`).
    reading: Option<SecondRun>,
    /// The divisors of the last run read from, kept for the next run of the same step.
    divisors: Option<StepDivisors>,
}

impl Second {
    fn batches(&self) -> &[Planned] {
        let split = &self.splits[self.current];
        &split.planned[..split.batches]
    }
}

/// A plain second's read split into batches (`plan_second`).
#[derive(Default)]
struct Split {
    /// `planned[..batches]`: a fixed array, as a second is planned every shard-second
    /// and a vector's pushes cost more than the batches' arithmetic.
    planned: [Planned; SECOND_BATCHES],
    batches: usize,
    /// How many records `planned` splits, when it is a whole split of the run in
    /// `Second::reading`, and how long its batches take together: a later second that
    /// reads as many from that run is split the same way, with the same durations unless
    /// they depend on the time (`FunctionModel::durations_timeless`).
    records: Option<u64>,
    busy: SimDuration,
}

/// The run a plain second reads from, as `plan_second` found it, with its step's
/// divisors. While the shard runs alone nothing is written and no run split: the run
/// only loses records at its front, which changes no arrival it gives for the records
/// behind them, so the copy stays good for every later second that starts within it.
struct SecondRun {
    run: Run,
    divs: StepDivisors,
}

/// Which of the shard's events is next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    Poll,
    End,
}

/// What the shard's next event does, worked out before it is handled.
enum Plan {
    Poll(TickPlan),
    /// The batch in flight ends; the next batch, if the queue holds one.
    End(Option<Planned>),
}

impl World {
    /// Whether the scenario lets healthy shards take the steady path at all: one lane
    /// per shard, no batching or tumbling window, polled reads. The function's part is
    /// decided per batch (`FunctionModel::plain_success`).
    pub(crate) fn steady_possible(&self) -> bool {
        let m = &self.scenario.mapping;
        m.parallelization_factor == 1
            && m.batching_window.is_zero()
            && m.tumbling_window.is_zero()
            && !self.reads.efo
    }

    /// Shard `s` runs alone and `ev`, one of its events, has just been popped. If the
    /// shard is healthy and `ev` stays so, handles `ev` and the shard's next events
    /// before `bound` on the steady path and returns true; returns false, having changed
    /// nothing, otherwise.
    pub(crate) fn steady_run(
        &mut self,
        s: usize,
        ev: Event,
        bound: SimTime,
    ) -> Result<bool, LimitHit> {
        let now = self.now();
        let Some(first) = self.steady_entry(s, ev) else {
            return Ok(false);
        };
        // Take over the shard's pending events: its poll, and the end of a batch in
        // flight (which may be `ev` itself). Each starts as `ev`'s own time and place,
        // which only `ev` uses: it is handled first, and handling it sets the other.
        let mut tick = (now, 0);
        let mut ends = (now, 0);
        for (at, place, pending) in self.engine.alone_events() {
            match *pending {
                Event::Poll { .. } => tick = (at, place),
                _ => ends = (at, place),
            }
        }
        self.engine.clear_alone();
        let lane = &mut self.shards[s].lanes[0];
        let mut flight = match lane.state {
            LaneState::Invoking(batch) => {
                let inflight = lane
                    .inflight
                    .take()
                    .expect("an invoking lane has its invocation");
                Some(Flight {
                    batch,
                    handler: inflight.inv.handler,
                    ends: ends.0,
                    place: ends.1,
                })
            }
            _ => None,
        };
        let mut place = self.engine.next_place();
        let mut second = Second::default();
        let mut due = Some((now, first));
        loop {
            // A whole second at once when it is a plain one (`plan_second`): from the next
            // poll, or from `ev` itself when it is a poll (its tick is `ev`'s instant).
            let popped = matches!(due, Some((_, Plan::Poll(_))));
            if (due.is_none() || popped)
                && flight.is_none()
                && self.plan_second(s, tick.0, bound, &mut second)
            {
                tick = self.run_second(s, tick.0, &second, &mut place, popped);
                due = None;
                continue;
            }
            let (at, plan) = match due.take() {
                Some((at, plan)) => (at, Some(plan)),
                None => {
                    let (at, what) = match &flight {
                        Some(f) if (f.ends, f.place) < tick => (f.ends, Due::End),
                        _ => (tick.0, Due::Poll),
                    };
                    if at >= bound {
                        break;
                    }
                    let plan = self.plan_event(s, at, what, flight.as_ref().map(|f| f.batch.end));
                    if plan.is_some() {
                        self.engine.count_outside(at)?;
                    }
                    (at, plan)
                }
            };
            match plan {
                None => break,
                Some(Plan::Poll(plan)) => {
                    // `poll` schedules the next poll before anything else.
                    tick = (at + SimDuration::from_secs(1), place);
                    place += 1;
                    let shard = &mut self.shards[s];
                    if let Some(read) = plan.read {
                        shard.read_pos = read.end;
                        shard.poll.record_call(at, read.bytes, false);
                        shard.poll.behind = read.behind;
                    }
                    if let Some(p) = plan.send {
                        flight = Some(self.steady_send(s, at, p, place, true));
                        place += 1;
                    }
                }
                Some(Plan::End(next)) => {
                    let f = flight.take().expect("an end is due");
                    // The next batch takes the environment the last one returns, at the
                    // same instant: the pool need not hear of either.
                    let handover = next.is_some() && self.function.handover_is_neutral();
                    self.steady_end(s, at, f, !handover);
                    if let Some(p) = next {
                        flight = Some(self.steady_send(s, at, p, place, !handover));
                        place += 1;
                    }
                }
            }
        }
        // Back to the generic representation: the invocation in flight and the pending
        // events, in their order.
        let mut pending = vec![(tick.0, tick.1, Due::Poll)];
        if let Some(f) = flight {
            let shard = &mut self.shards[s];
            let lane = &mut shard.lanes[0];
            // The batch's slices as `batch_facts` gives them: one per run.
            let mut slices = Slices::new();
            shard
                .log
                .for_each_in_lane(f.batch.first, f.batch.end, lane.index, |a, b, _| {
                    slices.push((a, b));
                    lane.delivered.insert(a, b);
                });
            lane.inflight = Some(Inflight {
                inv: Invocation::success(f.handler, f.batch.records),
                named: vec![],
                slices,
            });
            pending.push((f.ends, f.place, Due::End));
        }
        pending.sort_by_key(|&(at, place, _)| (at, place));
        for (at, _, what) in pending {
            match what {
                Due::Poll => self.engine.schedule(
                    at,
                    Event::Poll {
                        shard: s as u32,
                        tick: true,
                    },
                ),
                Due::End => self.schedule_lane_timer(s, 0, at),
            }
        }
        Ok(true)
    }

    /// Whether shard `s` may enter the steady path with `ev`: a healthy lane, the
    /// shard's pending events only its poll and its batch's end, and `ev` itself healthy.
    /// Returns what `ev` does.
    fn steady_entry(&self, s: usize, ev: Event) -> Option<Plan> {
        let shard = &self.shards[s];
        let lane = &shard.lanes[0];
        let healthy = self.mapping_enabled
            && shard.reads_allowed
            && shard.closed_at.is_none()
            && !shard.poll.behind
            && !shard.poll.extra_pending
            && !shard.log.is_mixed()
            && lane.halves.is_empty()
            && lane.blocked_since.is_none()
            && lane.window.is_none()
            && lane.window_since.is_none()
            && lane.processed.is_empty();
        if !healthy {
            return None;
        }
        // A batch in flight must be a plain success whose records only it delivered.
        let invoking = match lane.state {
            LaneState::Idle if !lane.delivered.is_empty() => return None,
            LaneState::Idle => false,
            LaneState::Waiting(_) => return None,
            LaneState::Invoking(b) => {
                let inflight = lane.inflight.as_ref()?;
                let plain = inflight.inv.outcome == Outcome::Ok
                    && inflight.inv.named.is_empty()
                    && inflight.named.is_empty()
                    && b.failures == 0
                    && !b.final_window
                    && lane.delivered.count_in(0, SeqIndex::MAX) == b.records;
                if !plain {
                    return None;
                }
                true
            }
        };
        let live_timer = |e: &Event| matches!(*e, Event::LaneTimer { generation, .. } if generation == lane.generation);
        let first = match ev {
            Event::Poll { tick: true, .. } => Due::Poll,
            Event::LaneTimer { .. } if invoking && live_timer(&ev) => Due::End,
            _ => return None,
        };
        // The rest of the shard's queue: exactly the events the steady path keeps.
        let (mut polls, mut ends) = (0, 0);
        for (_, _, pending) in self.engine.alone_events() {
            match pending {
                Event::Poll { tick: true, .. } => polls += 1,
                e if live_timer(e) => ends += 1,
                _ => return None,
            }
        }
        let expected = match first {
            Due::Poll => (0, u32::from(invoking)),
            Due::End => (1, 0),
        };
        if (polls, ends) != expected {
            return None;
        }
        let flight_end = match lane.state {
            LaneState::Invoking(b) => Some(b.end),
            _ => None,
        };
        self.plan_event(s, self.now(), first, flight_end)
    }

    /// What the shard's event `what` at `at` does, if it stays on the steady path;
    /// `flight_end`: the end index of the batch in flight, if any.
    #[inline]
    fn plan_event(
        &self,
        s: usize,
        at: SimTime,
        what: Due,
        flight_end: Option<SeqIndex>,
    ) -> Option<Plan> {
        match what {
            Due::Poll => self.plan_poll(s, at, flight_end).map(Plan::Poll),
            Due::End => {
                let read_pos = self.shards[s].read_pos;
                self.plan_batch(s, at, flight_end?, read_pos).map(Plan::End)
            }
        }
    }

    /// What the poll at `at` does (`poll`, `read_if_wanted`), if it stays healthy: no
    /// retention cut, a call the limits allow that does not leave the shard behind, and
    /// a healthy batch. `flight_end`: the end of the batch in flight, if any.
    #[inline]
    fn plan_poll(&self, s: usize, at: SimTime, flight_end: Option<SeqIndex>) -> Option<TickPlan> {
        let shard = &self.shards[s];
        if !self.retention_spares(shard, at, shard.log.head()) {
            return None;
        }
        let lane = &shard.lanes[0];
        let queue_start = flight_end.unwrap_or(lane.checkpoint);
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let wants = shard
            .log
            .lane_has_fewer(queue_start, shard.read_pos, lane.index, batch_size);
        if !wants {
            return Some(TickPlan {
                read: None,
                send: None,
            });
        }
        if !shard.poll.may_call(at, &self.reads) {
            return None;
        }
        let read = Self::read_span(shard, at, &self.reads);
        if read.behind {
            return None;
        }
        let send = match flight_end {
            Some(_) => None,
            None => self.plan_batch(s, at, lane.checkpoint, read.end)?,
        };
        Some(TickPlan {
            read: Some(read),
            send,
        })
    }

    /// The batch an idle lane whose queue is `[start, read_pos)` sends at `at`
    /// (`try_start`, `send`), if it stays healthy: `Some(None)` when the queue is empty,
    /// `None` when the generic handlers must take over (a poison record, a cut by
    /// retention or record age, a payload too large, an invocation that may fail).
    #[inline]
    fn plan_batch(
        &self,
        s: usize,
        at: SimTime,
        start: SeqIndex,
        read_pos: SeqIndex,
    ) -> Option<Option<Planned>> {
        let shard = &self.shards[s];
        let lane_no = shard.lanes[0].index;
        let (first, end, records, _) = self.batch_range_in(shard, lane_no, start, read_pos);
        if records == 0 {
            // Nothing to send. Read records the lane does not queue (only in a mixed log,
            // which never takes this path) are left to the generic handlers, defensively.
            return (read_pos <= start).then_some(None);
        }
        // The lane's checkpoint is `start` by then, and the log trimmed to it.
        if !self.retention_spares(shard, at, start) {
            return None;
        }
        if let Some(max_age) = self.scenario.mapping.max_record_age
            && at.0 > max_age.0
            && shard.log.arrival(first)? < SimTime(at.0 - max_age.0)
        {
            return None; // R-ERR-4 would cut the batch's head
        }
        // What `batch_facts` would find: in one step when one run holds the batch.
        let (mut data_bytes, mut entries_bytes, mut poisoned) = (0u64, 0u64, false);
        let mut add = |n: u64, run: &Run| {
            poisoned |= run.tag.poison.is_some();
            data_bytes += n * u64::from(run.data_bytes);
            entries_bytes += n * u64::from(run.entry_bytes);
        };
        match shard.log.run_of(first) {
            Some(run) if end <= run.end() => add(records, run),
            _ => shard
                .log
                .for_each_in_lane(first, end, lane_no, |a, b, run| add(b - a, run)),
        }
        if poisoned || event_bytes(records, entries_bytes) > PAYLOAD_CAP_BYTES {
            return None;
        }
        let handler = self.function.plain_success(at, records, data_bytes)?;
        debug_assert_eq!(end - first, records, "the log is not mixed");
        Some(Some(Planned {
            first,
            records,
            handler,
        }))
    }

    /// A plain second of shard `s`, whose lane is idle with nothing read but not sent,
    /// from its poll at `t`: the poll reads what one run holds, within the limits and
    /// without falling behind, and the batches it yields run one after another and end
    /// before the next poll and before `bound`, none cut by retention or the record age,
    /// none poisoned, each a plain success. Any other second is the event-by-event loop's
    /// (`steady_run`). Worked out as `plan_poll` and
    /// `plan_batch` would for each event of the second, but with the run found once and
    /// kept for the shard's next seconds, as are its last two splits into batches
    /// (`Second`). Returns true when the second is plain: `second.reading` is then the
    /// run it reads from and `second.batches()` its batches.
    fn plan_second(&self, s: usize, t: SimTime, bound: SimTime, second: &mut Second) -> bool {
        self.plan_second_in(s, t, bound, second).is_some()
    }

    /// `plan_second`, `None` when the second is not plain.
    #[inline(always)]
    fn plan_second_in(
        &self,
        s: usize,
        t: SimTime,
        bound: SimTime,
        second: &mut Second,
    ) -> Option<()> {
        let shard = &self.shards[s];
        let lane = &shard.lanes[0];
        let (head, from) = (shard.log.head(), lane.checkpoint);
        if t >= bound
            || shard.read_pos != from
            || from < head
            || !shard.poll.may_call(t, &self.reads)
        {
            return None;
        }
        // Every checkpoint pass trims the log to it, the plain second's too (`run_second`).
        debug_assert_eq!(head, from, "the log is trimmed to the checkpoint");
        let Second {
            read: planned_read,
            splits,
            current,
            reading,
            divisors,
        } = second;
        let SecondRun { run, divs } = match reading {
            Some(kept) if kept.run.first <= from && from < kept.run.end() => {
                debug_assert_eq!(shard.log.arrival(from), Some(kept.run.arrival(from)));
                kept
            }
            _ => {
                let run = shard.log.run_of(from)?;
                if run.lane != lane.index || run.tag.filtered || run.tag.poison.is_some() {
                    return None;
                }
                for split in splits.iter_mut() {
                    split.records = None;
                }
                reading.insert(SecondRun {
                    run: *run,
                    divs: StepDivisors::of(divisors, run),
                })
            }
        };
        // The read, all within the run, and its batches one after another, as `plan_poll`
        // and `plan_batch` would find them (`read_span`, `batch_range_in`) with the run
        // found once.
        let divs = *divs;
        let avail_end = match self.reads.readable_by(t) {
            // What has arrived of the run; when all of it has, records of the next run
            // may be readable too: the generic handlers take the second.
            Some(readable) => {
                match run.arrived_end_from(from, run.count_arrived_by_with(readable, &divs)) {
                    Some(end) => end,
                    None if run.end() == shard.log.next_index() => run.end(),
                    None => return None,
                }
            }
            None => from,
        };
        let read = ReadSpan::in_one_run(from, avail_end, run.data_bytes);
        if read.behind {
            return None;
        }
        *planned_read = read;
        let records = read.end - from;
        let timeless = self.function.durations_timeless();
        let at = match splits
            .iter()
            .position(|split| timeless && split.records == Some(records))
        {
            Some(kept) => {
                // Split as an earlier plain second was: its batches, shifted to start at
                // `from` (none when it read nothing).
                *current = kept;
                let split = &mut splits[kept];
                let planned = &mut split.planned[..split.batches];
                let shift = planned.first().map_or(0, |p| from - p.first);
                for p in planned {
                    p.first += shift;
                }
                let at = t + split.busy;
                if at >= bound {
                    return None;
                }
                at
            }
            None => {
                // In place of the split used longer ago.
                *current = 1 - *current;
                let split = &mut splits[*current];
                split.records = None;
                let at = self.split_second(t, bound, from, read.end, run, split)?;
                (split.records, split.busy) = (Some(records), at.saturating_since(t));
                at
            }
        };
        // The last event is the latest: retention and the record age spare the oldest
        // record then, so they spare every batch of the second.
        if !self.retention_spares(shard, at, head) {
            return None;
        }
        if let Some(max_age) = self.scenario.mapping.max_record_age
            && at.0 > max_age.0
            && run.arrival(from) < SimTime(at.0 - max_age.0)
        {
            return None;
        }
        let events = 1 + splits[*current].batches as u64;
        self.engine.has_room_for(events).then_some(())
    }

    /// The batches of a plain second starting at `t` whose read is `[from, end)` of
    /// `run`, one after another, into `split`, as `plan_batch` would find them
    /// (`batch_range_in`): `None` unless each is a plain success and the last ends
    /// before the next poll and before `bound`. Returns the last one's end.
    #[inline(always)]
    fn split_second(
        &self,
        t: SimTime,
        bound: SimTime,
        from: SeqIndex,
        end: SeqIndex,
        run: &Run,
        split: &mut Split,
    ) -> Option<SimTime> {
        let next_tick = t + SimDuration::from_secs(1);
        let batch_size = u64::from(self.scenario.mapping.batch_size);
        let Split {
            planned, batches, ..
        } = split;
        *batches = 0;
        let (mut first, mut at) = (from, t);
        while first < end {
            let (records, _) = batch_in_one_run(end - first, run.entry_bytes, batch_size);
            if event_bytes(records, records * u64::from(run.entry_bytes)) > PAYLOAD_CAP_BYTES
                || *batches == SECOND_BATCHES
            {
                return None;
            }
            let handler =
                self.function
                    .plain_success(at, records, records * u64::from(run.data_bytes))?;
            planned[*batches] = Planned {
                first,
                records,
                handler,
            };
            *batches += 1;
            first += records;
            at += handler;
            // The next poll comes first at its own instant (its place is older).
            if at >= next_tick || at >= bound {
                return None;
            }
        }
        Some(at)
    }

    /// Carries out `second` from its poll at `t` (`plan_second`), with what the
    /// event-by-event loop would count and leave: the poll (the next one is scheduled
    /// first, then the call, then the first batch), then each batch's end handing over to
    /// the next, each a counted event (the poll is not counted again when it is the event
    /// the engine popped, `popped`), counted at once: `plan_second` made sure of room.
    /// What no one sees before the second ends is set once: the lane's state between
    /// batches, and its checkpoint, which passes the whole second at its last end (the
    /// records each batch newly delivers add up to those the whole second does).
    /// Returns the next poll's time and place.
    fn run_second(
        &mut self,
        s: usize,
        t: SimTime,
        second: &Second,
        place: &mut u64,
        popped: bool,
    ) -> (SimTime, u64) {
        let tick = (t + SimDuration::from_secs(1), *place);
        // The poll's place, then one for each batch sent.
        let batches = second.batches();
        *place += 1 + batches.len() as u64;
        let events = u64::from(!popped) + batches.len() as u64;
        let shard = &mut self.shards[s];
        shard.read_pos = second.read.end;
        shard.poll.record_call(t, second.read.bytes, false);
        shard.poll.behind = false;
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else {
            self.engine.count_planned(events, t);
            return tick;
        };
        // See `steady_run`: a handover need not be played through the pool.
        let every_to_pool = !self.function.handover_is_neutral();
        // The lane's fate mark is its checkpoint here: only a parked mapping (R-POLL-3)
        // leaves it ahead, and parking takes an action, which keeps shards from running
        // alone. So every record of the second gets its fate, and its latency, now.
        debug_assert_eq!(
            shard.lanes[0].fated, first.first,
            "fate mark at the checkpoint"
        );
        let Some(SecondRun { run, divs }) = &second.reading else {
            unreachable!("a planned second has its run");
        };
        let arrival = |i| run.arrival_by(i, divs);
        let mut at = t;
        for (i, b) in batches.iter().enumerate() {
            let end = b.first + b.records;
            if i == 0 || every_to_pool {
                self.pool_log.push(at, s as u32, true);
            }
            let m = &mut self.shards[s].metrics;
            // R-METRIC-1: the iterator age at the send, from the batch's last record.
            m.note_plain_send(at.saturating_since(arrival(end - 1)).as_millis(), b.records);
            at += b.handler;
            if i + 1 == batches.len() || every_to_pool {
                self.pool_log.push(at, s as u32, false);
            }
            let m = &mut self.shards[s].metrics;
            m.note_plain_success(b.handler);
            // `deliver`'s latency: plan_second found the run of the lane's records.
            record_latency(&mut m.latency, at, b.first, end, arrival);
        }
        // `pass_checkpoint` of the second's records, which one run of the lane holds in a
        // log that is not mixed, on the shard's only lane (`steady_possible`), whose range
        // sets are empty (`steady_entry` lets a batch in flight hold delivered records,
        // which its end prunes; a plain second adds to neither): each record from the
        // fate mark on is newly delivered, none filtered, and the log is trimmed to the
        // new checkpoint.
        let end = last.first + last.records;
        let shard = &mut self.shards[s];
        debug_assert!(
            shard.lanes.len() == 1
                && shard.lanes[0].processed.is_empty()
                && shard.lanes[0].delivered.is_empty()
        );
        let lane = &mut shard.lanes[0];
        shard.metrics.records.delivered += end - lane.fated;
        lane.checkpoint = end;
        lane.fated = end;
        lane.state = LaneState::Idle;
        shard.log.trim_to(end);
        self.engine.count_planned(events, at);
        tick
    }

    /// Whether retention trims nothing of `shard` at `at` once its log starts at `head`
    /// (`trim` would do nothing).
    #[inline]
    fn retention_spares(&self, shard: &Shard, at: SimTime, head: SeqIndex) -> bool {
        let retention = self.scenario.stream.retention;
        at.0 < retention.0
            || shard
                .log
                .arrived_prefix_end(head, SimTime(at.0 - retention.0))
                <= head
    }

    /// `send` of a healthy batch at `at`, from the environment on: what the shard
    /// counts when the batch goes to the function (R-METRIC-1's iterator age).
    /// `to_pool`: the pool hears of the start (see `handover_is_neutral`).
    fn steady_send(
        &mut self,
        s: usize,
        at: SimTime,
        p: Planned,
        place: u64,
        to_pool: bool,
    ) -> Flight {
        if to_pool {
            self.pool_log.push(at, s as u32, true);
        }
        let shard = &mut self.shards[s];
        let mut batch = Batch::new(p.first, p.first + p.records, p.records);
        batch.invocations = 1;
        let last_arrival = shard.log.arrival(batch.end - 1).unwrap_or(at);
        let age = at.saturating_since(last_arrival).as_millis();
        shard.metrics.note_plain_send(age, batch.records);
        shard.lanes[0].state = LaneState::Invoking(batch);
        Flight {
            batch,
            handler: p.handler,
            ends: at + p.handler,
            place,
        }
    }

    /// `invocation_ended` of a healthy batch: it succeeded, the checkpoint passes it.
    fn steady_end(&mut self, s: usize, at: SimTime, f: Flight, to_pool: bool) {
        if to_pool {
            self.pool_log.push(at, s as u32, false);
        }
        self.shards[s].metrics.note_plain_success(f.handler);
        self.deliver(s, 0, f.batch.first, f.batch.end);
        self.shards[s].lanes[0].state = LaneState::Idle;
    }
}
