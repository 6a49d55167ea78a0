//! The stream: shards, their hash ranges, and each shard's record log.
//!
//! A shard's log is a deque of *runs* (design.md §3): a run is a block of consecutive
//! sequence indexes whose records share everything but their arrival time, and whose
//! arrivals follow one exact integer formula. A run is never one object per record; a
//! steady producer extends the same run tick after tick, so a backlog costs memory in
//! proportion to its rate changes, not to its records.
//!
//! Invariants: runs are contiguous in sequence index (`runs[k+1].first ==
//! runs[k].end()`), none is empty, and the front of the deque is the oldest untrimmed
//! record. "Readable by time t" and "trimmed by time t" are always *prefixes* of the log
//! (the records up to the first one that arrives later than t), so a reader never skips a
//! record even where two producers' runs interleave in time.

use std::collections::VecDeque;

use crate::time::SimTime;

/// The index of a record within its shard (0 for the shard's first record).
pub type SeqIndex = u64;

/// Where a run's records came from, and what marks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunTag {
    /// Index of the producer in the scenario.
    pub producer: u16,
    /// For a scripted producer, the record's place in its records sorted by time;
    /// otherwise `u32::MAX`.
    pub scripted: u32,
    /// Index of the function behaviour that poisons these records, if any.
    pub poison: Option<u16>,
    /// The records match none of the mapping's filters: checkpointed without an
    /// invocation (R-FILTER-1).
    pub filtered: bool,
}

/// Consecutive records with the same size, key length and origin.
///
/// The j-th record of the run (0-based) arrives at
/// `t_base + floor((k0 + j) * step)` microseconds (`Step`): `k0` is the record's
/// place in the producer's own arithmetic progression, which lets a run grow tick after
/// tick and lets cuts fall at any index without rounding drift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub first: SeqIndex,
    pub count: u64,
    pub t_base: u64,
    pub k0: u64,
    pub step: Step,
    /// Data bytes of each record (before base64).
    pub data_bytes: u32,
    /// Length of the partition key as written in the event JSON (escaped, unquoted).
    pub key_json_len: u16,
    /// Bytes each record takes in the event JSON (R-BATCH-2), precomputed.
    pub entry_bytes: u32,
    pub tag: RunTag,
    /// The mapping's lane of these records (R-ORDER-2); 0 with ParallelizationFactor 1.
    pub lane: u8,
    /// For a poison record (always a run of one): invocations whose event held it,
    /// which `times: N` counts.
    pub hits: u32,
}

impl Run {
    #[inline]
    pub fn end(&self) -> SeqIndex {
        self.first + self.count
    }

    /// Arrival of the record at sequence index `i` (which must be in the run).
    #[inline]
    pub fn arrival(&self, i: SeqIndex) -> SimTime {
        debug_assert!(i >= self.first && i < self.end());
        let k = self.k0 + (i - self.first);
        SimTime(self.t_base + self.step.offset(k))
    }

    /// `arrival`, with `divs` this run's step's divisors: without a hardware division.
    #[inline]
    pub fn arrival_by(&self, i: SeqIndex, divs: &StepDivisors) -> SimTime {
        debug_assert!(i >= self.first && i < self.end());
        debug_assert_eq!(divs.step, self.step);
        let k = self.k0 + (i - self.first);
        SimTime(self.t_base + self.step.offset_by(k, &divs.den))
    }

    /// How many of the run's records, from its start, arrive at or before `t`.
    #[inline]
    pub fn count_arrived_by(&self, t: SimTime) -> u64 {
        self.count_arrived_by_as(t, |limit| limit.div_ceil(self.step.num))
    }

    /// `count_arrived_by`, with `divs` this run's step's divisors: without a hardware
    /// division.
    #[inline]
    pub fn count_arrived_by_with(&self, t: SimTime, divs: &StepDivisors) -> u64 {
        debug_assert_eq!(divs.step, self.step);
        self.count_arrived_by_as(t, |limit| divs.num.div_ceil(limit))
    }

