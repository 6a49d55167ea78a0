//! Traffic: turns the scenario's producers into runs offered to shards, one write tick
//! (one whole second of simulated time) at a time (R-TRAFFIC-1, R-STREAM-1).
//!
//! A rate producer with uniform arrival gives each shard an exact arithmetic progression
//! of arrivals (its share of the producer's rate), restarted at every rate breakpoint, so
//! a steady producer extends one run per shard for ever. Poisson arrival draws the
//! producer's total per tick from the producer's own stream (the same in every variant),
//! splits it among shards by the key weights, and spaces each shard's records evenly in
//! the tick. Keys are `P-i`; each key goes to the shard whose hash range holds MD5 of
//! it, so a shard's share of the traffic is the weight of the keys it owns.
//!
//! Offers are not yet writes: the world applies the per-shard write limit (R-STREAM-3)
//! to the offers of a tick before appending what is accepted.

use rand_distr::{Binomial, Distribution, LogNormal, Poisson};

use crate::model::keyhash::{self, LANES};
use crate::model::payload::{EventContext, json_string_len};
use crate::model::stream::{HashRange, Run, RunTag, Step, hash_key};
use crate::rng::{Concern, SimRng, substream};
use crate::scenario::{
    Arrival, KeySkew, ProducerKind, ProducerSpec, RateProducer, RecordSize, ScriptedRecord,
};
use crate::time::{SimTime, US_PER_S};

/// Keys whose MD5 is computed one by one; beyond this the rest of the key mass is spread
/// over the shards by hash-range width (MD5 is uniform, so the error is tiny).
const EXACT_KEYS_MAX: u64 = 1_000_000;

/// A block of records a producer offers one shard in one tick (all of one lane:
/// `run.lane`).
#[derive(Clone, Copy, Debug)]
pub struct Offer {
    /// Position of the shard in the world's shard list.
    pub shard: usize,
    pub run: Run,
    /// Bytes each record counts against the write limit (data + partition key).
    pub write_bytes: u64,
}

pub struct Traffic {
    producers: Vec<ProducerState>,
    /// ParallelizationFactor: how many lanes each shard's records split into.
    lanes: u32,
    /// End of the last tick offered: records before it are written.
    written_until: SimTime,
}

/// The lane of a partition key's records: a stable hash of the key, independent of the
/// shard routing (which reads the high bits of the same MD5), so order holds per key
/// (R-ORDER-2).
pub fn lane_of(hash: u128, lanes: u32) -> u8 {
    if lanes <= 1 {
        return 0; // without a division: start-up asks this of up to a million keys
    }
    ((hash as u64) % u64::from(lanes)) as u8
}

struct ProducerState {
    index: u16,
    name: String,
    kind: StateKind,
}

enum StateKind {
    Rate(Box<RateState>),
    Scripted {
        records: Vec<ScriptedRecord>,
        next: usize,
    },
}

struct RateState {
    spec: RateProducer,
    traffic_rng: SimRng,
    routing_rng: SimRng,
    /// Weight of each (open shard, lane) slot, `slot = shard * lanes + lane` (shards in
    /// the order of the `open` list passed in), summing to 1.
    weights: Vec<f64>,
    /// Each slot's rate (`slot_rate`) at the rate `.0`, kept while neither changes: a
    /// rounding per slot per tick showed in profiles.
    slot_rates: (u64, Vec<(u64, Step)>),
    /// Per slot: the next record's place in the current progression (uniform only).
    k_next: Vec<u64>,
    lanes: u32,
    /// Start of the current progression: the last rate breakpoint.
    origin: SimTime,
    key_json_len: u16,
    /// The keys as a reroute reuses them, kept from the first reroute on.
    routed_keys: Option<RoutedKeys>,
    /// Whether `route` has run: the next run is a reroute.
    routed: bool,
}

/// The first keys' hashes (up to a million), kept once the stream has been resharded, so
/// that each later split or merge (R-RESHARD-2) routes them without hashing them again:
/// an ON_DEMAND stream splitting 255 times took 29 s, hashing a million keys anew each time.
enum RoutedKeys {
    /// Keys that weigh one each, their hashes sorted per lane: a slot's weight is the
    /// count of its lane's keys in its range (two binary searches), the very sum of ones
    /// in key order.
    Even(Vec<Vec<u128>>),
    /// Zipf-weighted keys: their hashes in key order (weights are added in that order),
    /// and the weight of the keys beyond them.
    Zipf { hashes: Vec<u128>, rest: f64 },
}

