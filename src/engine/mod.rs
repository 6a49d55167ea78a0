//! A generic discrete-event engine that knows nothing of AWS.
//!
//! The queue orders events by (time, insertion sequence), so events due at the same
//! instant run first-scheduled-first. Cancellation is lazy: an event carries whatever
//! generation its owner needs to recognise it as stale, and the owner drops it on pop;
//! since every owner keeps at most one live timer per purpose, stale entries never pile
//! up beyond one per purpose. Costs: `schedule` and `pop` are O(log n) in the number of
//! pending events (a binary heap).
//!
//! The engine enforces the run limits: a maximum number of events and a final time.
//! Hitting the event limit is an error for the caller to report (exit code 3), never a
//! hang.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::{SimDuration, SimTime};

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
    queue: BinaryHeap<Entry<E>>,
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
}

impl<E> Engine<E> {
    pub fn new(max_events: u64) -> Self {
        Engine {
            now: SimTime::ZERO,
            seq: 0,
            queue: BinaryHeap::new(),
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
        self.queue.len()
    }

    /// Schedules `event` at `at`; a time in the past is a programmer error.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let at = at.max(self.now);
        self.seq += 1;
        self.queue.push(Entry {
            at,
            seq: self.seq,
            event,
        });
    }

    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule(self.now + delay, event);
    }

    /// Time of the next pending event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|e| e.at)
    }

    /// Pops the next event due at or before `until`, advancing the clock to it.
    /// `Ok(None)` when nothing is due by then (the clock is left where it was).
    pub fn pop_until(&mut self, until: SimTime) -> Result<Option<E>, LimitHit> {
        match self.queue.peek() {
            Some(e) if e.at <= until => {}
            _ => return Ok(None),
        }
        if self.events >= self.max_events {
            return Err(LimitHit::MaxEvents {
                max_events: self.max_events,
                at: self.now,
            });
        }
        let entry = self.queue.pop().expect("peeked");
        self.now = entry.at;
        self.events += 1;
        Ok(Some(entry.event))
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
