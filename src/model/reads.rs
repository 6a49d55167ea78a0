//! The read side of one shard, as the mapping sees it (R-STREAM-5, R-EFO-1): how often it
//! may call GetRecords, how many bytes it may read, and how soon a written record can be
//! read.
//!
//! Shared throughput: a shard serves 2 MiB/s and 5 GetRecords calls per second to all its
//! standard consumers together. kinesim keeps the mapping's share as a byte credit that
//! refills at 2 MiB/s (at most one second's worth banked); a call is allowed while the
//! credit is not negative and may take it below zero (a 10 MiB call then keeps the next
//! calls out for 5 s, as AWS does). Each of `stream.other_consumers` reads every record
//! written once, with one call a second **[choice]**: their bytes come out of the credit
//! when written, and they are served first, but the mapping keeps at least its fair share
//! (1/(n+1) of the bytes; the calls left of 5 a second, or one call every (n+1)/5 s when
//! they leave none).
//!
//! Enhanced fan-out: the mapping has its own 2 MiB/s and no call limit; records are pushed
//! about 70 ms after they are written instead of polled.

use crate::scenario::{ConsumerKind, StreamSpec};
use crate::time::{SimDuration, SimTime, US_PER_S};

/// Bytes per second a shard serves to its readers (R-STREAM-5, R-EFO-1).
pub const READ_BYTES_PER_SEC: u64 = 2 << 20;
/// GetRecords calls per second a shard serves to its standard readers (R-STREAM-5).
pub const SHARED_CALLS_PER_SEC: u32 = 5;
/// Propagation delay per standard consumer, and its ceiling (R-EFO-1).
pub const SHARED_DELAY_PER_CONSUMER: SimDuration = SimDuration::from_millis(200);
pub const SHARED_DELAY_MAX: SimDuration = SimDuration::from_millis(1_000);
/// Propagation delay of an enhanced fan-out push (R-EFO-1).
pub const EFO_DELAY: SimDuration = SimDuration::from_millis(70);

/// The read limits of the mapping on every shard of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// Enhanced fan-out: pushed records, dedicated throughput, no call limit.
    pub efo: bool,
    /// Other standard consumers of each shard.
    pub others: u32,
    /// The mapping may make `calls` GetRecords calls in any `window`.
    pub calls: u32,
    pub window: SimDuration,
    /// From a record's arrival until the mapping can read it.
    pub propagation: SimDuration,
}

impl ReadLimits {
    pub fn of(stream: &StreamSpec) -> Self {
        if stream.consumer == ConsumerKind::EnhancedFanOut {
            return ReadLimits {
                efo: true,
                others: 0,
                calls: SHARED_CALLS_PER_SEC,
                window: SimDuration::ZERO,
                propagation: EFO_DELAY,
            };
        }
        let others = stream.other_consumers;
        let consumers = others + 1;
        let (calls, window) = if others < SHARED_CALLS_PER_SEC {
            (SHARED_CALLS_PER_SEC - others, SimDuration::from_secs(1))
        } else {
            // Everyone's one call a second is more than the shard serves: each gets
            // 5 calls per `consumers` seconds, i.e. one every consumers/5 s.
            (
                1,
                SimDuration(US_PER_S * u64::from(consumers) / u64::from(SHARED_CALLS_PER_SEC)),
            )
        };
        ReadLimits {
            efo: false,
            others,
            calls,
            window,
            propagation: SimDuration(
                (SHARED_DELAY_PER_CONSUMER.0 * u64::from(consumers)).min(SHARED_DELAY_MAX.0),
            ),
        }
    }

    /// The latest arrival a read at `now` sees (a record is readable once it has
    /// propagated, R-EFO-1); `None` before the first has had time to.
    #[inline]
    pub fn readable_by(&self, now: SimTime) -> Option<SimTime> {
        now.0.checked_sub(self.propagation.0).map(SimTime)
    }