    /// `count_arrived_by`, `ceil_by_num(x)` giving x / num rounded up.
    #[inline]
    fn count_arrived_by_as(&self, t: SimTime, ceil_by_num: impl Fn(u64) -> u64) -> u64 {
        if t.0 < self.t_base {
            return 0;
        }
        let (num, den) = (self.step.num, self.step.den);
        if num == 0 {
            return self.count;
        }
        // Record j has arrived iff (k0 + j) * num / den <= t - t_base, i.e.
        // (k0 + j) * num < (t - t_base + 1) * den.
        // First k that has not arrived, in 64-bit arithmetic while the product fits.
        let k_end = match (t.0 - self.t_base + 1).checked_mul(den) {
            Some(limit) => u128::from(ceil_by_num(limit)),
            None => (u128::from(t.0 - self.t_base + 1) * u128::from(den)).div_ceil(u128::from(num)),
        };
        let arrived = k_end.saturating_sub(u128::from(self.k0));
        arrived.min(u128::from(self.count)) as u64
    }

    /// The end of the prefix from `at` (one of the run's indexes) whose records arrived
    /// by some time, `arrived` of the run's having arrived by then (`count_arrived_by`),
    /// if it ends within the run; `None` when the rest of the run has arrived (the
    /// prefix may go on in the next run).
    #[inline]
    pub fn arrived_end_from(&self, at: SeqIndex, arrived: u64) -> Option<SeqIndex> {
        if arrived <= at - self.first {
            Some(at)
        } else if arrived < self.count {
            Some(self.first + arrived)
        } else {
            None
        }
    }

    /// Drops `n` records from the front of the run.
    pub fn cut_front(&mut self, n: u64) {
        debug_assert!(n <= self.count);
        self.first += n;
        self.k0 += n;
        self.count -= n;
    }

    /// Whether `next` continues this run exactly (same formula, contiguous).
    #[inline]
    fn continues_with(&self, next: &Run) -> bool {
        self.t_base == next.t_base
            && self.step == next.step
            && self.k0 + self.count == next.k0
            && self.end() == next.first
            && self.data_bytes == next.data_bytes
            && self.key_json_len == next.key_json_len
            && self.tag == next.tag
            && self.lane == next.lane
            && self.tag.poison.is_none()
            && self.step.num != 0
    }
}

/// The spacing of a run's arrivals, `num / den` microseconds, with its whole part and
/// remainder kept beside so that an arrival costs one division, not three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    num: u64,
    den: u64,
    whole: u64,
    rem: u64,
}

impl Step {
    /// All records at `t_base`.
    pub const ZERO: Step = Step {
        num: 0,
        den: 1,
        whole: 0,
        rem: 0,
    };

    /// `num / den` microseconds, in lowest terms: equal spacings are equal steps (runs
    /// merge), and the products of `Run::arrival` and `Run::count_arrived_by` stay within
    /// 64 bits far longer (a producer's step is 10^12 over its rate in micro-records per
    /// second, which a day of time times overflows; a thousandth of that does not).
    pub fn new(num: u64, den: u64) -> Self {
        let g = gcd(num, den).max(1);
        let (num, den) = (num / g, den / g);
        Step {
            num,
            den,
            whole: num / den,
            rem: num % den,
        }
    }

    /// floor(k * num / den): k * whole + floor(k * rem / den), exactly.
    #[inline]
    fn offset(&self, k: u64) -> u64 {
        k * self.whole + mul_div_floor(k, self.rem, self.den)
    }

    /// `offset`, `den` dividing by this step's denominator where the product fits.
    #[inline]
    fn offset_by(&self, k: u64, den: &Divisor) -> u64 {
        match k.checked_mul(self.rem) {
            Some(p) => k * self.whole + den.div(p),
            None => self.offset(k),
        }
    }
}

/// The greatest common divisor (Euclid's); 0 for two zeros.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A run's step's two divisors (`Run::arrival_by`, `Run::count_arrived_by_with`), made
/// once for the many seconds a healthy shard reads from one run (`World::steady_run`).
#[derive(Clone, Copy, Debug)]
pub struct StepDivisors {
    step: Step,
    num: Divisor,
    den: Divisor,
}

impl StepDivisors {
    /// `run`'s, taken from `cache` when they are its step's, else made (and kept there).
    #[inline(always)]
    pub fn of(cache: &mut Option<StepDivisors>, run: &Run) -> StepDivisors {
        match *cache {
            Some(divs) if divs.step == run.step => divs,
            _ => Self::make(cache, run),
        }
    }