impl Traffic {
    /// `open` lists the hash ranges of the open shards with their positions in the
    /// world's shard list.
    pub fn new(
        seed: u64,
        producers: &[ProducerSpec],
        open: &[(usize, HashRange)],
        lanes: u32,
    ) -> Self {
        let lanes = lanes.max(1);
        let producers = producers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let kind = match &p.kind {
                    ProducerKind::Rate(spec) => {
                        let key_json_len = key_json_len(&p.name, spec);
                        let mut st = RateState {
                            spec: spec.clone(),
                            traffic_rng: substream(seed, Concern::Traffic(i as u32)),
                            routing_rng: substream(seed, Concern::Routing(i as u32)),
                            weights: vec![],
                            slot_rates: (0, vec![]),
                            k_next: vec![],
                            lanes,
                            origin: spec.start,
                            key_json_len,
                            routed_keys: None,
                            routed: false,
                        };
                        st.route(&p.name, open);
                        StateKind::Rate(Box::new(st))
                    }
                    ProducerKind::Scripted(records) => {
                        // By time; a stable sort keeps the file's order at equal times.
                        let mut records = records.clone();
                        records.sort_by_key(|r| r.at);
                        StateKind::Scripted { records, next: 0 }
                    }
                };
                ProducerState {
                    index: i as u16,
                    name: p.name.clone(),
                    kind,
                }
            })
            .collect();
        Traffic {
            producers,
            lanes,
            written_until: SimTime::ZERO,
        }
    }

    /// The open shards changed (R-RESHARD-2): each rate producer's keys are routed over
    /// the new ranges from the first record not yet written. A uniform progression goes
    /// on from where it is, as if the new slots had always had their weights: each
    /// new slot counts as written the records it would have had by then, so a
    /// resharding neither adds nor drops records (R-TRAFFIC-1).
    pub fn reroute(&mut self, open: &[(usize, HashRange)]) {
        let now = self.written_until;
        for p in &mut self.producers {
            if let StateKind::Rate(st) = &mut p.kind {
                st.route(&p.name, open);
                let rate = st.rate_at(st.origin);
                let span = now.0.saturating_sub(st.origin.0);
                for (k, w) in st.k_next.iter_mut().zip(&st.weights) {
                    *k = records_by(span, slot_rate(rate, *w));
                }
            }
        }
    }

    /// Whether `offers` may take the ticks of `[t, t_end)` at once: one rate producer
    /// whose evenly spaced records of one size go one lane per shard, at one rate
    /// throughout. Each shard's ticks then make runs that continue one another, which the
    /// log merges into the one run the span gives. Returns the bytes of each record as
    /// written and, per slot, its shard and the most records one tick of it can hold
    /// (`ceil(r / 10^6)` at r micro-records per second), for the caller to check the
    /// write limit against: the span's offers hold only what every tick would accept.
    pub fn span_ready<'a>(
        &'a self,
        t: SimTime,
        t_end: SimTime,
        open: &'a [(usize, HashRange)],
    ) -> Option<(u64, impl Iterator<Item = (usize, u64)> + 'a)> {
        let [producer] = self.producers.as_slice() else {
            return None;
        };
        let StateKind::Rate(st) = &producer.kind else {
            return None;
        };
        let RecordSize::Fixed(data_bytes) = st.spec.record_size else {
            return None;
        };
        if self.lanes != 1
            || st.spec.arrival != Arrival::Uniform
            || !st.breakpoints(t, t_end).is_empty()
        {
            return None;
        }
        let rate = st.rate_at(t);
        let most = (0..st.weights.len()).map(move |s| {
            let per_tick = slot_rate(rate, st.weights[s]).div_ceil(1_000_000);
            (st.slot_target(open, s).0, per_tick)
        });
        Some((data_bytes + u64::from(st.key_json_len), most))
    }

    /// Offers of every producer for the tick `[t, t_end)`, in producer order, then shard order.
    pub fn offers(
        &mut self,
        t: SimTime,
        t_end: SimTime,
        open: &[(usize, HashRange)],
        ctx: &EventContext,
        max_record_size: u64,
        out: &mut Vec<Offer>,
    ) {
        let lanes = self.lanes;
        self.written_until = t_end;
        for p in &mut self.producers {
            match &mut p.kind {
                StateKind::Rate(st) => {
                    st.offers(p.index, t, t_end, open, ctx, max_record_size, out)
                }
                StateKind::Scripted { records, next } => {
                    while let Some(rec) = records.get(*next) {
                        if rec.at >= t_end {
                            break;
                        }
                        // The run names the record by its place in the sorted list.
                        let place = *next as u32;
                        *next += 1;
                        let key_hash = hash_key(&rec.partition_key);
                        let h = rec.explicit_hash_key.unwrap_or(key_hash);
                        let Some(&(shard, _)) = open.iter().find(|(_, r)| r.contains(h)) else {
                            continue;
                        };
                        let lane = lane_of(key_hash, lanes);
                        let key_len = json_string_len(&rec.partition_key);
                        let data_bytes = rec.data.len() as u64;
                        out.push(Offer {
                            shard,
                            run: Run {
                                first: 0,
                                count: rec.repeat.max(1),
                                t_base: rec.at.0,
                                k0: 0,
                                step: Step::ZERO,
                                data_bytes: data_bytes as u32,
                                key_json_len: key_len as u16,
                                entry_bytes: ctx.entry_bytes(data_bytes, key_len) as u32,
                                tag: RunTag {
                                    producer: p.index,
                                    scripted: place,
                                    poison: None,
                                    filtered: false,
                                },
                                lane,
                                hits: 0,
                            },
                            write_bytes: data_bytes + rec.partition_key.len() as u64,
                        });
                    }
                }
            }
        }
    }

    /// The partition key and data of scripted record `scripted` of producer `producer`.
    pub fn scripted(&self, producer: u16, scripted: u32) -> Option<&ScriptedRecord> {
        match &self.producers.get(producer as usize)?.kind {
            StateKind::Scripted { records, .. } => records.get(scripted as usize),
            StateKind::Rate(_) => None,
        }
    }

    pub fn producer_name(&self, producer: u16) -> &str {
        self.producers
            .get(producer as usize)
            .map(|p| p.name.as_str())
            .unwrap_or("")
    }
}

