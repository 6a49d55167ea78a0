//! The Lambda function: concurrency, execution environments, and what an invocation
//! does with a batch (R-CONC-1..3, R-ERR-1, R-PBR-1..3).
//!
//! The model decides an invocation's whole fate when it starts (outcome, handler
//! duration, which records it processed, what it answered), because nothing that
//! happens meanwhile can change it; the end is then one timer.

use std::collections::VecDeque;

use rand::RngExt;
use serde_json::Value;

use crate::model::destination::FunctionError;
use crate::rng::{Concern, SimRng, substream};
use crate::scenario::{Behaviour, Effect, FunctionSpec, PPM_ONE};
use crate::time::{SimDuration, SimTime};

/// The random draws of one shard's invocations: its own sub-streams, so that what
/// happens on one shard never shifts another's draws (I-3).
pub struct InvocationRng {
    durations: SimRng,
    failures: SimRng,
}

impl InvocationRng {
    pub fn for_shard(seed: u64, shard: u32) -> Self {
        InvocationRng {
            durations: substream(seed, Concern::Durations(shard)),
            failures: substream(seed, Concern::Failures(shard)),
        }
    }
}

/// How an invocation ended (R-METRIC-2's classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
    /// A valid partial batch response naming failed records (R-PBR-2).
    Partial,
    /// A response that counts as a complete failure (R-PBR-3).
    InvalidResponse,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Partial => "partial",
            Outcome::InvalidResponse => "invalid_response",
        }
    }
}

/// A poison record inside a batch, as the function meets it.
#[derive(Clone, Copy, Debug)]
pub struct PoisonHit {
    /// Position in the batch (0 = first record).
    pub offset: u64,
    /// Data bytes of the batch's records up to and including this one.
    pub bytes_through: u64,
    pub behaviour: u16,
    /// Invocations whose event held this record, this one included.
    pub hits: u32,
}

/// Index ranges of a batch's records: a healthy lane's batch is one or two runs, kept
/// inline so that a batch costs no allocation.
pub type Slices = smallvec::SmallVec<[(u64, u64); 4]>;

/// What the function needs to know of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchFacts {
    pub records: u64,
    pub data_bytes: u64,
    /// Bytes of the records' event entries (R-BATCH-2).
    pub entries_bytes: u64,
    /// In batch order.
    pub poisons: Vec<PoisonHit>,
    /// The mapping has a tumbling window: the function must answer with a `state`.
    pub windowed: bool,
    /// The shard's number and the index ranges of the batch's records, in order: the
    /// function names records by sequence number, the ESM reads them back.
    pub shard: u32,
    pub slices: Slices,
}

impl BatchFacts {
    /// The log index of the record at `offset` in the batch.
    pub fn index_of(&self, offset: u64) -> Option<u64> {
        let mut left = offset;
        for &(a, b) in &self.slices {
            if left < b - a {
                return Some(a + left);
            }
            left -= b - a;
        }
        None
    }

    /// The offset in the batch of the record `item_identifier` names, if any.
    pub fn offset_of(&self, item_identifier: &str) -> Option<u64> {
        let (shard, index) = crate::model::stream::parse_sequence_number(item_identifier)?;
        if shard != self.shard {
            return None;
        }
        let mut before = 0;
        for &(a, b) in &self.slices {
            if (a..b).contains(&index) {
                return Some(before + index - a);
            }
            before += b - a;
        }
        None
    }
}

/// The decided fate of one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub outcome: Outcome,
    /// Handler time (the timeout itself for a timeout); cold start not included.
    pub handler: SimDuration,
    /// On a throw, the records before the throwing one were processed successfully
    /// (R-ERR-1): their count. On success and partial success, the whole batch
    /// (less `named`).
    pub processed_prefix: u64,
    /// Offsets the response names as failed, sorted: read by the ESM only with
    /// ReportBatchItemFailures (R-PBR-1).
    pub named: Vec<u64>,
    /// Offset of the record the function failed at, if a poison record failed it.
    pub failed_offset: Option<u64>,
    /// What a destination message reports for this failure (R-DEST-2).
    pub function_error: FunctionError,
}

