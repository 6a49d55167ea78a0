//! The world of one run: the stream's shards, the producers, the mapping's lanes and the
//! function, driven by the engine's events.
//!
//! The world owns all model state; the engine owns time and the queue. `step` handles
//! one event, `run` handles them all up to the scenario's end, then `finish` settles the
//! fates of what is left (pending) and closes the trace.

use std::io::Write;

use rand::RngExt;

use crate::engine::{Engine, LimitHit};
use crate::model::actions::ActionOutcome;
use crate::model::autoscale::Autoscaler;
use crate::model::destination::Destinations;
use crate::model::event::Event;
use crate::model::filter::Filters;
use crate::model::function::{FunctionModel, InvocationRng, PoolLog, Start};
use crate::model::mapping::{Lane, LaneState};
use crate::model::payload::EventContext;
use crate::model::producer::{Offer, Traffic};
use crate::model::reads::{PollState, ReadLimits};
use crate::model::reshard::Resharding;
use crate::model::stream::{HashRange, SeqIndex, ShardLog, Step, shard_id};
use crate::observe::metrics::ShardMetrics;
use crate::observe::timeseries::{SampleBase, ShardSample, ShardState};
use crate::observe::trace::{JsonLines, Trace};
use crate::rng::{Concern, substream};
use crate::scenario::{Behaviour, PPM_ONE, PoisonTarget, ProducerKind, Scenario, StreamMode};
use crate::time::{SimDuration, SimTime, US_PER_S};

/// Write limit of one shard per whole second (R-STREAM-3).
pub const WRITE_LIMIT_RECORDS: u64 = 1_000;
pub const WRITE_LIMIT_BYTES: u64 = 1 << 20;
/// Bytes of one PUT payload unit (R-COST-1).
pub const PUT_UNIT_BYTES: u64 = 25 * 1024;

/// Where a run writes its JSON-lines outputs; each is optional.
#[derive(Default)]
pub struct Outputs {
    /// The trace (design.md §6.2).
    pub trace: Option<Box<dyn Write>>,
    /// The on-failure destination messages (§6.3).
    pub destination: Option<Box<dyn Write>>,
    /// The event of each invocation.
    pub events: Option<Box<dyn Write>>,
    /// Keep a row per shard per `sample_every` (`World::timeseries`).
    pub timeseries: bool,
}

/// Why a run could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Limit(#[from] LimitHit),
    #[error("writing an output failed: {0}")]
    Output(#[from] std::io::Error),
}

/// One shard of the stream, with the mapping's view of it.
pub struct Shard {
    pub number: u32,
    pub id: String,
    pub range: HashRange,
    pub parents: Vec<u32>,
    /// Every parent is drained, so the mapping may read this shard (R-RESHARD-3).
    pub reads_allowed: bool,
    /// ON_DEMAND: bytes offered to the shard since the last minute's check, and whether
    /// its split is on its way.
    pub offered_bytes_minute: u64,
    pub splitting: bool,
    pub opened_at: SimTime,
    pub closed_at: Option<SimTime>,
    pub log: ShardLog,
    /// The mapping's lanes: ParallelizationFactor of them (R-ORDER-2).
    pub lanes: Vec<Lane>,
    /// Next record the mapping's GetRecords reads.
    pub read_pos: SeqIndex,
    pub poll: PollState,
    /// Lanes blocked now, and since when at least one has been (for `blocked_ms`).
    pub blocked_lanes: u32,
    pub blocked_since: Option<SimTime>,
    /// The shard's own draws for its invocations.
    pub rng: InvocationRng,
    pub metrics: ShardMetrics,
}

impl Shard {
    /// A new open shard of `s`'s stream, with the mapping's lanes, polled at `phase`.
    pub fn new(
        s: &Scenario,
        number: u32,
        range: HashRange,
        parents: Vec<u32>,
        opened_at: SimTime,
        phase: SimDuration,
    ) -> Self {
        Shard {
            number,
            id: shard_id(number),
            range,
            // R-RESHARD-3: a shard without parents may be read at once.
            reads_allowed: parents.is_empty(),
            offered_bytes_minute: 0,
            splitting: false,
            parents,
            opened_at,
            closed_at: None,
            log: ShardLog::default(),
            lanes: (0..s.mapping.parallelization_factor)
                .map(|l| Lane::new(l as u8))
                .collect(),
            read_pos: 0,
            poll: PollState::new(phase),
            blocked_lanes: 0,
            blocked_since: None,
            rng: InvocationRng::for_shard(s.seed, number),
            metrics: ShardMetrics::default(),
        }
    }