/// Bytes of a rate producer's key in the event JSON: its longest key, `P-{K-1}`
/// (most keys have the most digits; the hot key's own length when there is one).
fn key_json_len(name: &str, spec: &RateProducer) -> u16 {
    let longest = format!("{name}-{}", spec.partition_keys.saturating_sub(1));
    let mut len = json_string_len(&longest);
    if let KeySkew::HotKey { key, .. } = &spec.key_skew {
        len = len.max(json_string_len(key));
    }
    len as u16
}

/// A slot's rate in micro-records per second: its weight of the producer's rate.
fn slot_rate(rate_urps: u64, weight: f64) -> u64 {
    (rate_urps as f64 * weight).round() as u64
}

/// Records of a uniform progression of `r` micro-records per second that arrive in the
/// first `span_us` after its origin: record k arrives at origin + floor(k * 1e12 / r) us,
/// so the first arriving at or after the span's end is ceil(span * r / 1e12).
fn records_by(span_us: u64, r: u64) -> u64 {
    // In 64 bits where the products fit, the usual case (the divisions are by constants):
    // with span = secs * 1e6 + micros and secs * r = q * 1e6 + rest,
    // span * r = q * 1e12 + (rest * 1e6 + micros * r).
    let (secs, micros) = (span_us / 1_000_000, span_us % 1_000_000);
    if let (Some(a), Some(b)) = (secs.checked_mul(r), micros.checked_mul(r)) {
        let (q, rest) = (a / 1_000_000, a % 1_000_000);
        if let Some(low) = (rest * 1_000_000).checked_add(b) {
            return q + low.div_ceil(1_000_000_000_000);
        }
    }
    (u128::from(span_us) * u128::from(r)).div_ceil(1_000_000_000_000u128) as u64
}

/// Zipf weights added one by one (`zipf_weight`); a longer tail goes by its integral.
const ZIPF_TERMS_MAX: u64 = 1 << 24;