    /// `of` when the cache misses: once a run, kept out of the callers' loops.
    #[cold]
    #[inline(never)]
    fn make(cache: &mut Option<StepDivisors>, run: &Run) -> StepDivisors {
        *cache.insert(StepDivisors {
            step: run.step,
            // A run whose records all arrive at once never divides by its numerator.
            num: Divisor::new(run.step.num.max(1)),
            den: Divisor::new(run.step.den),
        })
    }
}

/// Exact division of many numbers by one divisor: a multiplication by its reciprocal and
/// one correction instead of a hardware division each time. Made with one hardware
/// division; strength_reduce's 64-bit reducer is made with a long division in software,
/// which costs more than the few divisions a run's arrivals in one second save.
#[derive(Clone, Copy, Debug)]
pub struct Divisor {
    d: u64,
    /// floor((2^64 - 1) / d).
    m: u64,
}

impl Divisor {
    pub fn new(d: u64) -> Self {
        assert!(d > 0, "a divisor is positive");
        Divisor { d, m: u64::MAX / d }
    }

    /// floor(n / d).
    #[inline]
    pub fn div(&self, n: u64) -> u64 {
        // n * m / 2^64 > n / d - n / 2^64 > n / d - 1, so q is floor(n / d) or one less.
        let q = ((u128::from(n) * u128::from(self.m)) >> 64) as u64;
        if n - q * self.d >= self.d { q + 1 } else { q }
    }

    /// ceil(n / d).
    #[inline]
    pub fn div_ceil(&self, n: u64) -> u64 {
        let q = self.div(n);
        if q * self.d < n { q + 1 } else { q }
    }
}

/// floor(k * num / den), for a result that fits in 64 bits, in 64-bit arithmetic where it
/// can: with num = q * den + r, k * num / den = k * q + k * r / den exactly. A day of
/// records at 1,000/s puts k * num past 64 bits; k * r stays within them.
#[inline]
fn mul_div_floor(k: u64, num: u64, den: u64) -> u64 {
    if let Some(p) = k.checked_mul(num) {
        return p / den;
    }
    let (q, r) = (num / den, num % den);
    match k.checked_mul(r) {
        Some(p) => k * q + p / den,
        None => (u128::from(k) * u128::from(num) / u128::from(den)) as u64,
    }
}

/// One shard's records, as runs, from its oldest untrimmed record to its newest.
#[derive(Clone, Debug, Default)]
pub struct ShardLog {
    runs: VecDeque<Run>,
    /// Sequence index the next written record gets.
    next: SeqIndex,
    /// Sequence index of the oldest untrimmed record (== `next` when the log is empty).
    head: SeqIndex,
    /// Some record was of a lane other than 0, or filtered: lane queries must look at the
    /// runs. While false (ParallelizationFactor 1, no filters) they are index arithmetic.
    mixed: bool,
}

impl ShardLog {
    #[inline]
    pub fn next_index(&self) -> SeqIndex {
        self.next
    }

    /// Whether some record is of a lane other than 0, or filtered (see `mixed`).
    #[inline]
    pub fn is_mixed(&self) -> bool {
        self.mixed
    }

    #[inline]
    pub fn head(&self) -> SeqIndex {
        self.head
    }

    pub fn runs(&self) -> &VecDeque<Run> {
        &self.runs
    }

    /// Appends `run` (its `first` is set here), merging it into the last run when it
    /// continues it exactly. Returns the first sequence index given to it.
    #[inline]
    pub fn append(&mut self, mut run: Run) -> SeqIndex {
        debug_assert!(run.count > 0);
        run.first = self.next;
        self.next += run.count;
        self.mixed |= run.lane != 0 || run.tag.filtered;
        if let Some(last) = self.runs.back_mut()
            && last.continues_with(&run)
        {
            last.count += run.count;
            return run.first;
        }
        self.runs.push_back(run);
        run.first
    }

    /// Position in `runs` of the run holding index `i`, if `i` is untrimmed and written.
    #[inline]
    pub fn run_index_of(&self, i: SeqIndex) -> Option<usize> {
        if i < self.head || i >= self.next {
            return None;
        }
        // A steady shard's log is a run or two: look at the ends before searching.
        if self.runs.front().is_some_and(|r| i < r.end()) {
            return Some(0);
        }
        let last = self.runs.len() - 1;
        if self.runs[last].first <= i {
            return Some(last);
        }
        let pos = self.runs.partition_point(|r| r.end() <= i);
        Some(pos)
    }