    /// Closed, and every record has its fate: nothing is left to read (R-RESHARD-3).
    pub fn is_drained(&self) -> bool {
        self.closed_at.is_some()
            && self.checkpoint() >= self.log.next_index()
            && self
                .lanes
                .iter()
                .all(|l| l.state == LaneState::Idle && l.window.is_none() && l.inflight.is_none())
    }

    /// Age of the shard's oldest unfinished record at `now` (R-METRIC-1's checkpoint
    /// lag; 0 when nothing that has arrived waits).
    pub fn checkpoint_lag_ms(&self, now: SimTime) -> u64 {
        self.log
            .arrival(self.checkpoint())
            .filter(|&a| a <= now)
            .map(|a| now.saturating_since(a).as_millis())
            .unwrap_or(0)
    }

    /// The shard's row of the time series at `now`, and the counters reset for the next.
    fn sample_row(&mut self, now: SimTime, lag_ms: u64) -> ShardSample {
        let m = &self.metrics;
        let (r, i) = (&m.records, &m.invocations);
        let base = m.since_sample;
        let lost = r.discarded + r.expired;
        let errors = i.errors + i.timeouts + i.invalid_response;
        let fated = r.settled();
        let blocked_now = self.lanes.iter().any(Lane::is_blocked);
        let failing_now = self.lanes.iter().any(|l| match l.state {
            LaneState::Waiting(b) | LaneState::Invoking(b) => b.failures > 0,
            LaneState::Idle => false,
        });
        let state = if self.closed_at.is_some() && self.is_drained() {
            ShardState::Closed
        } else if !self.reads_allowed {
            ShardState::WaitingForParents
        } else if errors > base.errors || failing_now {
            ShardState::Failing
        } else if i.throttles > base.throttles || blocked_now {
            ShardState::Throttled
        } else if i.total > base.invocations {
            ShardState::Processing
        } else {
            ShardState::Idle
        };
        let row = ShardSample {
            t_ms: now.as_millis(),
            shard: self.number,
            state,
            written: r.written - base.written,
            rejected: r.rejected - base.rejected,
            delivered: r.delivered - base.delivered,
            lost: lost - base.lost,
            pending: r.written.saturating_sub(fated),
            iterator_age_ms: base.age_max_ms,
            checkpoint_lag_ms: lag_ms,
            invocations: i.total - base.invocations,
            errors: errors - base.errors,
            throttles: i.throttles - base.throttles,
            concurrency: self
                .lanes
                .iter()
                .filter(|l| matches!(l.state, LaneState::Invoking(_)))
                .count() as u32,
        };
        self.metrics.since_sample = SampleBase {
            written: r.written,
            rejected: r.rejected,
            delivered: r.delivered,
            lost,
            invocations: i.total,
            errors,
            throttles: i.throttles,
            age_max_ms: 0,
        };
        row
    }

    /// Closed and read to its end: its last batches are all that is left.
    pub fn is_exhausted(&self) -> bool {
        self.closed_at.is_some() && self.read_pos >= self.log.next_index()
    }

    /// The shard's checkpoint: its oldest unfinished record, over all lanes (R-ORDER-3).
    pub fn checkpoint(&self) -> SeqIndex {
        self.lanes.iter().map(|l| l.checkpoint).min().unwrap_or(0)
    }
}

/// A poison record still to be placed: the first record written at or after `at`.
#[derive(Clone, Copy, Debug)]
struct PendingPoison {
    behaviour: u16,
    shard: Option<u32>,
    at: SimTime,
}

