//! A generic discrete-event engine that knows nothing of AWS.
//!
//! Two levels: events that belong to one shard (its polls, its lanes' timers) wait in that
//! shard's own queue, and the rest (writes, samples, actions) in a global one; an index
//! holds each shard's earliest time. The order is total and fixed by the events alone:
//! by time; at the same instant global events first (first scheduled first), then the
//! shards in number order, each shard's events first-scheduled-first. Because a shard's
//! events never need another shard's to be ordered, a caller that knows the shards cannot
//! touch each other for a while may run each shard's events up to a time on its own
//! (`pop_shard_before`) and reach the same state as popping them one by one.
//!
//! Cancellation is lazy: an event carries whatever generation its owner needs to
//! recognise it as stale, and the owner drops it on pop; since every owner keeps at most
//! one live timer per purpose, stale entries never pile up beyond one per purpose. Costs:
//! `schedule` and `pop` are O(log n): a shard's queue holds a handful of entries, the
//! index one per shard.
//!
//! The engine enforces the run limits: a maximum number of events and a final time.
//! Hitting the event limit is an error for the caller to report (exit code 3), never a
//! hang.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::time::{SimDuration, SimTime};

/// Which shard's queue an event waits in, if any.
pub trait Owner {
    fn shard(&self) -> Option<u32>;
}

/// Plain numbers are global events (the engine's benchmarks and tests use them).
impl Owner for u64 {
    fn shard(&self) -> Option<u32> {
        None
    }
}

/// Names are global events in the engine's own tests.
#[cfg(test)]
impl Owner for &str {
    fn shard(&self) -> Option<u32> {
        None
    }
}

struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The event queue and clock of one run.
pub struct Engine<E> {
    now: SimTime,
    seq: u64,
    global: BinaryHeap<Entry<E>>,
    shards: Vec<BinaryHeap<Entry<E>>>,
    /// (time, shard) of each shard's earliest event; lazily kept: an entry whose time is
    /// no longer its shard's earliest is skipped.
    index: BinaryHeap<Reverse<(SimTime, u32)>>,
    /// The shard being run on its own (`begin_alone`), whose events skip the index.
    alone: Option<u32>,
    events: u64,
    max_events: u64,
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitHit {
    #[error(
        "the run hit its event limit ({max_events} events) at simulated time {at}; raise simulation.max_events or shorten the duration"
    )]
    MaxEvents { max_events: u64, at: SimTime },
    #[error(
        "the time series would hold about {rows} rows (one per shard every simulation.sample_every), more than the {limit} a run may keep; raise simulation.sample_every, shorten the duration, or ask for --format json without --report, which keeps none"
    )]
    TimeSeriesRows { rows: u64, limit: u64 },
}

impl<E: Owner> Engine<E> {
    pub fn new(max_events: u64) -> Self {
        Engine {
            now: SimTime::ZERO,
            seq: 0,
            global: BinaryHeap::new(),
            shards: vec![],
            index: BinaryHeap::new(),
            alone: None,
            events: 0,
            max_events,
        }
    }

    /// The current simulated time: the time of the event being handled.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events popped so far (stale ones included: they cost work too).
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn pending(&self) -> usize {
        self.global.len() + self.shards.iter().map(BinaryHeap::len).sum::<usize>()
    }