    #[inline]
    pub fn run_of(&self, i: SeqIndex) -> Option<&Run> {
        self.run_index_of(i).map(|p| &self.runs[p])
    }

    #[inline]
    pub fn run_of_mut(&mut self, i: SeqIndex) -> Option<&mut Run> {
        self.run_index_of(i).map(|p| &mut self.runs[p])
    }

    /// Arrival time of the record at `i`, if it is in the log.
    #[inline]
    pub fn arrival(&self, i: SeqIndex) -> Option<SimTime> {
        self.run_of(i).map(|r| r.arrival(i))
    }

    /// The end of the prefix starting at `from` whose records arrived at or before `t`:
    /// every index in `[from, end)` has arrived, and `end` has not (or is `next`).
    pub fn arrived_prefix_end(&self, from: SeqIndex, t: SimTime) -> SeqIndex {
        let from = from.max(self.head);
        let Some(mut pos) = self.run_index_of(from) else {
            return from.min(self.next);
        };
        let mut at = from;
        while pos < self.runs.len() {
            let run = &self.runs[pos];
            if let Some(end) = run.arrived_end_from(at, run.count_arrived_by(t)) {
                return end;
            }
            at = run.end();
            pos += 1;
        }
        at
    }

    /// Drops every record below `upto` (a prefix). Returns how many were dropped.
    pub fn trim_to(&mut self, upto: SeqIndex) -> u64 {
        let upto = upto.min(self.next);
        if upto <= self.head {
            return 0;
        }
        let dropped = upto - self.head;
        while let Some(front) = self.runs.front_mut() {
            if front.end() <= upto {
                self.runs.pop_front();
            } else {
                if front.first < upto {
                    front.cut_front(upto - front.first);
                }
                break;
            }
        }
        self.head = upto;
        dropped
    }

    /// Splits runs so that index `i` starts a run of its own (no-op at a run boundary).
    pub fn split_at(&mut self, i: SeqIndex) {
        let Some(pos) = self.run_index_of(i) else {
            return;
        };
        let run = self.runs[pos];
        if run.first == i {
            return;
        }
        let mut tail = run;
        tail.cut_front(i - run.first);
        self.runs[pos].count = i - run.first;
        self.runs.insert(pos + 1, tail);
    }

    /// Marks the single record at `i` with a poison behaviour, isolating it in its own run.
    pub fn poison_record(&mut self, i: SeqIndex, behaviour: u16) {
        self.split_at(i);
        self.split_at(i + 1);
        if let Some(pos) = self.run_index_of(i) {
            // Two poisons naming one record: the first placed (the earlier, or the lower
            // behaviour index at the same time) decides.
            self.runs[pos].tag.poison.get_or_insert(behaviour);
        }
    }

    /// Calls `f(slice_first, slice_end, run)` for each run of `lane` overlapping `[a, b)`
    /// whose records go to the function (filtered runs are skipped).
    pub fn for_each_in_lane(
        &self,
        a: SeqIndex,
        b: SeqIndex,
        lane: u8,
        mut f: impl FnMut(SeqIndex, SeqIndex, &Run),
    ) {
        self.for_each_in_lane_while(a, b, lane, |x, y, run| {
            f(x, y, run);
            true
        });
    }

    /// Like `for_each_in_lane`, stopping after the first slice for which `f` returns false.
    pub fn for_each_in_lane_while(
        &self,
        a: SeqIndex,
        b: SeqIndex,
        lane: u8,
        mut f: impl FnMut(SeqIndex, SeqIndex, &Run) -> bool,
    ) {
        self.for_each_in_while(a, b, |x, y, run| {
            if run.lane == lane && !run.tag.filtered {
                f(x, y, run)
            } else {
                true
            }
        });
    }

    /// Whether `[a, b)` holds fewer than `limit` records of `lane` for the function;
    /// looks no further than it must.
    #[inline]
    pub fn lane_has_fewer(&self, a: SeqIndex, b: SeqIndex, lane: u8, limit: u64) -> bool {
        if !self.mixed {
            return self.count_lane(a, b, lane) < limit;
        }
        let mut seen = 0;
        self.for_each_in_lane_while(a, b, lane, |x, y, _| {
            seen += y - x;
            seen < limit
        });
        seen < limit
    }