impl Invocation {
    /// A plain success: `records` records processed in `handler`, nothing named.
    pub fn success(handler: SimDuration, records: u64) -> Self {
        Invocation {
            outcome: Outcome::Ok,
            handler,
            processed_prefix: records,
            named: vec![],
            failed_offset: None,
            function_error: FunctionError::None,
        }
    }
}

/// What the ESM makes of a function's response (R-PBR-3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Success,
    /// Valid, naming these offsets (sorted, without repeats).
    Failures(Vec<u64>),
    /// A complete failure of the batch.
    Invalid,
}

/// Reads a partial batch response (R-PBR-3): null, `""`, `[]`, `{}`,
/// `{"batchItemFailures": []}` and `{"batchItemFailures": null}` are success; an entry
/// whose itemIdentifier is missing, null, empty or not a sequence number of the batch
/// makes the whole response a complete failure.
pub fn read_response(response: &Value, batch: &BatchFacts) -> Response {
    let failures = match response {
        Value::Null => return Response::Success,
        Value::String(s) if s.is_empty() => return Response::Success,
        Value::Array(a) if a.is_empty() => return Response::Success,
        Value::Object(o) => match o.get("batchItemFailures") {
            None | Some(Value::Null) => return Response::Success,
            Some(Value::Array(items)) => items,
            Some(_) => return Response::Invalid,
        },
        _ => return Response::Invalid,
    };
    let mut named = Vec::with_capacity(failures.len());
    for item in failures {
        let Some(Value::String(id)) = item.get("itemIdentifier") else {
            return Response::Invalid;
        };
        let Some(offset) = batch.offset_of(id) else {
            return Response::Invalid;
        };
        named.push(offset);
    }
    named.sort_unstable();
    named.dedup();
    if named.is_empty() {
        Response::Success
    } else {
        Response::Failures(named)
    }
}

/// Starts and finishes of invocations on shards run on their own (`World::run`), kept
/// to be played through the pool in the engine's order once every shard has run: the
/// pool decides nothing they depend on (`FunctionModel::only_observes`).
///
/// Each entry is one word, the time since `base` in the high half and the shard and
/// whether it is a start in the low half. Entries go to a group for each 2^20 us (about a
/// second) since `base` as they are pushed, so that sorting them is sorting each group,
/// a few thousand entries at most for a thousand shards, within the cache: one sort of
/// the whole log scattered its entries across memory and showed in profiles.
#[derive(Default)]
pub struct PoolLog {
    base: SimTime,
    /// `groups[g]`: the entries whose time since `base` is in `[g, g + 1) << GROUP_BITS`,
    /// in the order they were pushed until sorted.
    groups: Vec<Vec<u64>>,
    /// Groups that may hold entries: `groups[..used]`.
    used: usize,
    /// The radix sort's second buffer and its counts, kept between stretches.
    scratch: Vec<u64>,
    counts: Vec<u32>,
}

impl PoolLog {
    /// A group's span: 2^20 us.
    const GROUP_BITS: u32 = 20;
    /// Groups this small are sorted by insertion alone.
    const SMALL: usize = 32;

    /// Starts an empty log whose entries come at or after `base`, within 2^32 us.
    pub fn begin(&mut self, base: SimTime) {
        self.base = base;
        for group in &mut self.groups[..self.used] {
            group.clear();
        }
        self.used = 0;
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, shard: u32, start: bool) {
        let since = at.0 - self.base.0;
        debug_assert!(since <= u64::from(u32::MAX) && shard < 1 << 31);
        let g = (since >> Self::GROUP_BITS) as usize;
        if g >= self.groups.len() {
            self.groups.resize_with(g + 1, Vec::new);
        }
        self.used = self.used.max(g + 1);
        self.groups[g].push(since << 32 | u64::from(shard) << 1 | u64::from(start));
    }

    /// An entry: (time, shard, whether a start).
    #[inline]
    fn entry(&self, op: u64) -> (SimTime, u32, bool) {
        (
            SimTime(self.base.0 + (op >> 32)),
            (op as u32) >> 1,
            op & 1 == 1,
        )
    }