pub struct World {
    pub(crate) scenario: Scenario,
    pub(crate) engine: Engine<Event>,
    pub(crate) shards: Vec<Shard>,
    pub(crate) traffic: Traffic,
    pub(crate) function: FunctionModel,
    pub(crate) ctx: EventContext,
    pub(crate) mapping_enabled: bool,
    /// The starting position has been applied (at the first enable).
    pub(crate) positioned: bool,
    /// Generation of the latest enable request; older MappingEnabled events are stale.
    pub(crate) enable_generation: u32,
    pub(crate) action_log: Vec<ActionOutcome>,
    pub(crate) resharding: Resharding,
    pub(crate) autoscaler: Autoscaler,
    /// The time series, when kept.
    timeseries: Option<Vec<ShardSample>>,
    /// The mapping's read limits on every shard (R-STREAM-5, R-EFO-1).
    pub(crate) reads: ReadLimits,
    pub(crate) trace: Trace,
    pub(crate) destination_out: JsonLines,
    pub(crate) events_out: JsonLines,
    pub(crate) destinations: Option<Destinations>,
    pub(crate) destination_messages: u64,
    pub(crate) destination_records: u64,
    pub(crate) end: SimTime,
    open: Vec<(usize, HashRange)>,
    offers: Vec<Offer>,
    /// Records refused by the write limit that their producer sends again next second
    /// (`retry_rejected`, R-STREAM-3).
    retries: Vec<Offer>,
    appended: Vec<(usize, SeqIndex, u64)>,
    write_budget: Vec<(u64, u64)>,
    pending_poison: Vec<PendingPoison>,
    /// Per producer: `retry_rejected`.
    retries_rejected: Vec<bool>,
    filters: Filters,
    /// Per producer: the fraction of a record carried between ticks by `filter_pass`.
    filter_carry: Vec<u64>,
    poison_keys: Vec<(String, u16)>,
    finished: bool,
    /// While shards run alone (`pool_deferred`): their invocations' starts and ends, for
    /// the pool to hear of once they have all run.
    pub(crate) pool_log: PoolLog,
    pool_deferred: bool,
}