/// The Zipf weights of keys `from..to`, the sum of 1 / (i + 1)^s: the first `direct`
/// of them term by term, any further ones by the integral of x^-s over
/// [n - 1/2, m + 1/2] for the terms n..=m. So far down the tail (n beyond 16 million, with
/// `ZIPF_TERMS_MAX`) the midpoint rule's error is below a part in 10^14 of the whole, and
/// a tail of any length costs no more than its first 16 million keys.
fn zipf_weight(from: u64, to: u64, s: f64, direct: u64) -> f64 {
    let split = to.min(from.saturating_add(direct));
    let mut sum: f64 = (from..split).map(|i| 1.0 / ((i + 1) as f64).powf(s)).sum();
    if split < to {
        // Terms n = split + 1 ..= to.
        // (b^t - a^t) / t with t = 1 - s, written as a^t (e^(t ln(b/a)) - 1) / t so that
        // it stays exact as s nears 1, where it becomes ln(b/a).
        let (a, b) = (split as f64 + 0.5, to as f64 + 0.5);
        let (t, log) = (1.0 - s, (b / a).ln());
        sum += if t == 0.0 {
            log
        } else {
            a.powf(t) * (t * log).exp_m1() / t
        };
    }
    sum
}

/// A key no open shard holds (`key_slots`).
const NO_SLOT: u32 = u32::MAX;

/// The weight slot of each of the first `n` keys `{name}-{i}` (or `NO_SLOT`); the weights
/// are then added up in key order.
fn key_slots(name: &str, n: u64, slot_of: &(impl Fn(u128) -> Option<usize> + Sync)) -> Vec<u32> {
    key_map(name, n, NO_SLOT, &|h| {
        slot_of(h).map_or(NO_SLOT, |s| s as u32)
    })
}

/// `f` of the hash of each of the first `n` keys `{name}-{i}`, hashed on every core: a
/// key's hash depends on the key alone, so the result is the same however the work is
/// shared.
fn key_map<T: Copy + Send>(name: &str, n: u64, zero: T, f: &(impl Fn(u128) -> T + Sync)) -> Vec<T> {
    let mut out = vec![zero; n as usize];
    // Keys `first..` into `chunk`, eight at a time (`keyhash`): each lane's key counts
    // up by eight in place.
    let fill = |first: usize, chunk: &mut [T]| {
        let prefix = name.len() + 1;
        let mut lanes: [Vec<u8>; LANES] =
            std::array::from_fn(|l| format!("{name}-{}", first + l).into_bytes());
        for group in chunk.chunks_mut(LANES) {
            let hashes = keyhash::hash_keys(std::array::from_fn(|l| lanes[l].as_slice()));
            for (slot, hash) in group.iter_mut().zip(hashes) {
                *slot = f(hash);
            }
            for key in &mut lanes {
                add_decimal(key, prefix, LANES as u8);
            }
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get().min(8));
    // A few thousand keys are not worth a thread.
    if n < 100_000 || threads == 1 {
        fill(0, &mut out);
        return out;
    }
    let per = out.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (c, chunk) in out.chunks_mut(per).enumerate() {
            scope.spawn(move || fill(c * per, chunk));
        }
    });
    out
}

/// Adds `n` (at most 9) to the decimal number that `key` holds from `start` on (`5` and
/// 8 make `13`), in place: the next key costs a digit or two, not a formatting.
fn add_decimal(key: &mut Vec<u8>, start: usize, n: u8) {
    debug_assert!(n <= 9);
    let mut carry = n;
    for digit in key[start..].iter_mut().rev() {
        let sum = *digit - b'0' + carry;
        *digit = b'0' + sum % 10;
        carry = sum / 10;
        if carry == 0 {
            return;
        }
    }
    key.insert(start, b'0' + carry);
}