    /// Calls `f(time, shard, start)` for each entry in time order, stably: at one
    /// instant, shards in number order, each in its own order, as the engine orders the
    /// events that made them (the order they were pushed in, since shards run in number
    /// order). Groups are in time order already; each is sorted on its own
    /// (`sort_group`), then played while it is in the cache. A bucket sort with an
    /// insertion sort in each bucket measured twice as slow: its loop over the buckets
    /// mispredicts.
    pub fn for_each_in_order(&mut self, mut f: impl FnMut(SimTime, u32, bool)) {
        for g in 0..self.used {
            let mut group = std::mem::take(&mut self.groups[g]);
            Self::sort_group(&mut group, &mut self.scratch, &mut self.counts);
            for &op in &group {
                let (at, shard, start) = self.entry(op);
                f(at, shard, start);
            }
            self.groups[g] = group;
        }
    }

    /// Sorts one group's entries stably by time (`for_each_in_order`): a radix sort of
    /// their time within the group, lowest digit first (each pass stable), in the cache,
    /// without comparisons: two passes of ten bits for a large group, three of seven for
    /// a smaller one (whose counts would cost more than its entries); a few entries by
    /// insertion.
    fn sort_group(group: &mut Vec<u64>, scratch: &mut Vec<u64>, counts: &mut Vec<u32>) {
        let n = group.len();
        if n <= Self::SMALL {
            insertion_sort_by_time(group);
        } else if n < 1024 {
            Self::radix_sort::<7, 3>(group, scratch, counts);
        } else {
            Self::radix_sort::<10, 2>(group, scratch, counts);
        }
    }

    /// `PASSES` stable passes on `BITS`-bit digits of the time within the group, which
    /// must cover its `GROUP_BITS`.
    fn radix_sort<const BITS: u32, const PASSES: u32>(
        group: &mut Vec<u64>,
        scratch: &mut Vec<u64>,
        counts: &mut Vec<u32>,
    ) {
        const { assert!(BITS * PASSES >= PoolLog::GROUP_BITS) };
        let buckets = 1usize << BITS;
        let digit = |op: u64, pass: u32| ((op >> (32 + BITS * pass)) as usize) & (buckets - 1);
        // Every pass's counts in one scan: counts[pass * buckets + d].
        counts.clear();
        counts.resize(PASSES as usize * buckets, 0);
        for &op in group.iter() {
            for pass in 0..PASSES {
                counts[pass as usize * buckets + digit(op, pass)] += 1;
            }
        }
        scratch.resize(group.len(), 0);
        for pass in 0..PASSES {
            let starts = &mut counts[pass as usize * buckets..][..buckets];
            let mut total = 0;
            for c in starts.iter_mut() {
                let n = *c;
                *c = total;
                total += n;
            }
            for &op in group.iter() {
                let d = digit(op, pass);
                scratch[starts[d] as usize] = op;
                starts[d] += 1;
            }
            std::mem::swap(group, scratch);
        }
    }
}

/// Sorts a few pool log entries stably by time (`PoolLog::sort_group`).
#[inline]
fn insertion_sort_by_time(part: &mut [u64]) {
    let time = |op: u64| op >> 32;
    for i in 1..part.len() {
        let op = part[i];
        let mut j = i;
        while j > 0 && time(part[j - 1]) > time(op) {
            part[j] = part[j - 1];
            j -= 1;
        }
        part[j] = op;
    }
}

/// Whether an invocation may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Warm,
    Cold,
    Throttled,
}

pub struct FunctionModel {
    spec: FunctionSpec,
    /// Some invocation may fail or take a random draw whatever its batch holds: a
    /// jitter or an error rate (`plain_success`).
    draws: bool,
    /// The behaviours hold an outage or a slowdown, which depend on the time.
    timed: bool,
    limit: u32,
    in_use: u32,
    /// Idle environments by the time they became idle, oldest first.
    idle: VecDeque<SimTime>,
    pub max_concurrency: u32,
}