    /// Records of `lane` in `[a, b)`: (to the function, filtered).
    #[inline]
    pub fn count_lane_split(&self, a: SeqIndex, b: SeqIndex, lane: u8) -> (u64, u64) {
        if !self.mixed {
            let n = b.min(self.next).saturating_sub(a.max(self.head));
            return (if lane == 0 { n } else { 0 }, 0);
        }
        let (mut kept, mut filtered) = (0, 0);
        self.for_each_in(a, b, |x, y, run| {
            if run.lane == lane {
                if run.tag.filtered {
                    filtered += y - x;
                } else {
                    kept += y - x;
                }
            }
        });
        (kept, filtered)
    }

    /// Records of `lane` in `[a, b)`, filtered ones included.
    #[inline]
    pub fn count_lane_all(&self, a: SeqIndex, b: SeqIndex, lane: u8) -> u64 {
        let (kept, filtered) = self.count_lane_split(a, b, lane);
        kept + filtered
    }

    /// Records of `lane` in `[a, b)` that go to the function.
    #[inline]
    pub fn count_lane(&self, a: SeqIndex, b: SeqIndex, lane: u8) -> u64 {
        self.count_lane_split(a, b, lane).0
    }

    /// Index of the `n`-th (0-based) record of `lane` at or after `from`, below `end`.
    pub fn nth_of_lane(&self, from: SeqIndex, end: SeqIndex, lane: u8, n: u64) -> Option<SeqIndex> {
        if !self.mixed {
            let i = from.max(self.head) + n;
            return (lane == 0 && i < end.min(self.next)).then_some(i);
        }
        let mut left = n;
        let mut found = None;
        self.for_each_in_lane_while(from, end, lane, |x, y, _| {
            if left < y - x {
                found = Some(x + left);
                false
            } else {
                left -= y - x;
                true
            }
        });
        found
    }

    /// Index of the last record of `lane` in `[a, b)`.
    #[inline]
    pub fn last_of_lane(&self, a: SeqIndex, b: SeqIndex, lane: u8) -> Option<SeqIndex> {
        if !self.mixed {
            let (a, b) = (a.max(self.head), b.min(self.next));
            return (lane == 0 && a < b).then(|| b - 1);
        }
        let mut last = None;
        self.for_each_in_lane(a, b, lane, |_, y, _| last = Some(y - 1));
        last
    }

    /// Calls `f(run_slice_first, run_slice_end, run)` for each run overlapping `[a, b)`.
    pub fn for_each_in(
        &self,
        a: SeqIndex,
        b: SeqIndex,
        mut f: impl FnMut(SeqIndex, SeqIndex, &Run),
    ) {
        self.for_each_in_while(a, b, |x, y, run| {
            f(x, y, run);
            true
        });
    }

    /// Like `for_each_in`, stopping after the first slice for which `f` returns false:
    /// a reader that needs only the front of a long backlog pays for the front only.
    pub fn for_each_in_while(
        &self,
        a: SeqIndex,
        b: SeqIndex,
        mut f: impl FnMut(SeqIndex, SeqIndex, &Run) -> bool,
    ) {
        // Only what the log still holds: trimmed indexes have no records.
        let (a, b) = (a.max(self.head), b.min(self.next));
        if a >= b {
            // An empty range, e.g. a lane whose checkpoint is past the reads after a
            // restart: nothing to see.
            return;
        }
        let Some(mut pos) = self.run_index_of(a) else {
            return;
        };
        while pos < self.runs.len() {
            let run = &self.runs[pos];
            if run.first >= b {
                break;
            }
            if !f(run.first.max(a), run.end().min(b), run) {
                break;
            }
            pos += 1;
        }
    }
}

/// A 128-bit hash key range, inclusive at both ends, as in the Kinesis API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashRange {
    pub start: u128,
    pub end: u128,
}

impl HashRange {
    pub fn contains(&self, h: u128) -> bool {
        self.start <= h && h <= self.end
    }

    /// `n` even ranges covering the whole key space, as CreateStream makes them:
    /// shard k starts at k * floor(2^128 / n).
    pub fn even(n: u32) -> Vec<HashRange> {
        let n = u128::from(n.max(1));
        if n == 1 {
            return vec![HashRange {
                start: 0,
                end: u128::MAX,
            }];
        }
        // floor(2^128 / n) without overflowing: 2^128 = u128::MAX + 1.
        let width = u128::MAX / n + u128::from(u128::MAX % n + 1 == n);
        (0..n)
            .map(|k| HashRange {
                start: k * width,
                end: if k + 1 == n {
                    u128::MAX
                } else {
                    (k + 1) * width - 1
                },
            })
            .collect()
    }
}

