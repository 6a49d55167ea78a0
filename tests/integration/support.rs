//! Scenario builders for the rule tests: the design.md §4 defaults, in code, so that a
//! test states only what it is about.

use kinesim::scenario::*;
use kinesim::time::{SimDuration, SimTime};

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub fn at(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

pub fn ms(ms: u64) -> SimDuration {
    SimDuration::from_millis(ms)
}

/// A scenario with every default of design.md §4: one shard, no producers yet.
pub fn base(name: &str, shards: u32, duration: SimDuration) -> Scenario {
    Scenario {
        name: name.to_string(),
        description: String::new(),
        seed: 1,
        duration,
        stream: StreamSpec {
            name: "stream".into(),
            shards,
            retention: SimDuration::from_hours(24),
            mode: StreamMode::Provisioned,
            consumer: ConsumerKind::Shared,
            other_consumers: 0,
            max_record_size: 1 << 20,
        },
        producers: vec![],
        function: FunctionSpec {
            name: "function".into(),
            memory_mb: 128,
            timeout: secs(3),
            architecture: Architecture::X86_64,
            reserved_concurrency: None,
            account_concurrency: 1000,
            cold_start: SimDuration::ZERO,
            idle_ttl: secs(600),
            duration: DurationModel {
                base: SimDuration::ZERO,
                per_record: SimDuration::ZERO,
                per_kib: SimDuration::ZERO,
                jitter: 0,
            },
            behaviours: vec![],
        },
        mapping: MappingSpec {
            event_source_arn: None,
            starting_position: StartingPosition::TrimHorizon,
            batch_size: 100,
            batching_window: SimDuration::ZERO,
            parallelization_factor: 1,
            max_retry_attempts: None,
            max_record_age: None,
            bisect_on_error: false,
            report_batch_item_failures: false,
            on_failure: None,
            filter_patterns: vec![],
            tumbling_window: SimDuration::ZERO,
            enabled: true,
        },
        simulation: SimulationSpec {
            retry_backoff_initial: secs(1),
            retry_backoff_max: secs(12),
            lane_blocking: LaneBlocking::Lane,
            reshard_step: secs(30),
            mapping_start_delay: SimDuration::ZERO,
            start_time_unix_ms: DEFAULT_START_UNIX_MS,
            sample_every: secs(60),
            max_events: 2_000_000_000,
            on_demand_split_after: SimDuration::from_secs(15 * 60),
        },
        actions: vec![],
        autoscale: None,
        prices: Prices::default(),
        variant_names: vec![],
        expect: vec![],
        not_simulated: vec![],
    }
}

/// A uniform rate producer of `per_sec` records/s of `bytes` bytes over `keys` keys.
pub fn rate(name: &str, per_sec: u64, bytes: u64, keys: u64, end: SimTime) -> ProducerSpec {
    ProducerSpec {
        name: name.to_string(),
        kind: ProducerKind::Rate(RateProducer {
            rate_urps: per_sec * 1_000_000,
            arrival: Arrival::Uniform,
            record_size: RecordSize::Fixed(bytes),
            partition_keys: keys,
            key_skew: KeySkew::Uniform,
            start: SimTime::ZERO,
            end,
            changes: vec![],
            retry_rejected: false,
            filter_pass: PPM_ONE,
        }),
    }
}

/// A scripted producer writing `n` records, one per `every`, from `from`, key `k{i}`.
pub fn scripted(name: &str, n: u64, from: SimTime, every: SimDuration, data: &str) -> ProducerSpec {
    ProducerSpec {
        name: name.to_string(),
        kind: ProducerKind::Scripted(
            (0..n)
                .map(|i| ScriptedRecord {
                    at: from + SimDuration(every.0 * i),
                    partition_key: format!("k{i}"),
                    data: data.as_bytes().to_vec(),
                    repeat: 1,
                    explicit_hash_key: None,
                })
                .collect(),
        ),
    }
}

pub fn poison_first_at(shard: Option<u32>, t: SimTime, effect: Effect) -> Behaviour {
    Behaviour::Poison {
        target: PoisonTarget::FirstAt { shard, at: t },
        effect,
        times: None,
    }
}

/// The poison-pill scenario of the core issue, built in code.
pub fn poison_pill(duration: SimDuration) -> Scenario {
    let mut s = base("poison-pill", 4, duration);
    s.seed = 7;
    s.stream.name = "orders".into();
    s.producers
        .push(rate("clicks", 400, 1024, 10_000, SimTime::ZERO + duration));
    s.function.name = "processor".into();
    s.function.memory_mb = 1024;
    s.function.timeout = secs(60);
    s.function.duration.base = ms(20);
    s.function.duration.per_record = ms(1);
    s.function
        .behaviours
        .push(poison_first_at(Some(0), at(600), Effect::Error));
    s
}

/// A writer the test keeps a handle on, for capturing the trace.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Runs `s` with a trace; returns the summary and the trace lines.
pub fn run_traced(s: &Scenario) -> (kinesim::Summary, Vec<serde_json::Value>) {
    let cap = Captured::default();
    let summary = kinesim::simulate(
        s,
        None,
        kinesim::Outputs {
            trace: Some(Box::new(cap.clone())),
            ..Default::default()
        },
    )
    .unwrap();
    (summary, cap.lines())
}

/// The trace lines of one kind.
pub fn of_kind<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

/// I-1, checked on the run and on every shard.
pub fn assert_conservation(s: &kinesim::Summary) {
    let check = |r: &kinesim::observe::metrics::RecordCounts, what: &str| {
        assert_eq!(
            r.written,
            r.fates(),
            "I-1 conservation fails for {what}: {r:?}"
        );
        assert_eq!(
            r.lost,
            r.discarded + r.expired,
            "lost = discarded + expired for {what}"
        );
    };
    check(&s.records, "the run");
    for sh in &s.shards {
        check(&sh.records, &sh.id);
    }
}