impl FunctionModel {
    pub fn new(spec: &FunctionSpec) -> Self {
        // R-CONC-1: the reserved concurrency if set, else the account's unreserved pool.
        let limit = spec
            .reserved_concurrency
            .unwrap_or(spec.account_concurrency);
        let draws = spec.duration.jitter > 0
            || spec
                .behaviours
                .iter()
                .any(|b| matches!(b, Behaviour::ErrorRate(p) if *p > 0));
        let timed = spec
            .behaviours
            .iter()
            .any(|b| matches!(b, Behaviour::Outage { .. } | Behaviour::Slowdown { .. }));
        FunctionModel {
            spec: spec.clone(),
            draws,
            timed,
            limit,
            in_use: 0,
            idle: VecDeque::new(),
            max_concurrency: 0,
        }
    }

    /// Takes an execution environment, reusing the most recently idle one (R-CONC-3);
    /// environments idle for `idle_ttl` or longer have retired.
    pub fn start(&mut self, now: SimTime) -> Start {
        if self.in_use >= self.limit {
            return Start::Throttled;
        }
        while let Some(&since) = self.idle.front() {
            if now.saturating_since(since) >= self.spec.idle_ttl {
                self.idle.pop_front();
            } else {
                break;
            }
        }
        self.in_use += 1;
        self.max_concurrency = self.max_concurrency.max(self.in_use);
        if self.idle.pop_back().is_some() {
            Start::Warm
        } else {
            Start::Cold
        }
    }

    /// Returns an environment to the idle pool.
    pub fn finish(&mut self, now: SimTime) {
        debug_assert!(self.in_use > 0);
        self.in_use = self.in_use.saturating_sub(1);
        self.idle.push_back(now);
    }

    /// Whether an environment returned and taken again at one instant is the same warm
    /// environment whatever else the pool holds, so that the pair need not be played
    /// through it (`World::steady_run`): true unless idle environments retire at
    /// once. The pair changes neither how many run nor which are idle; it only retires,
    /// at that instant, environments the next start retires anyway.
    pub fn handover_is_neutral(&self) -> bool {
        !self.spec.idle_ttl.is_zero()
    }

    /// Whether no start can be throttled while at most `lanes` invocations run at once,
    /// and none waits for a cold start: then the pool only observes the invocations
    /// (which are warm, how many run at once) and never changes when they end.
    pub fn only_observes(&self, lanes: u64) -> bool {
        lanes <= u64::from(self.limit) && self.spec.cold_start.is_zero()
    }

    /// Plays the starts and finishes of `log` (`PoolLog`) in their order; `cold(shard)`
    /// is told of each cold start.
    pub fn replay(&mut self, log: &mut PoolLog, mut cold: impl FnMut(u32)) {
        log.for_each_in_order(|at, shard, start| {
            if !start {
                self.finish(at);
                return;
            }
            match self.start(at) {
                Start::Cold => cold(shard),
                Start::Warm => {}
                Start::Throttled => debug_assert!(false, "only_observes rules throttles out"),
            }
        });
    }

    /// Whether `plain_success` depends on its batch alone, not on when it starts: no
    /// outage or slowdown.
    pub fn durations_timeless(&self) -> bool {
        !self.timed
    }

    /// The handler time of an invocation starting at `now` with a batch of `records`
    /// records of `bytes` data bytes and no poison record, if `invoke` would surely make
    /// it a success without a random draw: no jitter, no error rate, no outage at `now`,
    /// within the timeout. `None` otherwise. The caller makes sure the batch is not
    /// windowed (no tumbling window), which `invoke` also looks at.
    #[inline(always)]
    pub fn plain_success(&self, now: SimTime, records: u64, bytes: u64) -> Option<SimDuration> {
        let spec = &self.spec;
        if self.draws {
            return None;
        }
        let handler = if self.timed {
            let outage = |b: &Behaviour| matches!(b, Behaviour::Outage { from, to } if *from <= now && now < *to);
            if spec.behaviours.iter().any(outage) {
                return None;
            }
            Self::handler_time_with(spec, None, now, records, bytes)
        } else {
            // No slowdown either: the duration's formula alone.
            SimDuration(Self::base_handler_us(spec, records, bytes))
        };
        (handler <= spec.timeout).then_some(handler)
    }