impl RateState {
    /// Computes each open shard's share of this producer's keys.
    fn route(&mut self, name: &str, open: &[(usize, HashRange)]) {
        let lanes = self.lanes as usize;
        let mut weights = vec![0.0f64; open.len() * lanes];
        // The open ranges by start, and their ends alone for a binary search of each
        // key's shard (dense: start-up searches up to a million keys).
        let mut by_start: Vec<(HashRange, usize)> =
            open.iter().enumerate().map(|(s, (_, r))| (*r, s)).collect();
        by_start.sort_by_key(|(r, _)| r.start);
        let ends: Vec<u128> = by_start.iter().map(|(r, _)| r.end).collect();
        let slot_of = |h: u128| {
            let i = ends.partition_point(|&end| end < h);
            by_start
                .get(i)
                .filter(|(r, _)| r.contains(h))
                .map(|&(_, s)| s * lanes + lane_of(h, self.lanes) as usize)
        };
        let k = self.spec.partition_keys.max(1);
        let exact = k.min(EXACT_KEYS_MAX);
        let zipf = match self.spec.key_skew {
            KeySkew::Zipf(s) => Some(s),
            _ => None,
        };
        let key_weight = |i: u64| zipf.map_or(1.0, |s| 1.0 / ((i + 1) as f64).powf(s));
        if self.routed && self.routed_keys.is_none() {
            // A reroute: from now on the keys' hashes are kept.
            let hashes = key_map(name, exact, 0, &|h| h);
            self.routed_keys = Some(match zipf {
                Some(s) => RoutedKeys::Zipf {
                    hashes,
                    rest: zipf_weight(exact, k, s, ZIPF_TERMS_MAX),
                },
                None => {
                    let mut by_lane = vec![vec![]; lanes];
                    for h in hashes {
                        by_lane[lane_of(h, self.lanes) as usize].push(h);
                    }
                    for hashes in &mut by_lane {
                        hashes.sort_unstable();
                    }
                    RoutedKeys::Even(by_lane)
                }
            });
        }
        self.routed = true;
        let mut total = 0.0;
        // Each exact key's weight to its slot, in key order.
        let mut add_in_order = |slots: &mut dyn Iterator<Item = Option<usize>>| {
            for (i, slot) in (0..exact).zip(slots) {
                let w = key_weight(i);
                total += w;
                if let Some(slot) = slot {
                    weights[slot] += w;
                }
            }
        };
        let rest = match &self.routed_keys {
            Some(RoutedKeys::Even(by_lane)) => {
                for (s, (_, r)) in open.iter().enumerate() {
                    for (l, hashes) in by_lane.iter().enumerate() {
                        let keys = hashes.partition_point(|&h| h <= r.end)
                            - hashes.partition_point(|&h| h < r.start);
                        weights[s * lanes + l] = keys as f64;
                    }
                }
                total = exact as f64;
                None
            }
            Some(RoutedKeys::Zipf { hashes, rest }) => {
                add_in_order(&mut hashes.iter().map(|&h| slot_of(h)));
                Some(*rest)
            }
            None => {
                let slots = key_slots(name, exact, &slot_of);
                add_in_order(&mut slots.iter().map(|&s| (s != NO_SLOT).then_some(s as usize)));
                None
            }
        };
        if k > exact {
            // The remaining keys, by the width of each range, evenly over the lanes.
            let rest = rest.unwrap_or_else(|| match zipf {
                Some(s) => zipf_weight(exact, k, s, ZIPF_TERMS_MAX),
                // Keys of weight one weigh their count: what adding the ones gives, below
                // 2^53, without a loop over them (a trillion would take a quarter of an hour).
                None => (k - exact) as f64,
            });
            total += rest;
            for (s, (_, r)) in open.iter().enumerate() {
                let share = rest * ((r.end - r.start) as f64 / u128::MAX as f64) / lanes as f64;
                for l in 0..lanes {
                    weights[s * lanes + l] += share;
                }
            }
        }
        for w in &mut weights {
            *w /= total;
        }
        if let KeySkew::HotKey { key, share } = &self.spec.key_skew {
            let share = f64::from(*share) / 1e6;
            for w in &mut weights {
                *w *= 1.0 - share;
            }
            if let Some(slot) = slot_of(hash_key(key)) {
                weights[slot] += share;
            }
        }
        self.weights = weights;
        self.slot_rates = (0, vec![]);
        self.k_next = vec![0; open.len() * lanes];
    }