    /// Bytes the other consumers take of a second's credit when `written` bytes arrive:
    /// each reads them once, but the mapping keeps its fair share.
    fn others_take(&self, written: u64) -> u64 {
        if self.efo || self.others == 0 {
            return 0;
        }
        let n = u64::from(self.others);
        (written * n).min(READ_BYTES_PER_SEC * n / (n + 1))
    }
}

/// The mapping's reading of one shard: its poll phase, its recent calls, its byte credit.
#[derive(Clone, Debug, Default)]
pub struct PollState {
    /// Offset of the shard's once-a-second polls in [0, 1 s).
    pub phase: SimDuration,
    /// Times of the last five GetRecords calls, oldest first.
    recent: [Option<SimTime>; SHARED_CALLS_PER_SEC as usize],
    /// The last call hit the 10,000-record or 10 MiB cap: the shard is behind.
    pub behind: bool,
    /// A poll other than the tick (catch-up or push) is scheduled.
    pub extra_pending: bool,
    /// Bytes the mapping may still read, as of `credit_at` (negative: in debt).
    credit: i64,
    credit_at: SimTime,
    /// GetRecords calls made, and those refused (ReadProvisionedThroughputExceeded).
    pub calls: u64,
    pub throttled: u64,
    /// Data bytes the mapping read.
    pub bytes: u64,
}

impl PollState {
    pub fn new(phase: SimDuration) -> Self {
        PollState {
            phase,
            credit: READ_BYTES_PER_SEC as i64,
            ..PollState::default()
        }
    }

    /// The credit at `now`: refilled at 2 MiB/s, at most one second's worth.
    fn credit_now(&self, now: SimTime) -> i64 {
        let elapsed = now.saturating_since(self.credit_at).0;
        // In 64 bits for the first hundred days since the last change, the usual case.
        let refill = match elapsed.checked_mul(READ_BYTES_PER_SEC) {
            Some(p) => i128::from(p / US_PER_S),
            None => i128::from(elapsed) * i128::from(READ_BYTES_PER_SEC) / i128::from(US_PER_S),
        };
        (i128::from(self.credit) + refill).min(i128::from(READ_BYTES_PER_SEC)) as i64
    }

    fn set_credit(&mut self, now: SimTime, credit: i64) {
        self.credit = credit;
        self.credit_at = now;
    }

    /// Whether the call limit allows a call now (the credit apart).
    fn within_calls(&self, now: SimTime, limits: &ReadLimits) -> bool {
        now >= self.calls_allow_at(limits)
    }

    fn calls_allow_at(&self, limits: &ReadLimits) -> SimTime {
        if limits.efo {
            return SimTime::ZERO;
        }
        let k = limits.calls as usize;
        self.recent[self.recent.len() - k]
            .map(|t| t + limits.window)
            .unwrap_or(SimTime::ZERO)
    }

    /// Whether a call now is within the limits: call rate and byte credit.
    pub fn may_call(&self, now: SimTime, limits: &ReadLimits) -> bool {
        self.within_calls(now, limits) && self.credit_now(now) >= 0
    }

    /// The earliest time a call may be allowed (the others' reads may push it later).
    pub fn next_allowed(&self, now: SimTime, limits: &ReadLimits) -> SimTime {
        let credit = self.credit_now(now);
        let by_credit = if credit >= 0 {
            now
        } else {
            let wait = (credit.unsigned_abs() * US_PER_S).div_ceil(READ_BYTES_PER_SEC);
            now + SimDuration(wait)
        };
        self.calls_allow_at(limits).max(by_credit)
    }

    /// Whether a call now would be refused for want of credit though the call rate
    /// allows it: the mapping's poll is then a throttled call.
    pub fn refused(&self, now: SimTime, limits: &ReadLimits) -> bool {
        self.within_calls(now, limits) && self.credit_now(now) < 0
    }

    /// A GetRecords call now that returned `bytes` (0 for a refused call).
    pub fn record_call(&mut self, now: SimTime, bytes: u64, refused: bool) {
        self.recent.rotate_left(1);
        *self.recent.last_mut().expect("five slots") = Some(now);
        self.calls += 1;
        self.bytes += bytes;
        if refused {
            self.throttled += 1;
        }
        let credit = self.credit_now(now) - bytes as i64;
        self.set_credit(now, credit);
    }