    /// Decides what the invocation starting at `now` does with `batch` (R-ERR-1): an
    /// outage or transient error fails it whole; otherwise the function works through
    /// the batch in order and throws or hangs at the first poison record with that
    /// effect, or answers with the failures it reports (R-PBR-1..3). `reads_item_failures`:
    /// FunctionResponseTypes has ReportBatchItemFailures.
    pub fn invoke(
        &mut self,
        now: SimTime,
        batch: &BatchFacts,
        reads_item_failures: bool,
        rng: &mut InvocationRng,
    ) -> Invocation {
        let timeout = self.spec.timeout;
        let full = Self::handler_time(&self.spec, rng, now, batch.records, batch.data_bytes);
        let failed_whole = |outcome: Outcome, handler: SimDuration| Invocation {
            outcome,
            handler,
            processed_prefix: 0,
            named: vec![],
            failed_offset: None,
            function_error: FunctionError::Unhandled,
        };
        let throw_or_timeout = |handler: SimDuration| {
            if handler > timeout {
                failed_whole(Outcome::Timeout, timeout)
            } else {
                failed_whole(Outcome::Error, handler)
            }
        };
        // Transient failures: the invocation runs its modelled duration, processes nothing.
        let mut error_rate = 0;
        for b in &self.spec.behaviours {
            match b {
                Behaviour::Outage { from, to } if *from <= now && now < *to => {
                    return throw_or_timeout(full);
                }
                Behaviour::ErrorRate(p) => error_rate = error_rate.max(*p),
                _ => {}
            }
        }
        if error_rate > 0 && rng.failures.random_range(0..PPM_ONE) < error_rate {
            return throw_or_timeout(full);
        }
        // Poison records, in batch order: the first that throws or hangs decides;
        // reported failures and a fixed response are collected for the answer.
        let mut named = vec![];
        let mut respond: Option<&Value> = None;
        for hit in &batch.poisons {
            let Some(Behaviour::Poison { effect, times, .. }) =
                self.spec.behaviours.get(hit.behaviour as usize)
            else {
                continue;
            };
            if times.is_some_and(|n| hit.hits > n) {
                continue; // healed: it failed its first N deliveries only
            }
            match effect {
                Effect::Error => {
                    let handler =
                        Self::handler_time(&self.spec, rng, now, hit.offset + 1, hit.bytes_through);
                    if handler > timeout {
                        return failed_whole(Outcome::Timeout, timeout);
                    }
                    return Invocation {
                        processed_prefix: hit.offset,
                        failed_offset: Some(hit.offset),
                        ..failed_whole(Outcome::Error, handler)
                    };
                }
                Effect::Timeout => {
                    return Invocation {
                        failed_offset: Some(hit.offset),
                        ..failed_whole(Outcome::Timeout, timeout)
                    };
                }
                Effect::ReportFailure => named.push(hit.offset),
                Effect::Respond(v) => {
                    respond.get_or_insert(v);
                }
            }
        }
        if full > timeout {
            return failed_whole(Outcome::Timeout, timeout);
        }
        let response = match respond {
            Some(v) => read_response(v, batch),
            None if named.is_empty() => Response::Success,
            None => Response::Failures(named),
        };
        let ok = Invocation::success(full, batch.records);
        if batch.windowed
            && self
                .spec
                .behaviours
                .contains(&Behaviour::ForgetsWindowState)
        {
            // R-WINDOW-1: a windowed invocation must return a `state`; without one the ESM
            // counts it as a failure, whatever else the response says.
            return Invocation {
                outcome: Outcome::InvalidResponse,
                processed_prefix: 0,
                ..ok
            };
        }
        match response {
            Response::Success => ok,
            // R-PBR-1: without ReportBatchItemFailures the answer is not read: success.
            Response::Failures(named) if !reads_item_failures => Invocation { named, ..ok },
            Response::Invalid if !reads_item_failures => ok,
            Response::Failures(named) => Invocation {
                outcome: Outcome::Partial,
                named,
                ..ok
            },
            Response::Invalid => Invocation {
                outcome: Outcome::InvalidResponse,
                processed_prefix: 0,
                ..ok
            },
        }
    }