/// MD5 of the partition key as a 128-bit big-endian integer (R-STREAM-1).
pub fn hash_key(partition_key: impl AsRef<[u8]>) -> u128 {
    use md5::{Digest, Md5};
    let digest = Md5::digest(partition_key.as_ref());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    u128::from_be_bytes(bytes)
}

/// The shard id string of shard number `n` (`shardId-000000000003`).
pub fn shard_id(n: u32) -> String {
    format!("shardId-{n:012}")
}

/// Length of every sequence number string kinesim writes.
pub const SEQUENCE_NUMBER_LEN: usize = 56;

/// The canonical decimal sequence number of record `i` of shard number `shard` (R-STREAM-2).
///
/// 56 digits like AWS's: a fixed `4960` prefix (no leading zero), the shard number, then
/// the index. Unique in the stream (the shard number is part of it) and increasing within
/// a shard; a fixed length keeps every record's event size exact and cheap to compute.
pub fn sequence_number(shard: u32, i: SeqIndex) -> String {
    format!("4960{shard:012}{i:040}")
}

/// The shard number and index of a sequence number kinesim wrote, if `s` is one.
pub fn parse_sequence_number(s: &str) -> Option<(u32, SeqIndex)> {
    if s.len() != SEQUENCE_NUMBER_LEN
        || !s.starts_with("4960")
        || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let shard = s.get(4..16)?.parse().ok()?;
    let index = s.get(16..)?.parse().ok()?;
    Some((shard, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_parse_back() {
        assert_eq!(
            parse_sequence_number(&sequence_number(3, 42)),
            Some((3, 42))
        );
        assert_eq!(parse_sequence_number("123"), None);
        assert_eq!(parse_sequence_number(""), None);
    }

    fn run(count: u64, t_base: u64, step_num: u64, step_den: u64) -> Run {
        Run {
            first: 0,
            count,
            t_base,
            k0: 0,
            step: Step::new(step_num, step_den),
            data_bytes: 10,
            key_json_len: 3,
            entry_bytes: 100,
            tag: RunTag {
                producer: 0,
                scripted: u32::MAX,
                poison: None,
                filtered: false,
            },
            lane: 0,
            hits: 0,
        }
    }

    #[test]
    fn r_stream_2_sequence_numbers_are_canonical_and_ordered() {
        let a = sequence_number(0, 5);
        let b = sequence_number(0, 6);
        let c = sequence_number(1, 0);
        assert_eq!(a.len(), SEQUENCE_NUMBER_LEN);
        assert!(!a.starts_with('0'));
        assert!(a < b, "increasing within a shard");
        assert_ne!(a, c);
        assert_eq!(shard_id(3), "shardId-000000000003");
    }

    #[test]
    fn r_stream_1_hash_is_md5_big_endian() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
        assert_eq!(
            HashRange::even(1),
            vec![HashRange {
                start: 0,
                end: u128::MAX
            }]
        );
        let ranges = HashRange::even(4);
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges[1].start, 1u128 << 126, "AWS's even split");
        assert_eq!(ranges[3].end, u128::MAX);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end + 1, w[1].start, "contiguous");
        }
    }

    proptest::proptest! {
        #[test]
        fn mul_div_floor_is_the_128_bit_quotient(
            k in 0u64..1 << 40,
            num in 1u64..=2_000_000_000_000,
            den in 1u64..=2_000_000_000_000,
        ) {
            let exact = u128::from(k) * u128::from(num) / u128::from(den);
            proptest::prop_assume!(exact <= u128::from(u64::MAX));
            proptest::prop_assert_eq!(u128::from(mul_div_floor(k, num, den)), exact);
            // And through a run's step, its whole part and remainder precomputed.
            proptest::prop_assert_eq!(u128::from(Step::new(num, den).offset(k)), exact);
        }

        /// Division by a reciprocal is the hardware's division, at the ends of the range
        /// too.
        #[test]
        fn a_divisor_divides_exactly(
            n in proptest::prop_oneof![proptest::num::u64::ANY, (u64::MAX - 1_000)..=u64::MAX, 0u64..1_000],
            d in proptest::prop_oneof![1u64..=1_000, 1u64..=u64::MAX, (u64::MAX - 1_000)..=u64::MAX],
        ) {
            proptest::prop_assert_eq!(Divisor::new(d).div(n), n / d);
            proptest::prop_assert_eq!(Divisor::new(d).div_ceil(n), n.div_ceil(d));
        }

        /// A run's arrivals, and how many have arrived by a time, are the same through
        /// its step's divisors.
        #[test]
        fn arrivals_by_divisor_are_the_arrivals(
            count in 1u64..1 << 30,
            k0 in proptest::prop_oneof![0u64..1 << 30, 0u64..1 << 40],
            num in 1u64..=2_000_000_000,
            den in 1u64..=2_000_000_000,
            at in 0.0f64..1.0,
        ) {
            let mut r = run(count, 7, num, den);
            r.k0 = k0;
            let i = r.first + ((count - 1) as f64 * at) as u64;
            proptest::prop_assume!(u128::from(k0 + count) * u128::from(num) / u128::from(den) < 1 << 62);
            let divs = StepDivisors::of(&mut None, &r);
            proptest::prop_assert_eq!(r.arrival_by(i, &divs), r.arrival(i));
            let t = SimTime(r.arrival(i).0 + (at * 3.0) as u64);
            proptest::prop_assert_eq!(r.count_arrived_by_with(t, &divs), r.count_arrived_by(t));
        }
    }

    #[test]
    fn steps_are_kept_in_lowest_terms() {
        // 900 records/s, as a producer gives it: 10^12 over 9 * 10^8 micro-records/s.
        let step = Step::new(1_000_000_000_000, 900_000_000);
        assert_eq!(step, Step::new(10_000, 9));
        assert_eq!(
            (step.num, step.den, step.whole, step.rem),
            (10_000, 9, 1_111, 1)
        );
        assert_eq!(Step::new(0, 7), Step::ZERO);
        // A day of such records stays within 64 bits (10^12 * 9 * 10^8 would not).
        let r = run(77_760_000, 0, 1_000_000_000_000, 900_000_000);
        let day = SimTime(86_400_000_000);
        assert_eq!(r.count_arrived_by(day), 77_760_000);
        assert_eq!(r.arrival(77_759_999), SimTime(86_399_998_888));
    }

    #[test]
    fn run_arrivals_follow_the_exact_progression() {
        // 3 records per second: 0, 333333, 666666 us.
        let r = run(6, 0, 1_000_000, 3);
        assert_eq!(r.arrival(0), SimTime(0));
        assert_eq!(r.arrival(1), SimTime(333_333));
        assert_eq!(r.arrival(3), SimTime(1_000_000));
        assert_eq!(r.count_arrived_by(SimTime(333_332)), 1);
        assert_eq!(r.count_arrived_by(SimTime(333_333)), 2);
        assert_eq!(r.count_arrived_by(SimTime(10_000_000)), 6);
    }

    #[test]
    fn a_steady_producer_grows_one_run() {
        let mut log = ShardLog::default();
        let mut first = run(3, 0, 1_000_000, 3);
        log.append(first);
        first.k0 = 3;
        log.append(first);
        assert_eq!(log.runs().len(), 1);
        assert_eq!(log.next_index(), 6);
        assert_eq!(log.arrival(4), Some(SimTime(1_333_333)));
    }

    #[test]
    fn trims_and_splits_fall_at_exact_indexes() {
        let mut log = ShardLog::default();
        log.append(run(10, 0, 1_000_000, 10)); // one record each 100 ms
        assert_eq!(log.arrived_prefix_end(0, SimTime(250_000)), 3);
        log.poison_record(4, 0);
        assert_eq!(log.runs().len(), 3);
        assert_eq!(log.run_of(4).unwrap().tag.poison, Some(0));
        assert_eq!(log.run_of(5).unwrap().tag.poison, None);
        assert_eq!(log.arrival(7), Some(SimTime(700_000)));
        assert_eq!(log.trim_to(5), 5);
        assert_eq!(log.head(), 5);
        assert_eq!(log.arrival(4), None);
        assert_eq!(log.arrival(5), Some(SimTime(500_000)));
        assert_eq!(log.arrived_prefix_end(0, SimTime(650_000)), 7);
    }
}