impl World {
    /// Builds the world of `scenario` at t = 0, with its first events scheduled.
    pub fn new(scenario: &Scenario, outputs: Outputs) -> Self {
        let s = scenario;
        let ranges = HashRange::even(s.stream.shards);
        let mut phases = substream(s.seed, Concern::PollPhase);
        let shards: Vec<Shard> = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let phase = SimDuration(phases.random_range(0..US_PER_S));
                Shard::new(s, i as u32, *r, vec![], SimTime::ZERO, phase)
            })
            .collect();
        let open: Vec<(usize, HashRange)> = shards
            .iter()
            .enumerate()
            .map(|(i, sh)| (i, sh.range))
            .collect();
        let ctx = EventContext::new(
            &s.stream.name,
            s.mapping.event_source_arn.as_deref(),
            &s.function.name,
        );
        let mut pending_poison = vec![];
        let mut poison_keys = vec![];
        for (i, b) in s.function.behaviours.iter().enumerate() {
            if let Behaviour::Poison { target, .. } = b {
                match target {
                    PoisonTarget::FirstAt { shard, at } => pending_poison.push(PendingPoison {
                        behaviour: i as u16,
                        shard: *shard,
                        at: *at,
                    }),
                    PoisonTarget::PartitionKey(k) => poison_keys.push((k.clone(), i as u16)),
                }
            }
        }
        let destinations = s
            .mapping
            .on_failure
            .as_ref()
            .map(|d| Destinations::new(s.seed, d.kind, &ctx.function_arn, &ctx.stream_arn));
        let end = SimTime::ZERO + s.duration;
        let mut engine = Engine::new(s.simulation.max_events);
        engine.schedule(SimTime::ZERO, Event::WriteTick);
        if s.mapping.enabled {
            engine.schedule(
                SimTime::ZERO + s.simulation.mapping_start_delay,
                Event::MappingEnabled { generation: 0 },
            );
        }
        for (i, sh) in shards.iter().enumerate() {
            engine.schedule(
                SimTime::ZERO + sh.poll.phase,
                Event::Poll {
                    shard: i as u32,
                    tick: true,
                },
            );
        }
        for (i, a) in s.actions.iter().enumerate() {
            engine.schedule(a.at, Event::Action { index: i as u32 });
        }
        if let Some(a) = &s.autoscale {
            engine.schedule(SimTime::ZERO + a.period, Event::Autoscale);
        }
        if !s.simulation.sample_every.is_zero() {
            engine.schedule(SimTime::ZERO + s.simulation.sample_every, Event::Sample);
        }
        World {
            traffic: Traffic::new(
                s.seed,
                &s.producers,
                &open,
                s.mapping.parallelization_factor,
            ),
            function: FunctionModel::new(&s.function),
            scenario: s.clone(),
            engine,
            shards,
            ctx,
            mapping_enabled: false,
            positioned: false,
            enable_generation: 0,
            action_log: vec![],
            resharding: Resharding::default(),
            autoscaler: Autoscaler::default(),
            timeseries: outputs.timeseries.then(Vec::new),
            reads: ReadLimits::of(&s.stream),
            trace: Trace::new(outputs.trace),
            destination_out: JsonLines::new(outputs.destination),
            events_out: JsonLines::new(outputs.events),
            destinations,
            destination_messages: 0,
            destination_records: 0,
            end,
            open,
            offers: vec![],
            retries: vec![],
            appended: vec![],
            write_budget: vec![],
            pending_poison,
            retries_rejected: s
                .producers
                .iter()
                .map(|p| matches!(&p.kind, ProducerKind::Rate(r) if r.retry_rejected))
                .collect(),
            filters: Filters::new(&s.mapping.filter_patterns),
            filter_carry: vec![0; s.producers.len()],
            poison_keys,
            finished: false,
            pool_log: PoolLog::default(),
            pool_deferred: false,
        }
    }

    pub fn now(&self) -> SimTime {
        self.engine.now()
    }

    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn events(&self) -> u64 {
        self.engine.events()
    }

    /// The actions taken, with their outcomes.
    pub fn action_log(&self) -> &[ActionOutcome] {
        &self.action_log
    }

    /// On-failure messages sent, and the records they cover.
    pub fn destination_counts(&self) -> (u64, u64) {
        (self.destination_messages, self.destination_records)
    }

    pub fn max_concurrency(&self) -> u32 {
        self.function.max_concurrency
    }

    /// Handles the next event due by the end of the run; `Ok(None)` when there is none.
    pub fn step(&mut self) -> Result<Option<Event>, RunError> {
        let Some(ev) = self.engine.pop_until(self.end)? else {
            return Ok(None);
        };
        self.handle(ev);
        if ev == Event::Sample {
            // Shards a stream gained since the start count from now on.
            self.check_series_rows()?;
        }
        Ok(Some(ev))
    }

    /// Runs to the end of the scenario and settles the fates (see `finish`).
    pub fn run(&mut self) -> Result<(), RunError> {
        self.run_reporting(|_, _| {})
    }

    /// `run`, calling `progress(now, end)` every 2^20 events (a progress bar's feed):
    /// cheap enough to leave on, rare enough never to show in a profile.
    ///
    /// When the shards cannot touch each other (`shards_independent`), each shard runs
    /// on its own up to the next global event (a second's writes, a sample), so that
    /// its state stays in the cache while it works; the engine's order makes this the
    /// same run as handling the events one by one (`step`), which tests check.
    pub fn run_reporting(
        &mut self,
        mut progress: impl FnMut(SimTime, SimTime),
    ) -> Result<(), RunError> {
        const EVERY: u64 = 1 << 20;
        self.check_series_rows()?;
        let mut next = EVERY;
        let alone = self.shards_independent();
        loop {
            if alone {
                self.run_shards_alone()?;
            }
            if self.step()?.is_none() {
                break;
            }
            if self.engine.events() >= next {
                next = self.engine.events() + EVERY;
                progress(self.now(), self.end);
            }
        }
        self.finish()
    }

    /// A kept time series (`Outputs::timeseries`: the text summary's timeline, a report,
    /// `watch`) holds a row per shard per sample: at about 100 bytes a row, more than 20
    /// million would take gigabytes (10,000 shards sampled every second for a day are 864
    /// million). Refused before the run starts, from the shards open then, and at each
    /// sample from the rows kept and the shards open then (a stream that splits its
    /// shards, as ON_DEMAND does, gains rows).
    pub(crate) fn check_series_rows(&self) -> Result<(), LimitHit> {
        const ROWS_MAX: u64 = 20_000_000;
        let every = self.scenario.simulation.sample_every.as_micros();
        let Some(kept) = self.timeseries.as_ref() else {
            return Ok(());
        };
        if every == 0 {
            return Ok(());
        }
        let samples_left = self.end.0.saturating_sub(self.now().0) / every;
        let rows = kept.len() as u64 + self.shards.len() as u64 * samples_left;
        if rows > ROWS_MAX {
            return Err(LimitHit::TimeSeriesRows {
                rows,
                limit: ROWS_MAX,
            });
        }
        Ok(())
    }

    /// Whether no shard's events can change another's until the next global event: no
    /// resharding (so no parents to wait for), no action or autoscale, no output whose
    /// lines must come in time order, and a function pool that only observes.
    pub fn shards_independent(&self) -> bool {
        let s = &self.scenario;
        let lanes = self.shards.len() as u64 * u64::from(s.mapping.parallelization_factor);
        s.actions.is_empty()
            && s.autoscale.is_none()
            && s.stream.mode == StreamMode::Provisioned
            && !self.trace.enabled()
            && !self.events_out.enabled()
            && !self.destination_out.enabled()
            && self.function.only_observes(lanes)
    }

    /// Whether the writes of the coming seconds may be made before the shards' events of
    /// those seconds: nothing a shard does before a record arrives can see it (reads and
    /// retention look at arrival times), and a tick's writes never depend on the shards'
    /// state, except where other consumers' reads or pushed reads are tied to the writes.
    fn writes_ahead(&self) -> bool {
        !self.reads.efo && self.reads.others == 0
    }

    /// Runs each shard on its own through its events before the next global event (or
    /// the end), then plays its invocations' starts and ends through the function pool.
    /// Where `writes_ahead`, the write ticks of up to `AHEAD` first, so that each shard
    /// works through many seconds at once.
    fn run_shards_alone(&mut self) -> Result<(), RunError> {
        // A minute: the default time-series sample comes once a minute and ends a stretch
        // anyway; longer stretches measured no faster, shorter ones slower.
        const AHEAD: SimDuration = SimDuration::from_secs(60);
        let resume = self.now();
        let end = SimTime(self.end.0 + 1);
        if self.writes_ahead() {
            let horizon = (resume + AHEAD).min(end);
            while let Some((at, Event::WriteTick)) = self.engine.peek_global()
                && at < horizon
            {
                if let Some(ev) = self.engine.pop_global_ahead()?
                    && !self.write_ticks_at_once(horizon)?
                {
                    self.handle(ev);
                }
            }
        }
        // Write ticks, every second of a run, keep a stretch within a minute; the pool
        // log could not hold more than 2^32 us of one.
        let bound = end
            .min(self.engine.peek_global().map_or(SimTime::MAX, |(at, _)| at))
            .min(resume + SimDuration(u64::from(u32::MAX)));
        self.pool_log.begin(resume);
        self.pool_deferred = true;
        let steady = self.steady_possible();
        let mut result = Ok(());
        for s in 0..self.shards.len() as u32 {
            if self.engine.peek_shard(s).is_none_or(|t| t >= bound) {
                continue;
            }
            self.engine.begin_alone(s);
            result = loop {
                match self.engine.pop_alone(bound) {
                    Ok(Some(ev)) => match steady {
                        true => match self.steady_run(s as usize, ev, bound) {
                            Ok(true) => {}
                            Ok(false) => self.handle(ev),
                            Err(e) => break Err(e),
                        },
                        false => self.handle(ev),
                    },
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            self.engine.end_alone();
            if result.is_err() {
                break;
            }
        }
        self.pool_deferred = false;
        let shards = &mut self.shards;
        self.function.replay(&mut self.pool_log, |s| {
            shards[s as usize].metrics.invocations.cold_starts += 1;
        });
        self.engine.set_now(resume);
        Ok(result?)
    }

    /// Takes an execution environment for an invocation of shard `s` (R-CONC-3); while
    /// shards run alone the pool only hears of it later, and it is warm meanwhile.
    pub(crate) fn start_invocation(&mut self, s: usize, now: SimTime) -> Start {
        if self.pool_deferred {
            self.pool_log.push(now, s as u32, true);
            return Start::Warm;
        }
        self.function.start(now)
    }

    /// Returns the environment of shard `s`'s invocation ending now; while shards run
    /// alone, the pool hears of it later.
    pub(crate) fn finish_invocation(&mut self, s: usize, now: SimTime) {
        if self.pool_deferred {
            self.pool_log.push(now, s as u32, false);
        } else {
            self.function.finish(now);
        }
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::WriteTick => self.write_tick(),
            Event::Poll { shard, tick } => self.poll(shard as usize, tick),
            Event::LaneTimer { lane, generation } => {
                self.lane_timer(lane.shard as usize, lane.lane as usize, generation)
            }
            Event::MappingEnabled { generation } => self.enable_mapping(generation),
            Event::Sample => self.sample(),
            Event::Action { index } => self.action(index as usize),
            Event::ReshardDone { plan } => self.reshard_done(plan),
            Event::Autoscale => self.autoscale(),
        }
    }

    /// Producers write the second starting now; the write limit decides what is
    /// accepted (R-STREAM-3); poison records are marked as they are written.
    fn write_tick(&mut self) {
        let t = self.now();
        let t_end = (t + SimDuration::from_secs(1)).min(self.end);
        if t_end < self.end {
            self.engine.schedule(t_end, Event::WriteTick);
        }
        if self.scenario.stream.mode == StreamMode::OnDemand
            && t > SimTime::ZERO
            && t.0.is_multiple_of(60 * US_PER_S)
        {
            self.on_demand_check();
        }
        self.write_span(t, t_end, 1);
    }

    /// The write tick now (just popped) and those after it up to `horizon`, at once, when
    /// that writes what they would one by one (`Traffic::span_ready`): nothing waits to be
    /// sent again, no filter, no other global event among them, and no tick of any shard
    /// above the write limit. A poison is placed on the first record written at or after
    /// its time, which the span's records hold as well as its ticks' would. Returns
    /// false, having changed nothing, otherwise.
    fn write_ticks_at_once(&mut self, horizon: SimTime) -> Result<bool, LimitHit> {
        let t = self.now();
        let limit = horizon
            .min(self.end)
            .min(self.engine.peek_global().map_or(SimTime::MAX, |(at, _)| at));
        let ticks = limit.0.saturating_sub(t.0).div_ceil(US_PER_S);
        if ticks < 2
            || self.scenario.stream.mode == StreamMode::OnDemand
            || !self.retries.is_empty()
            || !self.filters.is_empty()
            || !self.engine.has_room_for(ticks - 1)
        {
            return Ok(false);
        }
        let span_end = (t + SimDuration::from_secs(ticks)).min(self.end);
        let Some((write_bytes, most)) = self.traffic.span_ready(t, span_end, &self.open) else {
            return Ok(false);
        };
        // R-STREAM-3 for each tick: the most each shard can get in one.
        self.write_budget.clear();
        self.write_budget.resize(self.shards.len(), (0, 0));
        for (shard, records) in most {
            let (n, bytes) = &mut self.write_budget[shard];
            *n = n.saturating_add(records);
            *bytes = bytes.saturating_add(records.saturating_mul(write_bytes));
            if *n > WRITE_LIMIT_RECORDS || *bytes > WRITE_LIMIT_BYTES {
                return Ok(false);
            }
        }
        // The ticks after the first count as events, as if popped one by one.
        self.engine.count_more(ticks - 1)?;
        self.engine.set_now(t + SimDuration::from_secs(ticks - 1));
        if span_end < self.end {
            self.engine.schedule(span_end, Event::WriteTick);
        }
        self.write_span(t, span_end, ticks);
        Ok(true)
    }

    /// Producers write `[t, t_end)`, `ticks` seconds whose offers never exceed the write
    /// limit when there are more than one; the write limit decides what is accepted.
    fn write_span(&mut self, t: SimTime, t_end: SimTime, ticks: u64) {
        let mut offers = std::mem::take(&mut self.offers);
        offers.clear();
        self.take_retries(t, &mut offers);
        self.traffic.offers(
            t,
            t_end,
            &self.open,
            &self.ctx,
            self.scenario.stream.max_record_size,
            &mut offers,
        );
        self.write_budget.clear();
        self.write_budget.resize(
            self.shards.len(),
            (ticks * WRITE_LIMIT_RECORDS, ticks * WRITE_LIMIT_BYTES),
        );
        self.appended.clear();
        for offer in &offers {
            // Offers and refusals saturate rather than wrap: a producer far over the limit
            // re-sending what was refused offers the same records every second, and the
            // counts grow with the square of the run's length (R-STREAM-3).
            let offered_bytes = offer.run.count.saturating_mul(offer.write_bytes);
            let minute = &mut self.shards[offer.shard].offered_bytes_minute;
            *minute = minute.saturating_add(offered_bytes);
            self.autoscaler.offered(offer.run.count, offered_bytes);
            let (recs_left, bytes_left) = &mut self.write_budget[offer.shard];
            let mut by_bytes = bytes_left
                .checked_div(offer.write_bytes)
                .unwrap_or(u64::MAX);
            if by_bytes == 0 && *bytes_left == WRITE_LIMIT_BYTES {
                // [choice] A record over 1 MiB (MaxRecordSizeInKiB up to 10 MiB) is
                // accepted as the first write of its second, as AWS's large-record burst
                // allows; the rest of that second's writes are then refused.
                by_bytes = 1;
            }
            let accept = offer.run.count.min(*recs_left).min(by_bytes);
            *recs_left -= accept;
            *bytes_left = bytes_left.saturating_sub(accept * offer.write_bytes);
            let rejected = offer.run.count - accept;
            let shard = &mut self.shards[offer.shard];
            if rejected > 0 {
                let refused = &mut shard.metrics.records.rejected;
                *refused = refused.saturating_add(rejected);
                if self.retries_rejected[usize::from(offer.run.tag.producer)] {
                    // One waiting offer per producer, shard and lane, however long the
                    // producer has been refused: its records wait as a count. [choice]
                    // With lognormal sizes, waiting records keep the size of the oldest.
                    let same = |r: &&mut Offer| {
                        r.shard == offer.shard
                            && r.run.lane == offer.run.lane
                            && r.run.tag == offer.run.tag
                    };
                    match self.retries.iter_mut().find(same) {
                        Some(waiting) => {
                            waiting.run.count = waiting.run.count.saturating_add(rejected)
                        }
                        None => {
                            let mut again = *offer;
                            again.run.count = rejected;
                            self.retries.push(again);
                        }
                    }
                }
                self.trace.line(
                    t,
                    "reject",
                    || serde_json::json!({"shard": shard.id, "records": rejected}),
                );
            }
            if accept == 0 {
                continue;
            }
            let mut run = offer.run;
            run.count = accept;
            let scripted = (run.tag.scripted != u32::MAX)
                .then(|| self.traffic.scripted(run.tag.producer, run.tag.scripted))
                .flatten();
            let poison_key = scripted
                .and_then(|r| self.poison_keys.iter().find(|(k, _)| *k == r.partition_key))
                .map(|(_, b)| *b);
            // R-FILTER-1: a scripted record is matched against the patterns; a rate
            // producer's `filter_pass` share passes, the rest of the offer is filtered.
            let mut passing = accept;
            if !self.filters.is_empty() {
                match scripted {
                    Some(r) => run.tag.filtered = !self.filters.passes(&r.partition_key, &r.data),
                    None => {
                        let pass_ppm =
                            match &self.scenario.producers[run.tag.producer as usize].kind {
                                ProducerKind::Rate(r) => u64::from(r.filter_pass),
                                ProducerKind::Scripted(_) => u64::from(PPM_ONE),
                            };
                        let carry = &mut self.filter_carry[run.tag.producer as usize];
                        let total = accept * pass_ppm + *carry;
                        passing = total / u64::from(PPM_ONE);
                        *carry = total % u64::from(PPM_ONE);
                    }
                }
            }
            let first = if let Some(b) = poison_key {
                // Poison records are runs of one, so each counts its own deliveries.
                run.tag.poison = Some(b);
                let mut single = run;
                single.count = 1;
                let first = shard.log.append(single);
                for _ in 1..accept {
                    shard.log.append(single);
                }
                first
            } else if passing < accept {
                let mut rest = run;
                rest.cut_front(passing);
                rest.tag.filtered = true;
                run.count = passing;
                let first = if passing > 0 {
                    shard.log.append(run)
                } else {
                    shard.log.next_index()
                };
                shard.log.append(rest);
                first
            } else {
                shard.log.append(run)
            };
            shard.metrics.records.written += accept;
            // The other standard consumers read what was written (R-STREAM-5).
            shard
                .poll
                .others_read(t, accept * offer.write_bytes, &self.reads);
            shard.metrics.put_units += accept * offer.write_bytes.div_ceil(PUT_UNIT_BYTES).max(1);
            // ON_DEMAND bills each record rounded up to 1 KiB (R-COST-1).
            shard.metrics.written_kib += accept * offer.write_bytes.div_ceil(1024).max(1);
            self.appended.push((offer.shard, first, accept));
        }
        self.offers = offers;
        self.place_poison(t_end);
        if self.reads.efo {
            for k in 0..self.appended.len() {
                self.schedule_push(self.appended[k].0);
            }
        }
    }

    /// The records refused last second that their producers send again, first in this
    /// second's writes, all arriving at its start [choice]. A refusing shard that has
    /// closed since passes them to the open shard now holding the start of its range.
    fn take_retries(&mut self, t: SimTime, offers: &mut Vec<Offer>) {
        for mut retry in self.retries.drain(..) {
            let shard = &self.shards[retry.shard];
            if shard.closed_at.is_some() {
                let key = shard.range.start;
                match self.open.iter().find(|(_, r)| r.contains(key)) {
                    Some(&(open, _)) => retry.shard = open,
                    None => continue,
                }
            }
            retry.run.t_base = t.0;
            retry.run.k0 = 0;
            retry.run.step = Step::ZERO;
            offers.push(retry);
        }
    }

    /// Marks the first record written at or after each pending poison's time, once a
    /// tick has written past that time.
    fn place_poison(&mut self, t_end: SimTime) {
        let mut k = 0;
        while k < self.pending_poison.len() {
            let p = self.pending_poison[k];
            if p.at >= t_end {
                k += 1;
                continue;
            }
            let mut best: Option<(SimTime, u32, usize, SeqIndex)> = None;
            for &(s, first, count) in &self.appended {
                let shard = &self.shards[s];
                if p.shard.is_some_and(|n| n != shard.number) {
                    continue;
                }
                let idx = if p.at == SimTime::ZERO {
                    first
                } else {
                    shard.log.arrived_prefix_end(first, SimTime(p.at.0 - 1))
                };
                if idx >= first + count {
                    continue;
                }
                let Some(arr) = shard.log.arrival(idx) else {
                    continue;
                };
                let cand = (arr, shard.number, s, idx);
                if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                    best = Some(cand);
                }
            }
            if let Some((_, _, s, idx)) = best {
                self.shards[s].log.poison_record(idx, p.behaviour);
                // In behaviour order: which poisons are pending never reorders the others.
                self.pending_poison.remove(k);
            } else {
                k += 1;
            }
        }
    }

    /// Writes go to the open shards only, by hash range (R-RESHARD-2): called when the
    /// open shards change. The change applies from the next write tick.
    pub(crate) fn reroute(&mut self) {
        self.open = self
            .open_shards()
            .into_iter()
            .map(|i| (i, self.shards[i].range))
            .collect();
        self.traffic.reroute(&self.open);
    }

    /// Samples each shard's checkpoint lag (R-METRIC-1), and its time-series row when
    /// they are kept.
    fn sample(&mut self) {
        let now = self.now();
        let next = now + self.scenario.simulation.sample_every;
        if next <= self.end {
            self.engine.schedule(next, Event::Sample);
        }
        for s in 0..self.shards.len() {
            self.trim(s);
            let shard = &mut self.shards[s];
            let lag = shard.checkpoint_lag_ms(now);
            shard.metrics.checkpoint_lag.record(lag);
            if let Some(rows) = self.timeseries.as_mut() {
                rows.push(shard.sample_row(now, lag));
            }
        }
    }

    /// The time series kept (`Outputs::timeseries`): rows in time order, then shard order.
    pub fn timeseries(&self) -> &[ShardSample] {
        self.timeseries.as_deref().unwrap_or(&[])
    }

    /// Settles the run at its end: retention trims what it must, and every record not
    /// yet passed by its checkpoint is `pending` (I-1).
    pub fn finish(&mut self) -> Result<(), RunError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.engine.advance_to(self.end);
        for s in 0..self.shards.len() {
            self.trim(s);
            for l in 0..self.shards[s].lanes.len() {
                self.unblock(s, l);
            }
            let shard = &mut self.shards[s];
            if !shard.reads_allowed {
                // Still waiting for its parents at the end (R-RESHARD-3).
                shard.metrics.parent_wait_us = self.end.saturating_since(shard.opened_at).0;
            }
            let next = shard.log.next_index();
            let pending: u64 = shard
                .lanes
                .iter()
                .map(|lane| shard.log.count_lane_all(lane.fated, next, lane.index))
                .sum();
            let r = &mut shard.metrics.records;
            r.pending = pending;
            r.lost = r.discarded + r.expired;
        }
        self.trace.finish()?;
        self.destination_out.finish()?;
        self.events_out.finish()?;
        Ok(())
    }
}