    /// Handler time for `records` records of `bytes` data bytes: the duration model,
    /// then jitter (the one draw an invocation's duration takes), then any slowdown in
    /// force.
    fn handler_time(
        spec: &FunctionSpec,
        rng: &mut InvocationRng,
        now: SimTime,
        records: u64,
        bytes: u64,
    ) -> SimDuration {
        let jitter = (spec.duration.jitter > 0).then(|| {
            // Uniform in [1 - j, 1 + j], in ppm.
            let j = u64::from(spec.duration.jitter.min(PPM_ONE));
            rng.durations
                .random_range((1_000_000 - j)..=(1_000_000 + j))
        });
        Self::handler_time_with(spec, jitter, now, records, bytes)
    }

    /// The duration's base, per-record and per-KiB parts for a batch of `records` records
    /// of `bytes` data bytes, in microseconds: in 64 bits when it fits (the usual case),
    /// else in 128 saturated to 64.
    #[inline(always)]
    fn base_handler_us(spec: &FunctionSpec, records: u64, bytes: u64) -> u64 {
        let d = &spec.duration;
        let per_record = d.per_record.0.checked_mul(records);
        let per_kib = d.per_kib.0.checked_mul(bytes);
        if let (Some(r), Some(k)) = (per_record, per_kib)
            && let Some(us) = d
                .base
                .0
                .checked_add(r)
                .and_then(|b| b.checked_add(k / 1024))
        {
            return us;
        }
        let base = d.base.0 as u128
            + d.per_record.0 as u128 * records as u128
            + d.per_kib.0 as u128 * bytes as u128 / 1024;
        base.min(u64::MAX as u128) as u64
    }