    /// Records of `written` bytes arrived: the other consumers read them (shared only).
    pub fn others_read(&mut self, now: SimTime, written: u64, limits: &ReadLimits) {
        let take = limits.others_take(written);
        if take > 0 {
            let credit = self.credit_now(now) - take as i64;
            self.set_credit(now, credit);
        }
    }

    /// Forget the catch-up state (the mapping restarts reading from its checkpoint).
    pub fn restart(&mut self) {
        self.behind = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(consumer: ConsumerKind, others: u32) -> StreamSpec {
        StreamSpec {
            name: "s".into(),
            shards: 1,
            retention: SimDuration::from_hours(24),
            mode: crate::scenario::StreamMode::Provisioned,
            consumer,
            other_consumers: others,
            max_record_size: 1 << 20,
        }
    }

    fn shared(others: u32) -> ReadLimits {
        ReadLimits {
            efo: false,
            others,
            calls: SHARED_CALLS_PER_SEC - others.min(4),
            window: SimDuration::from_secs(1),
            propagation: SimDuration::ZERO,
        }
    }

    #[test]
    fn r_stream_5_a_ten_mib_call_keeps_the_next_calls_out_for_five_seconds() {
        let limits = shared(0);
        let mut p = PollState::new(SimDuration::ZERO);
        let t0 = SimTime::from_secs(10);
        assert!(p.may_call(t0, &limits));
        p.record_call(t0, 10 << 20, false);
        // 2 MiB banked, 10 MiB read: 8 MiB of debt, repaid at 2 MiB/s.
        assert!(!p.may_call(t0 + SimDuration::from_millis(3_999), &limits));
        assert_eq!(p.next_allowed(t0, &limits), t0 + SimDuration::from_secs(4));
        assert!(p.may_call(t0 + SimDuration::from_secs(4), &limits));
    }

    #[test]
    fn r_stream_5_five_calls_in_any_second() {
        let limits = shared(0);
        let mut p = PollState::new(SimDuration::ZERO);
        let t0 = SimTime::from_secs(1);
        for i in 0..5 {
            let t = t0 + SimDuration::from_millis(i * 10);
            assert!(p.may_call(t, &limits), "call {i}");
            p.record_call(t, 0, false);
        }
        assert!(!p.may_call(t0 + SimDuration::from_millis(999), &limits));
        assert!(p.may_call(t0 + SimDuration::from_secs(1), &limits));
    }

    #[test]
    fn r_stream_5_other_consumers_leave_fewer_calls_and_bytes() {
        let two = ReadLimits::of(&stream(ConsumerKind::Shared, 2));
        assert_eq!((two.calls, two.window), (3, SimDuration::from_secs(1)));
        assert_eq!(two.propagation, SimDuration::from_millis(600));
        let six = ReadLimits::of(&stream(ConsumerKind::Shared, 6));
        assert_eq!(
            (six.calls, six.window),
            (1, SimDuration::from_millis(1_400))
        );
        assert_eq!(six.propagation, SHARED_DELAY_MAX);
        // Two others reading 1 MiB each of a 1 MiB second take 2 MiB, but the mapping
        // keeps a third of the 2 MiB.
        assert_eq!(two.others_take(1 << 20), (2 << 20) * 2 / 3);
        assert_eq!(two.others_take(100), 200);
    }

    #[test]
    fn r_efo_1_enhanced_fan_out_is_pushed_after_70_ms_with_no_call_limit() {
        let efo = ReadLimits::of(&stream(ConsumerKind::EnhancedFanOut, 3));
        assert!(efo.efo);
        assert_eq!(efo.propagation, EFO_DELAY);
        assert_eq!(
            efo.others_take(1 << 20),
            0,
            "no sharing with standard consumers"
        );
        let mut p = PollState::new(SimDuration::ZERO);
        for i in 0..20 {
            let t = SimTime::from_millis(i);
            assert!(p.may_call(t, &efo));
            p.record_call(t, 0, false);
        }
    }
}