    /// The rate in force at `t` (micro-records per second), 0 outside [start, end).
    fn rate_at(&self, t: SimTime) -> u64 {
        if t < self.spec.start || t >= self.spec.end {
            return 0;
        }
        // The changes are in increasing order of time (validated): found by bisection,
        // as a tick looks them up and a day may hold tens of thousands.
        match self.changes_through(t) {
            0 => self.spec.rate_urps,
            n => self.spec.changes[n - 1].rate_urps,
        }
    }

    /// How many rate changes come at or before `t`.
    fn changes_through(&self, t: SimTime) -> usize {
        self.spec.changes.partition_point(|c| c.at <= t)
    }

    /// Breakpoints where the rate may change, inside (t, t_end).
    fn breakpoints(&self, t: SimTime, t_end: SimTime) -> Vec<SimTime> {
        let within = self.changes_through(t)..self.changes_through(t_end);
        let mut b: Vec<SimTime> = std::iter::once(self.spec.start)
            .chain(self.spec.changes[within].iter().map(|c| c.at))
            .chain(std::iter::once(self.spec.end))
            .filter(|&x| x > t && x < t_end)
            .collect();
        b.sort();
        b.dedup();
        b
    }

    fn draw_size(&mut self, max_record_size: u64) -> u64 {
        match self.spec.record_size {
            RecordSize::Fixed(b) => b,
            RecordSize::LogNormal { mean, sigma } => {
                let mu = (mean as f64).ln() - sigma * sigma / 2.0;
                let x = LogNormal::new(mu, sigma)
                    .map(|d| d.sample(&mut self.traffic_rng))
                    .unwrap_or(mean as f64);
                (x.round() as u64).clamp(1, max_record_size)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn offers(
        &mut self,
        producer: u16,
        t: SimTime,
        t_end: SimTime,
        open: &[(usize, HashRange)],
        ctx: &EventContext,
        max_record_size: u64,
        out: &mut Vec<Offer>,
    ) {
        // Walk the tick's pieces between rate breakpoints.
        let mut cuts = vec![t];
        cuts.extend(self.breakpoints(t, t_end));
        cuts.push(t_end);
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            // A rate breakpoint restarts every shard's progression.
            let is_breakpoint = a == self.spec.start
                || self.spec.changes.binary_search_by_key(&a, |c| c.at).is_ok();
            if is_breakpoint && self.origin != a {
                self.origin = a;
                self.k_next.iter_mut().for_each(|k| *k = 0);
            }
            let rate = self.rate_at(a);
            if rate == 0 || a >= b {
                continue;
            }
            let data_bytes = self.draw_size(max_record_size);
            match self.spec.arrival {
                Arrival::Uniform => {
                    if self.slot_rates.0 != rate || self.slot_rates.1.len() != self.weights.len() {
                        let rates = self
                            .weights
                            .iter()
                            .map(|&w| {
                                let r = slot_rate(rate, w);
                                // Record k arrives floor(k * 1e12 / r) us after the origin.
                                (r, Step::new(1_000_000_000_000, r.max(1)))
                            })
                            .collect();
                        self.slot_rates = (rate, rates);
                    }
                    for s in 0..self.weights.len() {
                        let (r, step) = self.slot_rates.1[s];
                        if r == 0 {
                            continue;
                        }
                        let k_hi = records_by(b.0 - self.origin.0, r);
                        let k_lo = self.k_next[s];
                        if k_hi <= k_lo {
                            continue;
                        }
                        self.k_next[s] = k_hi;
                        out.push(self.offer(
                            producer,
                            self.slot_target(open, s),
                            k_hi - k_lo,
                            self.origin.0,
                            k_lo,
                            step,
                            data_bytes,
                            ctx,
                        ));
                    }
                }
                Arrival::Poisson => {
                    let len_us = b.0 - a.0;
                    let lambda = rate as f64 / 1e6 * (len_us as f64 / US_PER_S as f64);
                    let mut remaining = Poisson::new(lambda)
                        .map(|d| d.sample(&mut self.traffic_rng) as u64)
                        .unwrap_or(0);
                    let mut weight_left = 1.0f64;
                    let slots = self.weights.len();
                    for s in 0..slots {
                        if remaining == 0 {
                            break;
                        }
                        let w = self.weights[s];
                        let n = if s + 1 == slots || weight_left <= w {
                            remaining
                        } else {
                            let p = (w / weight_left).clamp(0.0, 1.0);
                            Binomial::new(remaining, p)
                                .map(|d| d.sample(&mut self.routing_rng))
                                .unwrap_or(0)
                        };
                        weight_left -= w;
                        remaining -= n;
                        if n > 0 {
                            out.push(self.offer(
                                producer,
                                self.slot_target(open, s),
                                n,
                                a.0,
                                0,
                                Step::new(len_us, n),
                                data_bytes,
                                ctx,
                            ));
                        }
                    }
                }
            }
        }
    }

    /// The (shard position, lane) of a weight slot.
    fn slot_target(&self, open: &[(usize, HashRange)], slot: usize) -> (usize, u8) {
        let lanes = self.lanes as usize;
        (open[slot / lanes].0, (slot % lanes) as u8)
    }

    #[allow(clippy::too_many_arguments)]
    fn offer(
        &self,
        producer: u16,
        (shard, lane): (usize, u8),
        count: u64,
        t_base: u64,
        k0: u64,
        step: Step,
        data_bytes: u64,
        ctx: &EventContext,
    ) -> Offer {
        Offer {
            shard,
            run: Run {
                first: 0,
                count,
                t_base,
                k0,
                step,
                data_bytes: data_bytes as u32,
                key_json_len: self.key_json_len,
                entry_bytes: ctx.entry_bytes(data_bytes, u64::from(self.key_json_len)) as u32,
                tag: RunTag {
                    producer,
                    scripted: u32::MAX,
                    poison: None,
                    filtered: false,
                },
                lane,
                hits: 0,
            },
            write_bytes: data_bytes + u64::from(self.key_json_len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hashed_on_several_threads_get_the_slots_one_thread_gives() {
        // Enough keys for the threaded path; eight slots by the top bits of the hash.
        let n = 150_001;
        let slot_of = |h: u128| (h >> 125 != 7).then_some((h >> 125) as usize);
        let threaded = key_slots("fleet", n, &slot_of);
        let one_by_one: Vec<u32> = (0..n)
            .map(|i| slot_of(hash_key(format!("fleet-{i}"))).map_or(NO_SLOT, |s| s as u32))
            .collect();
        assert_eq!(threaded, one_by_one);
        assert!(threaded.contains(&NO_SLOT) && threaded.contains(&0));
    }

    #[test]
    fn any_few_keys_of_any_name_get_the_slots_one_by_one_gives() {
        // Fewer keys than a group of lanes and a few groups; a name with a dash and
        // digits of its own; a name long enough that its keys pass one MD5 block.
        let slot_of = |h: u128| (h >> 125 != 7).then_some((h >> 125) as usize);
        let long = "a-producer-whose-name-runs-past-one-block-of-md5-input";
        for name in ["p-9", long] {
            for n in [0, 1, 7, 8, 9, 17, 120] {
                let slots = key_slots(name, n, &slot_of);
                let one_by_one: Vec<u32> = (0..n)
                    .map(|i| slot_of(hash_key(format!("{name}-{i}"))).map_or(NO_SLOT, |s| s as u32))
                    .collect();
                assert_eq!(slots, one_by_one, "{name}, {n} keys");
            }
        }
    }

    proptest::proptest! {
        /// The 64-bit way of counting a progression's records is the 128-bit one.
        #[test]
        fn records_by_is_the_128_bit_ceiling(
            span in proptest::prop_oneof![0u64..10_000_000, 0u64..1 << 40, proptest::num::u64::ANY],
            r in proptest::prop_oneof![1u64..2_000_000_000, proptest::num::u64::ANY],
        ) {
            let exact = (u128::from(span) * u128::from(r)).div_ceil(1_000_000_000_000u128);
            proptest::prop_assume!(exact <= u128::from(u64::MAX));
            proptest::prop_assert_eq!(u128::from(records_by(span, r)), exact);
        }
    }

    proptest::proptest! {
        /// Counting a key up in place gives the number formatting would.
        #[test]
        fn counting_a_key_up_in_place_gives_the_next_number(
            start in proptest::prop_oneof![0u64..100, 999_000u64..1_001_000, 0..u64::MAX / 16],
            n in 0u8..=9,
        ) {
            let mut key = format!("k-{start}").into_bytes();
            add_decimal(&mut key, 2, n);
            proptest::prop_assert_eq!(key, format!("k-{}", start + u64::from(n)).into_bytes());
        }
    }

    /// Weights of each (open shard, lane) slot of a producer with `keys` keys, routed over
    /// `first` and then, if given, rerouted over `then`.
    fn weights(
        keys: u64,
        skew: KeySkew,
        lanes: u32,
        first: &[HashRange],
        then: Option<&[HashRange]>,
    ) -> Vec<f64> {
        let spec = ProducerSpec {
            name: "p".into(),
            kind: ProducerKind::Rate(RateProducer {
                rate_urps: 1_000_000_000,
                arrival: Arrival::Uniform,
                record_size: RecordSize::Fixed(100),
                partition_keys: keys,
                key_skew: skew,
                start: SimTime::ZERO,
                end: SimTime(1_000_000),
                changes: vec![],
                retry_rejected: false,
                filter_pass: crate::scenario::PPM_ONE,
            }),
        };
        let open = |ranges: &[HashRange]| -> Vec<(usize, HashRange)> {
            ranges.iter().copied().enumerate().collect()
        };
        let mut traffic = Traffic::new(1, &[spec], &open(first), lanes);
        for _ in 0..2 {
            if let Some(then) = then {
                traffic.reroute(&open(then));
            }
        }
        match &traffic.producers[0].kind {
            StateKind::Rate(st) => st.weights.clone(),
            _ => unreachable!("a rate producer"),
        }
    }

    #[test]
    fn a_reroute_from_the_kept_hashes_weighs_the_keys_as_a_first_routing() {
        // Two splits of four even ranges (one at an odd point), one range left out; keys
        // beyond the exact million for one case; one lane and three.
        let mut after = HashRange::even(4);
        let (a, b) = (after[1], after[3]);
        let mid = a.start + (a.end - a.start) / 3;
        after[1] = HashRange {
            start: a.start,
            end: mid,
        };
        after.push(HashRange {
            start: mid + 1,
            end: a.end,
        });
        after[3] = HashRange {
            start: b.start,
            end: b.start + (b.end - b.start) / 2,
        };
        after.remove(2);
        for skew in [
            KeySkew::Uniform,
            KeySkew::Zipf(0.8),
            KeySkew::HotKey {
                key: "hot".into(),
                share: 200_000,
            },
        ] {
            for (keys, lanes) in [(5_000, 1), (5_000, 3), (1_200_000, 2)] {
                let rerouted =
                    weights(keys, skew.clone(), lanes, &HashRange::even(4), Some(&after));
                let fresh = weights(keys, skew.clone(), lanes, &after, None);
                assert_eq!(rerouted, fresh, "{skew:?}, {keys} keys, {lanes} lanes");
            }
        }
    }

    #[test]
    fn zipf_weights_term_by_term_then_by_the_integral() {
        let by_terms = |from: u64, to: u64, s: f64| -> f64 {
            (from..to).map(|i| 1.0 / ((i + 1) as f64).powf(s)).sum()
        };
        for s in [0.5, 1.0, 1.0 + 1e-11, 1.1, 2.0] {
            // Within the direct count: the very sum, term by term.
            assert_eq!(zipf_weight(10, 5_000, s, 1 << 24), by_terms(10, 5_000, s));
            // A tail past it by the integral: close to the terms' sum.
            let (exact, tail) = (
                by_terms(1_000, 2_000_000, s),
                zipf_weight(1_000, 2_000_000, s, 100_000),
            );
            assert!(
                ((tail - exact) / exact).abs() < 1e-9,
                "s = {s}: {tail} against {exact}"
            );
        }
        // A tail of any length costs its first terms only.
        assert!(zipf_weight(1_000_000, u64::MAX, 2.0, 1 << 10) > 0.0);
    }

    #[test]
    fn counting_a_key_up_carries_into_a_new_digit() {
        let mut key = b"k-0".to_vec();
        for i in 1..=125_013u64 {
            add_decimal(&mut key, 2, 8);
            if i % 997 == 0 || [1, 2, 12, 13, 124, 125, 125_000].contains(&i) {
                assert_eq!(key, format!("k-{}", i * 8).into_bytes());
            }
        }
        assert_eq!(key, b"k-1000104".to_vec());
    }
}