    /// `handler_time` with the jitter factor (ppm) drawn, or none.
    fn handler_time_with(
        spec: &FunctionSpec,
        jitter_ppm: Option<u64>,
        now: SimTime,
        records: u64,
        bytes: u64,
    ) -> SimDuration {
        let mut us = Self::base_handler_us(spec, records, bytes);
        if let Some(f) = jitter_ppm {
            us = (u128::from(us) * u128::from(f) / 1_000_000) as u64;
        }
        for b in &spec.behaviours {
            if let Behaviour::Slowdown {
                from,
                to,
                factor_ppm,
            } = b
                && *from <= now
                && now < *to
            {
                us = (u128::from(us) * u128::from(*factor_ppm) / 1_000_000).min(u64::MAX as u128)
                    as u64;
            }
        }
        SimDuration(us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FunctionSpec {
        crate::scenario::load("steady")
            .expect("a built-in")
            .base
            .function
    }

    #[test]
    fn the_pool_log_sorts_by_time_keeping_shard_order_at_one_instant() {
        let mut log = PoolLog::default();
        log.begin(SimTime(1_000));
        // Shard 0's entries, then shard 1's, each in time order, as shards run alone.
        for (at, shard, start) in [
            (1_000 + 5_000_000, 0, true),
            (1_000 + 7, 0, false),
            (1_000 + 7, 1, true),
            (1_000, 1, false),
            (1_000 + 5_000_000, 1, false),
        ] {
            log.push(SimTime(at), shard, start);
        }
        let mut order: Vec<(u64, u32, bool)> = vec![];
        log.for_each_in_order(|at, shard, start| order.push((at.0 - 1_000, shard, start)));
        assert_eq!(
            order,
            vec![
                (0, 1, false),
                (7, 0, false),
                (7, 1, true),
                (5_000_000, 0, true),
                (5_000_000, 1, false),
            ]
        );
    }

    proptest::proptest! {
        /// The bucket sort orders the log as a stable sort by time does: shards pushed in
        /// number order, each in its own time order, some crowding one bucket; the log
        /// spans from a fraction of a group to a hundred.
        #[test]
        fn the_pool_log_sorts_stably_by_time(
            shards in proptest::collection::vec(
                proptest::collection::vec((0u64..1_000_000, proptest::bool::ANY), 0..150),
                1..20,
            ),
            crowd in 0u64..200,
            stretch in proptest::sample::select(vec![1u64, 3, 100]),
        ) {
            let mut log = PoolLog::default();
            log.begin(SimTime(5));
            let mut pushed = vec![];
            for (shard, steps) in shards.iter().enumerate() {
                let mut times: Vec<u64> = steps.iter().map(|&(t, _)| t * stretch).collect();
                times.sort_unstable();
                // Some shards crowd 200 entries into the first microseconds.
                let crowded = if shard % 3 == 0 { crowd } else { 0 };
                let all = (0..crowded).map(|k| (k % 7, true)).chain(
                    times.into_iter().zip(steps.iter().map(|&(_, start)| start)),
                );
                let mut last = 0;
                for (t, start) in all {
                    let t = t.max(last);
                    last = t;
                    log.push(SimTime(5 + t), shard as u32, start);
                    pushed.push((SimTime(5 + t), shard as u32, start));
                }
            }
            pushed.sort_by_key(|&(at, _, _)| at);
            let mut order = vec![];
            log.for_each_in_order(|at, shard, start| order.push((at, shard, start)));
            proptest::prop_assert_eq!(order, pushed);
        }
    }

    proptest::proptest! {
        /// The handler time is base + per record + per KiB, in 64 bits when it fits and
        /// saturated otherwise, exactly as the formula in 128 bits gives it.
        #[test]
        fn handler_time_is_the_formula(
            base in proptest::prop_oneof![0u64..1_000_000_000, proptest::num::u64::ANY],
            per_record in proptest::prop_oneof![0u64..10_000, proptest::num::u64::ANY],
            per_kib in proptest::prop_oneof![0u64..10_000, proptest::num::u64::ANY],
            records in proptest::prop_oneof![0u64..10_001, proptest::num::u64::ANY],
            bytes in proptest::prop_oneof![0u64..7_000_000, proptest::num::u64::ANY],
        ) {
            let mut spec = spec();
            spec.behaviours.clear();
            spec.duration.base = SimDuration(base);
            spec.duration.per_record = SimDuration(per_record);
            spec.duration.per_kib = SimDuration(per_kib);
            let formula = u128::from(base)
                + u128::from(per_record) * u128::from(records)
                + u128::from(per_kib) * u128::from(bytes) / 1024;
            let got = FunctionModel::handler_time_with(&spec, None, SimTime::ZERO, records, bytes);
            proptest::prop_assert_eq!(u128::from(got.0), formula.min(u128::from(u64::MAX)));
        }
    }

    #[test]
    fn replaying_the_log_gives_the_pool_what_a_one_by_one_run_gives_it() {
        // (time, shard, start): shard 1 starts as shard 0 finishes, at one instant (shard
        // 0's environment is free by then: shard 0 comes first), so shard 0's next start
        // finds none idle.
        let steps = [
            (0, 0, true),
            (100, 0, false),
            (100, 1, true),
            (250, 0, true),
            (300, 1, false),
            (400, 0, false),
        ];
        let mut direct = FunctionModel::new(&spec());
        let mut cold_direct = vec![];
        for &(at, shard, start) in &steps {
            if !start {
                direct.finish(SimTime(at));
            } else if direct.start(SimTime(at)) == Start::Cold {
                cold_direct.push(shard);
            }
        }
        assert_eq!(cold_direct, vec![0, 0]);
        // Logged as shards run alone: all of shard 0's, then all of shard 1's.
        let mut log = PoolLog::default();
        log.begin(SimTime::ZERO);
        for shard in [0, 1] {
            for &(at, _, start) in steps.iter().filter(|st| st.1 == shard) {
                log.push(SimTime(at), shard, start);
            }
        }
        let mut replayed = FunctionModel::new(&spec());
        let mut cold_replayed = vec![];
        replayed.replay(&mut log, |s| cold_replayed.push(s));
        assert_eq!(cold_replayed, cold_direct);
        assert_eq!(replayed.max_concurrency, direct.max_concurrency);
    }
}