    /// Schedules `event` at `at`; a time in the past is a programmer error.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let at = at.max(self.now);
        self.seq += 1;
        let entry = Entry {
            at,
            seq: self.seq,
            event,
        };
        let Some(s) = entry.event.shard() else {
            self.global.push(entry);
            return;
        };
        let s_idx = s as usize;
        if s_idx >= self.shards.len() {
            self.shards.resize_with(s_idx + 1, BinaryHeap::new);
        }
        let queue = &mut self.shards[s_idx];
        if self.alone != Some(s) && queue.peek().is_none_or(|e| at < e.at) {
            self.index.push(Reverse((at, s)));
        }
        queue.push(entry);
    }

    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule(self.now + delay, event);
    }

    /// The earliest shard with an event, and its time (stale index entries dropped).
    fn next_shard(&mut self) -> Option<(SimTime, u32)> {
        while let Some(&Reverse((at, s))) = self.index.peek() {
            if self.shards[s as usize].peek().is_some_and(|e| e.at == at) {
                return Some((at, s));
            }
            self.index.pop();
        }
        None
    }

    /// The next global event and its time, if any.
    pub fn peek_global(&self) -> Option<(SimTime, &E)> {
        self.global.peek().map(|e| (e.at, &e.event))
    }

    /// Counts one more event, unless the limit is reached (then the clock stays where
    /// the last event left it, which the error reports).
    fn count_event(&mut self) -> Result<(), LimitHit> {
        if self.events >= self.max_events {
            return Err(LimitHit::MaxEvents {
                max_events: self.max_events,
                at: self.now,
            });
        }
        self.events += 1;
        Ok(())
    }

    /// Pops the next event due at or before `until`, advancing the clock to it.
    /// `Ok(None)` when nothing is due by then (the clock is left where it was).
    pub fn pop_until(&mut self, until: SimTime) -> Result<Option<E>, LimitHit> {
        let g = self.global.peek().map(|e| e.at);
        let shard = match (g, self.next_shard()) {
            (Some(g), Some((at, s))) if at < g => Some((at, s)),
            (None, Some(next)) => Some(next),
            _ => None,
        };
        let at = match (shard, g) {
            (Some((at, _)), _) | (None, Some(at)) => at,
            (None, None) => return Ok(None),
        };
        if at > until {
            return Ok(None);
        }
        self.count_event()?;
        self.now = at;
        let Some((_, s)) = shard else {
            return Ok(Some(self.global.pop().expect("peeked").event));
        };
        self.index.pop();
        let queue = &mut self.shards[s as usize];
        let entry = queue.pop().expect("indexed");
        if let Some(next) = queue.peek() {
            self.index.push(Reverse((next.at, s)));
        }
        Ok(Some(entry.event))
    }

    /// Pops the next global event ahead of any shard events due before it, advancing
    /// the clock to it: for a caller that knows those shard events cannot see it.
    pub fn pop_global_ahead(&mut self) -> Result<Option<E>, LimitHit> {
        let Some(at) = self.global.peek().map(|e| e.at) else {
            return Ok(None);
        };
        self.count_event()?;
        self.now = at;
        Ok(self.global.pop().map(|e| e.event))
    }

    /// Time of shard `s`'s next event, if any.
    pub fn peek_shard(&self, s: u32) -> Option<SimTime> {
        self.shards.get(s as usize)?.peek().map(|e| e.at)
    }

    /// Runs shard `s` on its own: until `end_alone`, its events are popped with
    /// `pop_alone` and those it schedules for itself skip the index.
    pub fn begin_alone(&mut self, s: u32) {
        self.alone = Some(s);
    }

    /// Pops shard `s`'s next event if it is due before `before`, advancing the clock to
    /// it. For shards that cannot touch each other until `before`: the clock goes back
    /// when the caller moves to the next shard, and each shard's events still come in
    /// their order.
    pub fn pop_alone(&mut self, before: SimTime) -> Result<Option<E>, LimitHit> {
        let s = self.alone.expect("begin_alone first") as usize;
        let at = match self.shards.get(s).and_then(BinaryHeap::peek) {
            Some(e) if e.at < before => e.at,
            _ => return Ok(None),
        };
        self.count_event()?;
        self.now = at;
        Ok(Some(self.shards[s].pop().expect("peeked").event))
    }

    /// The pending events of the shard running alone, in no particular order, each with
    /// its place in the order of one instant (lower first).
    pub fn alone_events(&self) -> impl Iterator<Item = (SimTime, u64, &E)> {
        let s = self.alone.expect("begin_alone first") as usize;
        self.shards
            .get(s)
            .into_iter()
            .flat_map(|q| q.iter().map(|e| (e.at, e.seq, &e.event)))
    }

    /// Drops the pending events of the shard running alone: a handler that works its
    /// events out by itself has taken them over, and schedules what is left when done.
    pub fn clear_alone(&mut self) {
        let s = self.alone.expect("begin_alone first") as usize;
        if let Some(q) = self.shards.get_mut(s) {
            q.clear();
        }
    }

    /// A place in the order of one instant after that of every event scheduled so far.
    pub fn next_place(&self) -> u64 {
        self.seq + 1
    }

    /// Counts `n` events handled together with the one just popped (the event limit
    /// applies to each).
    pub fn count_more(&mut self, n: u64) -> Result<(), LimitHit> {
        for _ in 0..n {
            self.count_event()?;
        }
        Ok(())
    }

    /// Whether `n` more events fit in the event limit.
    pub fn has_room_for(&self, n: u64) -> bool {
        self.max_events - self.events >= n
    }

    /// Counts an event at `at` that a handler worked out without the queue, as if it had
    /// been popped (the event limit applies); time moves to `at`.
    pub fn count_outside(&mut self, at: SimTime) -> Result<(), LimitHit> {
        self.count_event()?;
        self.now = at;
        Ok(())
    }

    /// Counts `n` events a handler worked out without the queue, having made sure of
    /// room for them (`has_room_for`); time moves to `at`, the last one's instant.
    pub fn count_planned(&mut self, n: u64, at: SimTime) {
        debug_assert!(self.has_room_for(n), "room was made sure of");
        self.events += n;
        self.now = at;
    }

    /// Ends `begin_alone`: the shard's earliest event goes back in the index.
    pub fn end_alone(&mut self) {
        if let Some(s) = self.alone.take()
            && let Some(next) = self.shards.get(s as usize).and_then(BinaryHeap::peek)
        {
            self.index.push(Reverse((next.at, s)));
        }
    }

    /// Sets the clock (after running shards alone, back to where the run is).
    pub fn set_now(&mut self, t: SimTime) {
        self.now = t;
    }

    /// Moves the clock forward to `t` (used to close a run at its end time).
    pub fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_first_scheduled_first() {
        let mut e = Engine::new(100);
        e.schedule(SimTime::from_secs(2), "late");
        e.schedule(SimTime::from_secs(1), "a");
        e.schedule(SimTime::from_secs(1), "b");
        e.schedule(SimTime::from_secs(1), "c");
        let mut got = vec![];
        while let Some(ev) = e.pop_until(SimTime::MAX).unwrap() {
            got.push((e.now().as_millis(), ev));
        }
        assert_eq!(
            got,
            vec![(1000, "a"), (1000, "b"), (1000, "c"), (2000, "late")]
        );
    }

    #[test]
    fn pop_until_leaves_later_events_pending() {
        let mut e = Engine::new(100);
        e.schedule(SimTime::from_secs(5), 1);
        assert_eq!(e.pop_until(SimTime::from_secs(4)).unwrap(), None);
        assert_eq!(e.pending(), 1);
        assert_eq!(e.now(), SimTime::ZERO);
    }

    /// A test event: `Some(shard)` waits in that shard's queue.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Ev(Option<u32>, u32);

    impl Owner for Ev {
        fn shard(&self) -> Option<u32> {
            self.0
        }
    }

    #[test]
    fn at_one_instant_global_events_come_first_then_shards_by_number() {
        let mut e = Engine::new(100);
        let t = SimTime::from_secs(1);
        e.schedule(t, Ev(Some(2), 0));
        e.schedule(t, Ev(Some(0), 1));
        e.schedule(t, Ev(None, 2));
        e.schedule(t, Ev(Some(0), 3));
        e.schedule(SimTime::from_secs(0), Ev(Some(5), 4));
        e.schedule(t, Ev(None, 5));
        let mut got = vec![];
        while let Some(ev) = e.pop_until(SimTime::MAX).unwrap() {
            got.push(ev.1);
            if ev.1 == 1 {
                // Scheduled now for the same shard: it still comes before shard 2.
                e.schedule(t, Ev(Some(0), 6));
            }
        }
        assert_eq!(got, vec![4, 2, 5, 1, 3, 6, 0]);
    }

    /// Running each shard alone up to a time visits every shard's events in the same
    /// order as popping them one by one.
    #[test]
    fn shards_run_alone_see_their_events_in_the_global_order() {
        let schedule_all = |e: &mut Engine<Ev>| {
            for i in 0..40u32 {
                let at = SimTime(u64::from((i * 7_919) % 1_000));
                e.schedule(at, Ev(Some(i % 4), i));
            }
        };
        let mut one_by_one = Engine::new(1_000);
        schedule_all(&mut one_by_one);
        let mut global: Vec<Vec<(u64, u32)>> = vec![vec![]; 4];
        while let Some(ev) = one_by_one.pop_until(SimTime(500)).unwrap() {
            global[ev.0.unwrap() as usize].push((one_by_one.now().0, ev.1));
        }
        let mut alone = Engine::new(1_000);
        schedule_all(&mut alone);
        for s in 0..4u32 {
            alone.begin_alone(s);
            let mut got = vec![];
            while let Some(ev) = alone.pop_alone(SimTime(501)).unwrap() {
                got.push((alone.now().0, ev.1));
            }
            alone.end_alone();
            assert_eq!(got, global[s as usize], "shard {s}");
        }
        assert_eq!(alone.events(), one_by_one.events());
        // What is left comes out the same either way.
        alone.set_now(SimTime(500));
        let rest = |e: &mut Engine<Ev>| {
            let mut v = vec![];
            while let Some(ev) = e.pop_until(SimTime::MAX).unwrap() {
                v.push(ev.1);
            }
            v
        };
        assert_eq!(rest(&mut alone), rest(&mut one_by_one));
    }

    #[test]
    fn the_event_limit_is_an_error_not_a_hang() {
        let mut e = Engine::new(3);
        for i in 0..10 {
            e.schedule(SimTime::from_secs(i), i);
        }
        for _ in 0..3 {
            assert!(e.pop_until(SimTime::MAX).unwrap().is_some());
        }
        assert!(matches!(
            e.pop_until(SimTime::MAX),
            Err(LimitHit::MaxEvents { max_events: 3, .. })
        ));
    }
}
