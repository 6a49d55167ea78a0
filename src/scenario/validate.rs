//! Raw scenario → typed `Scenario`: every range, default and cross-field check, in one
//! place (design.md §4, AWS ranges of aws-evidence.md §9).
//!
//! Checking never stops at the first problem: each check records a `Problem` (key path,
//! message, allowed values) and goes on with a stand-in value, so one run reports
//! everything wrong in the file. The caller turns paths into line:col. A `Scenario` is
//! returned only when there is no problem at all.

use crate::wallclock::parse_iso8601_ms;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use crate::time::{SimDuration, SimTime, US_PER_MS, US_PER_S};

use super::raw::*;
use super::support;
use super::types::*;
use super::units::{
    parse_decimal, parse_duration, parse_millionths, parse_percent, parse_rate, parse_size,
};

/// One thing wrong, before its position is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub path: String,
    pub message: String,
    pub allowed: Option<String>,
}

const ESM: &str = "event_source_mapping";
const MIB: u64 = 1 << 20;

struct Checker<'a> {
    problems: Vec<Problem>,
    /// Paths where a CloudFormation intrinsic was read as a placeholder string.
    placeholders: &'a BTreeSet<String>,
}

impl Checker<'_> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            allowed: None,
        });
    }

    fn err_allowed(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            allowed: Some(allowed.into()),
        });
    }

    fn missing(&mut self, path: impl Into<String>) {
        self.err(path, "missing required key");
    }

    fn is_placeholder(&self, path: &str) -> bool {
        self.placeholders.contains(path)
    }

    /// A duration in one of our keys, or `default` when absent (and on error, with the
    /// problem recorded).
    fn duration(&mut self, path: &str, text: Option<&String>, default: SimDuration) -> SimDuration {
        match text {
            None => default,
            Some(t) => match parse_duration(t) {
                Ok(d) => d,
                Err(e) => {
                    self.err(path, e);
                    default
                }
            },
        }
    }

    /// A duration in `range`, or `default` when absent (and on error, with the problem
    /// recorded).
    fn duration_in(
        &mut self,
        path: &str,
        text: Option<&String>,
        default: SimDuration,
        range: RangeInclusive<SimDuration>,
    ) -> SimDuration {
        let problems = self.problems.len();
        let d = self.duration(path, text, default);
        if self.problems.len() > problems || range.contains(&d) {
            return d;
        }
        self.err_allowed(
            path,
            format!("{d} is out of range"),
            format!("{}..={}", range.start(), range.end()),
        );
        default
    }

    fn percent(&mut self, path: &str, text: Option<&String>, default: Ppm, max: Ppm) -> Ppm {
        let Some(t) = text else { return default };
        self.percent_in(path, t, 0..=max).unwrap_or(default)
    }

    /// A percentage in `range` (whole percents at its ends), or `None` with the problem
    /// recorded.
    fn percent_in(&mut self, path: &str, t: &str, range: RangeInclusive<Ppm>) -> Option<Ppm> {
        match parse_percent(t) {
            Ok(p) if range.contains(&p) => Some(p),
            Ok(_) => {
                self.err_allowed(
                    path,
                    format!("{t} is out of range"),
                    format!("{}%..{}%", range.start() / 10_000, range.end() / 10_000),
                );
                None
            }
            Err(e) => {
                self.err(path, e);
                None
            }
        }
    }

    /// An integer key with an inclusive range; `allowed` says the range in the file's terms.
    fn int_in(&mut self, path: &str, v: i64, lo: i64, hi: i64, allowed: &str) -> Option<i64> {
        if (lo..=hi).contains(&v) {
            Some(v)
        } else {
            self.err_allowed(path, format!("{v} is out of range"), allowed);
            None
        }
    }

    /// An AWS key counted in whole seconds: the AWS integer, or one of our durations if it
    /// is whole seconds (`MaximumBatchingWindowInSeconds: 5` or `5s`).
    fn aws_seconds(&mut self, path: &str, v: &RawScalar) -> Option<i64> {
        match v {
            RawScalar::Int(i) => Some(*i),
            RawScalar::Text(t) => match parse_duration(t) {
                Ok(d) if d.0 % US_PER_S == 0 => i64::try_from(d.0 / US_PER_S).ok(),
                Ok(_) => {
                    self.err(path, format!("`{t}` is not a whole number of seconds"));
                    None
                }
                Err(e) => {
                    self.err(path, e);
                    None
                }
            },
            RawScalar::Float(f) => {
                self.err(path, format!("{f} is not a whole number of seconds"));
                None
            }
            RawScalar::UInt(u) => {
                self.err(path, format!("{u} is out of range"));
                None
            }
        }
    }

    /// Two spellings of one key (ours and CloudFormation's): at most one may be given.
    fn one_of<T>(
        &mut self,
        parent: &str,
        a: (&str, Option<T>),
        b: (&str, Option<T>),
    ) -> Option<(String, T)> {
        let (a_name, a_val) = a;
        let (b_name, b_val) = b;
        match (a_val, b_val) {
            (Some(x), Some(_)) => {
                self.err(
                    join(parent, b_name),
                    format!("`{a_name}` and `{b_name}` are the same setting: give only one"),
                );
                Some((join(parent, a_name), x))
            }
            (Some(x), None) => Some((join(parent, a_name), x)),
            (None, Some(y)) => Some((join(parent, b_name), y)),
            (None, None) => None,
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_shard_id(s: &str) -> bool {
    s.strip_prefix("shardId-")
        .is_some_and(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The service of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(_account), Some(resource)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    partition
        .starts_with("aws")
        .then_some((partition, service, region, resource))
}

/// Validates a raw scenario. `placeholders` are the key paths where an intrinsic was
/// read as a placeholder (they are exempt from ARN checks).
pub(crate) fn validate(
    raw: RawScenario,
    placeholders: &BTreeSet<String>,
) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
        placeholders,
    };

    let name = match raw.name {
        None => {
            c.missing("name");
            String::new()
        }
        Some(n) if is_name(&n) => n,
        Some(n) => {
            c.err_allowed(
                "name",
                format!("`{n}` is not a valid scenario name"),
                "lowercase letters, digits and `-`",
            );
            n
        }
    };
    let duration = match raw.duration.as_ref() {
        None => {
            c.missing("duration");
            SimDuration::from_hours(1)
        }
        Some(t) => {
            let d = c.duration("duration", Some(t), SimDuration::from_hours(1));
            if d.is_zero() {
                c.err("duration", "must be longer than 0s");
            }
            d
        }
    };

    let simulation = check_simulation(&mut c, raw.simulation.unwrap_or_default());
    let prices = check_prices(&mut c, raw.prices.unwrap_or_default());
    let consumer_said_shared = raw
        .stream
        .as_ref()
        .is_some_and(|s| s.consumer.as_deref() == Some("shared"));
    let stream = check_stream(&mut c, raw.stream);
    let producers = check_producers(&mut c, raw.producers, duration, &stream);
    let function = check_function(&mut c, raw.function.unwrap_or_default(), &stream);
    let (mapping, mapping_notes) = check_mapping(
        &mut c,
        raw.event_source_mapping,
        &simulation,
        consumer_said_shared,
    );
    let stream = StreamSpec {
        // A consumer ARN in EventSourceArn means an enhanced fan-out consumer.
        consumer: if mapping
            .event_source_arn
            .as_deref()
            .is_some_and(|a| a.contains("/consumer/"))
        {
            ConsumerKind::EnhancedFanOut
        } else {
            stream.consumer
        },
        ..stream
    };
    let actions = check_actions(&mut c, raw.actions.unwrap_or_default());
    let autoscale = raw
        .autoscale
        .map(|a| check_autoscale(&mut c, a, stream.mode));
    let expect = check_expect(&mut c, raw.expect.unwrap_or_default());

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    let mut scenario = Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        stream,
        producers,
        function,
        mapping,
        simulation,
        actions,
        autoscale,
        prices,
        variant_names: Vec::new(),
        expect,
        not_simulated: Vec::new(),
    };
    let mut notes = support::not_simulated_notes(&scenario);
    notes.extend(support::accepted_only_notes(&support::AcceptedOnly {
        metrics_config: mapping_notes.metrics_config,
        kms_key: mapping_notes.kms_key,
        tags: mapping_notes.tags,
    }));
    scenario.not_simulated = notes;
    Ok(scenario)
}

/// `prices:`: each a finite amount of USD, at least 0; absent keys keep the defaults.
fn check_prices(c: &mut Checker, p: RawPrices) -> Prices {
    let d = Prices::default();
    let mut price = |key: &str, v: Option<f64>, default: f64| match v {
        None => default,
        Some(x) if x.is_finite() && x >= 0.0 => x,
        Some(x) => {
            c.err_allowed(
                format!("prices.{key}"),
                format!("{x} is not a price"),
                "an amount of USD, 0 or more, like 0.015",
            );
            default
        }
    };
    Prices {
        lambda_per_million_requests: price(
            "lambda_per_million_requests",
            p.lambda_per_million_requests,
            d.lambda_per_million_requests,
        ),
        lambda_gb_second_x86_64: price(
            "lambda_gb_second_x86_64",
            p.lambda_gb_second_x86_64,
            d.lambda_gb_second_x86_64,
        ),
        lambda_gb_second_arm64: price(
            "lambda_gb_second_arm64",
            p.lambda_gb_second_arm64,
            d.lambda_gb_second_arm64,
        ),
        shard_hour: price("shard_hour", p.shard_hour, d.shard_hour),
        per_million_put_units: price(
            "per_million_put_units",
            p.per_million_put_units,
            d.per_million_put_units,
        ),
        extended_retention_shard_hour: price(
            "extended_retention_shard_hour",
            p.extended_retention_shard_hour,
            d.extended_retention_shard_hour,
        ),
        efo_consumer_shard_hour: price(
            "efo_consumer_shard_hour",
            p.efo_consumer_shard_hour,
            d.efo_consumer_shard_hour,
        ),
        efo_per_gb: price("efo_per_gb", p.efo_per_gb, d.efo_per_gb),
        on_demand_stream_hour: price(
            "on_demand_stream_hour",
            p.on_demand_stream_hour,
            d.on_demand_stream_hour,
        ),
        on_demand_per_gb_written: price(
            "on_demand_per_gb_written",
            p.on_demand_per_gb_written,
            d.on_demand_per_gb_written,
        ),
        on_demand_per_gb_read: price(
            "on_demand_per_gb_read",
            p.on_demand_per_gb_read,
            d.on_demand_per_gb_read,
        ),
    }
}

fn check_simulation(c: &mut Checker, s: RawSimulation) -> SimulationSpec {
    let p = "simulation";
    let backoff = s.retry_backoff.unwrap_or_default();
    let initial = c.duration(
        "simulation.retry_backoff.initial",
        backoff.initial.as_ref(),
        SimDuration::from_secs(1),
    );
    let max = c.duration(
        "simulation.retry_backoff.max",
        backoff.max.as_ref(),
        SimDuration::from_secs(12),
    );
    // A floor, so that a failing lane makes at most a thousand attempts a second: at a
    // microsecond, millions a second filled memory for nothing the run shows.
    if initial < SimDuration::from_millis(1) {
        c.err_allowed(
            "simulation.retry_backoff.initial",
            format!("{initial} is too short"),
            "1ms or longer",
        );
    }
    if initial > max {
        c.err(
            "simulation.retry_backoff.max",
            format!("max ({max}) is shorter than initial ({initial})"),
        );
    }
    let lane_blocking = match s.lane_blocking.as_deref() {
        None | Some("lane") => LaneBlocking::Lane,
        Some("shard") => LaneBlocking::Shard,
        Some(other) => {
            c.err_allowed(
                join(p, "lane_blocking"),
                format!("unknown value `{other}`"),
                "lane, shard",
            );
            LaneBlocking::Lane
        }
    };
    let reshard_step = c.duration(
        "simulation.reshard_step",
        s.reshard_step.as_ref(),
        SimDuration::from_secs(30),
    );
    let mapping_start_delay = c.duration(
        "simulation.mapping_start_delay",
        s.mapping_start_delay.as_ref(),
        SimDuration::ZERO,
    );
    let start_time_unix_ms = match s.start_time.as_deref() {
        None => DEFAULT_START_UNIX_MS,
        Some(t) => match parse_iso8601_ms(t) {
            Ok(ms) => ms,
            Err(e) => {
                c.err_allowed(
                    "simulation.start_time",
                    e,
                    "an ISO-8601 time like 2026-01-01T00:00:00Z",
                );
                DEFAULT_START_UNIX_MS
            }
        },
    };
    let sample_every = c.duration(
        "simulation.sample_every",
        s.sample_every.as_ref(),
        SimDuration::from_secs(60),
    );
    // CloudWatch's finest resolution; a row per shard every microsecond took the time
    // and memory of the whole run many times over.
    if sample_every < SimDuration::from_secs(1) {
        c.err_allowed(
            "simulation.sample_every",
            format!("{sample_every} is too short"),
            "1s or longer",
        );
    }
    let max_events = s.max_events.unwrap_or(2_000_000_000);
    if max_events == 0 {
        c.err("simulation.max_events", "must be at least 1");
    }
    SimulationSpec {
        retry_backoff_initial: initial,
        retry_backoff_max: max,
        lane_blocking,
        reshard_step,
        mapping_start_delay,
        start_time_unix_ms,
        sample_every,
        max_events,
        on_demand_split_after: c.duration_in(
            "simulation.on_demand_split_after",
            s.on_demand_split_after.as_ref(),
            SimDuration::from_secs(15 * 60),
            SimDuration::ZERO..=SimDuration::from_hours(24),
        ),
    }
}

/// `autoscale`: the metric first, since it decides whether the thresholds are durations
/// or percentages.
fn check_autoscale(c: &mut Checker, a: RawAutoscale, mode: StreamMode) -> Autoscale {
    const METRICS: &str = "iterator_age, write_utilisation";
    let p = "autoscale";
    if mode == StreamMode::OnDemand {
        c.err_allowed(
            p,
            "autoscale calls UpdateShardCount, which AWS refuses on an ON_DEMAND stream: it \
             scales itself",
            "stream.mode PROVISIONED, or no autoscale",
        );
    }
    let metric = match a.metric.as_deref() {
        None => {
            c.missing(join(p, "metric"));
            None
        }
        Some("iterator_age") => Some(AutoscaleMetric::IteratorAge),
        Some("write_utilisation") => Some(AutoscaleMetric::WriteUtilisation),
        Some(other) => {
            c.err_allowed(
                join(p, "metric"),
                format!("unknown value `{other}`"),
                METRICS,
            );
            None
        }
    };
    let out_path = join(p, "scale_out_above");
    let scale_out_above = match a.scale_out_above.as_deref() {
        None => {
            c.missing(&out_path);
            None
        }
        Some(t) => threshold(c, &out_path, t, metric),
    };
    let in_path = join(p, "scale_in_below");
    let scale_in_below = a
        .scale_in_below
        .as_deref()
        .and_then(|t| threshold(c, &in_path, t, metric).map(|v| (t, v)));
    if let (Some((in_text, below)), Some(above), Some(out_text)) = (
        scale_in_below,
        scale_out_above,
        a.scale_out_above.as_deref(),
    ) {
        // The band between the two keeps a metric that hovers near one threshold from
        // scaling out and straight back in.
        if below >= above {
            c.err(
                &in_path,
                format!(
                    "scale_in_below ({}) must be below scale_out_above ({})",
                    in_text.trim(),
                    out_text.trim()
                ),
            );
        }
    }
    let period = c.duration_in(
        &join(p, "period"),
        a.period.as_ref(),
        SimDuration::from_secs(60),
        SimDuration::from_secs(1)..=SimDuration::from_hours(24),
    );
    let periods = a.periods.map_or(1, |n| {
        c.int_in(&join(p, "periods"), n, 1, 1_440, "1..=1440")
            .unwrap_or(1) as u32
    });
    let cooldown = c.duration_in(
        &join(p, "cooldown"),
        a.cooldown.as_ref(),
        SimDuration::from_secs(5 * 60),
        SimDuration::ZERO..=SimDuration::from_hours(7 * 24),
    );
    let mut shards = |key: &str, given: Option<i64>, default: u32| {
        given.map_or(Some(default), |n| {
            c.int_in(&join(p, key), n, 1, 10_000, "1..=10000")
                .map(|n| n as u32)
        })
    };
    let min_shards = shards("min_shards", a.min_shards, 1);
    let max_shards = shards("max_shards", a.max_shards, 10_000);
    if let (Some(min), Some(max)) = (min_shards, max_shards)
        && max < min
    {
        c.err(
            join(p, "max_shards"),
            format!("max_shards ({max}) is below min_shards ({min})"),
        );
    }
    // The stand-ins below are never seen: a recorded problem means no `Scenario`.
    Autoscale {
        metric: metric.unwrap_or(AutoscaleMetric::IteratorAge),
        scale_out_above: scale_out_above.unwrap_or(1),
        scale_in_below: scale_in_below.map(|(_, v)| v),
        period,
        periods,
        cooldown,
        min_shards: min_shards.unwrap_or(1),
        max_shards: max_shards.unwrap_or(10_000),
    }
}

/// An `autoscale` threshold in the metric's unit: iterator age as whole milliseconds
/// above 0, write utilisation as parts per million in 1%..=1000%. Without a known metric
/// (already reported) the text is only checked to be one or the other, so its own
/// problems show in the same run.
fn threshold(c: &mut Checker, path: &str, t: &str, metric: Option<AutoscaleMetric>) -> Option<u64> {
    const AGE: &str = "a duration above 0s, like 30s or 2m";
    const UTILISATION: &str = "1%..1000%";
    let Some(metric) = metric else {
        if parse_duration(t).is_err() && parse_percent(t).is_err() {
            c.err_allowed(
                path,
                format!("`{}` is neither a duration nor a percentage", t.trim()),
                "a duration for iterator_age, a percentage for write_utilisation",
            );
        }
        return None;
    };
    let (name, own, other, allowed, in_other_unit) = match metric {
        AutoscaleMetric::IteratorAge => (
            "iterator_age",
            "a duration",
            "a percentage",
            AGE,
            parse_percent(t).is_ok(),
        ),
        AutoscaleMetric::WriteUtilisation => (
            "write_utilisation",
            "a percentage",
            "a duration",
            UTILISATION,
            parse_duration(t).is_ok(),
        ),
    };
    if in_other_unit {
        c.err_allowed(
            path,
            format!("`{}` is {other}, but metric `{name}` is {own}", t.trim()),
            allowed,
        );
        return None;
    }
    match metric {
        AutoscaleMetric::IteratorAge => match parse_duration(t) {
            Ok(d) if d.is_zero() => {
                c.err_allowed(path, "must be longer than 0s", AGE);
                None
            }
            // IteratorAge is counted in milliseconds, in CloudWatch and in the model.
            Ok(d) if d.0 % US_PER_MS != 0 => {
                c.err_allowed(
                    path,
                    format!("`{}` is not a whole number of milliseconds", t.trim()),
                    AGE,
                );
                None
            }
            Ok(d) => Some(d.0 / US_PER_MS),
            Err(e) => {
                c.err(path, e);
                None
            }
        },
        AutoscaleMetric::WriteUtilisation => c
            .percent_in(path, t, PPM_ONE / 100..=10 * PPM_ONE)
            .map(u64::from),
    }
}

/// Retention from `retention` (a duration) or `RetentionPeriodHours`; whole hours,
/// 24 h..=8760 h.
fn check_retention(
    c: &mut Checker,
    path: &str,
    hours: Option<i64>,
    text: Option<&String>,
) -> SimDuration {
    const ALLOWED: &str = "24h..8760h (RetentionPeriodHours 24..8760)";
    let default = SimDuration::from_hours(24);
    let h = match (hours, text) {
        (Some(h), _) => h,
        (None, Some(t)) => match parse_duration(t) {
            Ok(d) if d.0 % crate::time::US_PER_H == 0 => {
                i64::try_from(d.0 / crate::time::US_PER_H).unwrap_or(i64::MAX)
            }
            Ok(_) => {
                c.err_allowed(
                    path,
                    format!("`{t}` is not a whole number of hours"),
                    ALLOWED,
                );
                return default;
            }
            Err(e) => {
                c.err(path, e);
                return default;
            }
        },
        (None, None) => return default,
    };
    if (24..=8760).contains(&h) {
        SimDuration::from_hours(h as u64)
    } else {
        c.err_allowed(path, format!("{h}h is out of range"), ALLOWED);
        default
    }
}

fn check_stream(c: &mut Checker, s: Option<RawStream>) -> StreamSpec {
    let p = "stream";
    // Without the block, its one required key is reported below, once.
    let s = s.unwrap_or_default();
    let name = match s.name {
        None => "stream".to_owned(),
        Some(n) => {
            let ok = (1..=128).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !ok && !c.is_placeholder("stream.name") {
                c.err_allowed(
                    "stream.name",
                    format!("`{n}` is not a valid stream name"),
                    "1..128 of letters, digits, `_`, `.`, `-`",
                );
            }
            n
        }
    };
    let shards = match c.one_of(p, ("shards", s.shards), ("ShardCount", s.shard_count)) {
        None => {
            c.missing("stream.shards");
            1
        }
        Some((path, n)) => c.int_in(&path, n, 1, 10_000, "1..=10000").unwrap_or(1) as u32,
    };
    let retention = match (s.retention.as_ref(), s.retention_period_hours) {
        (Some(_), Some(_)) => {
            c.err(
                "stream.RetentionPeriodHours",
                "`retention` and `RetentionPeriodHours` are the same setting: give only one",
            );
            SimDuration::from_hours(24)
        }
        (t, Some(h)) => check_retention(c, "stream.RetentionPeriodHours", Some(h), t),
        (t, None) => check_retention(c, "stream.retention", None, t),
    };
    let mode_cfn = s.stream_mode_details.map(|d| match d.stream_mode {
        Some(m) => m,
        None => {
            c.missing("stream.StreamModeDetails.StreamMode");
            "PROVISIONED".to_owned()
        }
    });
    let mode = match c.one_of(p, ("mode", s.mode), ("StreamModeDetails", mode_cfn)) {
        None => StreamMode::Provisioned,
        Some((path, m)) => match m.as_str() {
            "PROVISIONED" => StreamMode::Provisioned,
            "ON_DEMAND" => StreamMode::OnDemand,
            other => {
                let path = if path.ends_with("StreamModeDetails") {
                    format!("{path}.StreamMode")
                } else {
                    path
                };
                c.err_allowed(
                    path,
                    format!("unknown value `{other}`"),
                    "PROVISIONED, ON_DEMAND",
                );
                StreamMode::Provisioned
            }
        },
    };
    let consumer = match s.consumer.as_deref() {
        None | Some("shared") => ConsumerKind::Shared,
        Some("enhanced_fan_out") => ConsumerKind::EnhancedFanOut,
        Some(other) => {
            c.err_allowed(
                "stream.consumer",
                format!("unknown value `{other}`"),
                "shared, enhanced_fan_out",
            );
            ConsumerKind::Shared
        }
    };
    let other_consumers = match s.other_consumers {
        None => 0,
        Some(n) => c
            .int_in("stream.other_consumers", n, 0, 1_000, "0..=1000")
            .unwrap_or(0) as u32,
    };
    let max_record_size = match s.max_record_size.as_deref() {
        None => MIB,
        Some(t) => match parse_size(t) {
            Ok(b) if (MIB..=10 * MIB).contains(&b) => b,
            Ok(b) => {
                c.err_allowed(
                    "stream.max_record_size",
                    format!("{b} bytes is out of range"),
                    "1MiB..10MiB (MaxRecordSizeInKiB 1024..10240)",
                );
                MIB
            }
            Err(e) => {
                c.err("stream.max_record_size", e);
                MIB
            }
        },
    };
    StreamSpec {
        name,
        shards,
        retention,
        mode,
        consumer,
        other_consumers,
        max_record_size,
    }
}

fn check_partition_key(c: &mut Checker, path: &str, key: &str) {
    let n = key.chars().count();
    if !(1..=256).contains(&n) {
        c.err_allowed(
            path,
            format!("a partition key of {n} characters"),
            "1..256 characters",
        );
    }
}

fn check_producers(
    c: &mut Checker,
    producers: Option<Vec<RawProducer>>,
    duration: SimDuration,
    stream: &StreamSpec,
) -> Vec<ProducerSpec> {
    let producers = producers.unwrap_or_default();
    if producers.is_empty() {
        c.err(
            "producers",
            "at least one producer is required (a list of producers, each with `rate` or `records`)",
        );
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, p) in producers.into_iter().enumerate() {
        let path = format!("producers[{i}]");
        let name = p.name.clone().unwrap_or_else(|| format!("p{i}"));
        if name.is_empty() {
            c.err(format!("{path}.name"), "a producer name cannot be empty");
        }
        if !names.insert(name.clone()) {
            c.err(
                format!("{path}.name"),
                format!("producer name `{name}` is used twice (partition keys derive from it)"),
            );
        }
        let kind = match (p.rate.is_some(), p.records.is_some()) {
            (true, false) => ProducerKind::Rate(check_rate_producer(c, &path, p, duration, stream)),
            (false, true) => {
                let rate_only = [
                    ("arrival", p.arrival.is_some()),
                    ("record_size", p.record_size.is_some()),
                    ("partition_keys", p.partition_keys.is_some()),
                    ("key_skew", p.key_skew.is_some()),
                    ("start", p.start.is_some()),
                    ("end", p.end.is_some()),
                    ("changes", p.changes.is_some()),
                    ("retry_rejected", p.retry_rejected.is_some()),
                    ("filter_pass", p.filter_pass.is_some()),
                ];
                for (key, given) in rate_only {
                    if given {
                        c.err(
                            format!("{path}.{key}"),
                            "applies to rate producers only (this one has `records`)",
                        );
                    }
                }
                ProducerKind::Scripted(check_records(
                    c,
                    &path,
                    p.records.unwrap_or_default(),
                    stream,
                ))
            }
            (true, true) => {
                c.err(
                    format!("{path}.records"),
                    "a producer has either `rate` or `records`, not both",
                );
                ProducerKind::Scripted(Vec::new())
            }
            (false, false) => {
                c.err(
                    format!("{path}.rate"),
                    "missing required key: a producer needs `rate` (records/s) or `records` (a script)",
                );
                ProducerKind::Scripted(Vec::new())
            }
        };
        out.push(ProducerSpec { name, kind });
    }
    out
}

fn rate(c: &mut Checker, path: &str, text: &str) -> u64 {
    match parse_rate(text) {
        Ok(r) => r,
        Err(e) => {
            c.err(path, e);
            0
        }
    }
}

fn check_rate_producer(
    c: &mut Checker,
    path: &str,
    p: RawProducer,
    duration: SimDuration,
    stream: &StreamSpec,
) -> RateProducer {
    let rate_urps = rate(
        c,
        &format!("{path}.rate"),
        p.rate.as_deref().unwrap_or_default(),
    );
    let arrival = match p.arrival.as_deref() {
        None | Some("uniform") => Arrival::Uniform,
        Some("poisson") => Arrival::Poisson,
        Some(other) => {
            c.err_allowed(
                format!("{path}.arrival"),
                format!("unknown value `{other}`"),
                "uniform, poisson",
            );
            Arrival::Uniform
        }
    };
    let size_range = format!("1B..{}B (stream.max_record_size)", stream.max_record_size);
    let record_size = match p.record_size {
        None => RecordSize::Fixed(1_024),
        Some(RawRecordSize::Fixed(t)) => match parse_size(&t) {
            Ok(b) if b >= 1 && b <= stream.max_record_size => RecordSize::Fixed(b),
            Ok(b) => {
                c.err_allowed(
                    format!("{path}.record_size"),
                    format!("{b} bytes is out of range"),
                    size_range,
                );
                RecordSize::Fixed(1_024)
            }
            Err(e) => {
                c.err(format!("{path}.record_size"), e);
                RecordSize::Fixed(1_024)
            }
        },
        Some(RawRecordSize::LogNormal(ln)) => {
            let mean = match ln.mean.as_deref() {
                None => {
                    c.missing(format!("{path}.record_size.mean"));
                    1_024
                }
                Some(t) => match parse_size(t) {
                    Ok(b) if b >= 1 && b <= stream.max_record_size => b,
                    Ok(b) => {
                        c.err_allowed(
                            format!("{path}.record_size.mean"),
                            format!("{b} bytes is out of range"),
                            size_range,
                        );
                        1_024
                    }
                    Err(e) => {
                        c.err(format!("{path}.record_size.mean"), e);
                        1_024
                    }
                },
            };
            let sigma = match ln.sigma {
                None => {
                    c.missing(format!("{path}.record_size.sigma"));
                    0.0
                }
                Some(s) if s.is_finite() && (0.0..=10.0).contains(&s) => s,
                Some(s) => {
                    c.err_allowed(
                        format!("{path}.record_size.sigma"),
                        format!("{s} is out of range"),
                        "0..10 (sigma of the underlying normal)",
                    );
                    0.0
                }
            };
            RecordSize::LogNormal { mean, sigma }
        }
    };
    let partition_keys = match p.partition_keys {
        None => 1_000,
        Some(n) if n >= 1 => n as u64,
        Some(n) => {
            c.err_allowed(
                format!("{path}.partition_keys"),
                format!("{n} is out of range"),
                "1 or more",
            );
            1
        }
    };
    let key_skew = match p.key_skew {
        None => KeySkew::Uniform,
        Some(RawKeySkew::Named(s)) => {
            const ALLOWED: &str = "uniform, zipf:S (S > 0), {hot_key: KEY, share: P%}";
            if s == "uniform" {
                KeySkew::Uniform
            } else if let Some(exp) = s.strip_prefix("zipf:") {
                match exp.trim().parse::<f64>() {
                    Ok(e) if e.is_finite() && e > 0.0 => KeySkew::Zipf(e),
                    _ => {
                        c.err_allowed(
                            format!("{path}.key_skew"),
                            format!("`{s}`: the zipf exponent must be a number above 0"),
                            ALLOWED,
                        );
                        KeySkew::Uniform
                    }
                }
            } else {
                c.err_allowed(
                    format!("{path}.key_skew"),
                    format!("unknown value `{s}`"),
                    ALLOWED,
                );
                KeySkew::Uniform
            }
        }
        Some(RawKeySkew::HotKey(h)) => {
            let key = match h.hot_key {
                None => {
                    c.missing(format!("{path}.key_skew.hot_key"));
                    String::new()
                }
                Some(k) => {
                    check_partition_key(c, &format!("{path}.key_skew.hot_key"), &k);
                    k
                }
            };
            let share = match h.share {
                None => {
                    c.missing(format!("{path}.key_skew.share"));
                    0
                }
                Some(t) => c.percent(&format!("{path}.key_skew.share"), Some(&t), 0, PPM_ONE),
            };
            KeySkew::HotKey { key, share }
        }
    };
    let start = c.duration(
        &format!("{path}.start"),
        p.start.as_ref(),
        SimDuration::ZERO,
    );
    let end = c.duration(&format!("{path}.end"), p.end.as_ref(), duration);
    if start >= end {
        c.err(
            format!("{path}.start"),
            format!("start ({start}) must be before end ({end})"),
        );
    }
    if end > duration {
        c.err_allowed(
            format!("{path}.end"),
            format!("end ({end}) is after the scenario's duration ({duration})"),
            format!("at most {duration}"),
        );
    }
    let mut changes = Vec::new();
    let mut last: Option<SimDuration> = None;
    for (j, ch) in p.changes.unwrap_or_default().into_iter().enumerate() {
        let cp = format!("{path}.changes[{j}]");
        let at = match ch.at.as_ref() {
            None => {
                c.missing(format!("{cp}.at"));
                start
            }
            Some(t) => c.duration(&format!("{cp}.at"), Some(t), start),
        };
        let rate_urps = match ch.rate.as_deref() {
            None => {
                c.missing(format!("{cp}.rate"));
                0
            }
            Some(t) => rate(c, &format!("{cp}.rate"), t),
        };
        if at < start || at >= end {
            c.err_allowed(
                format!("{cp}.at"),
                format!("{at} is outside the producer's time"),
                format!("{start}..{end} (start..end, end excluded)"),
            );
        }
        if last.is_some_and(|l| at <= l) {
            c.err(
                format!("{cp}.at"),
                "changes must be in increasing order of `at`",
            );
        }
        last = Some(at);
        changes.push(RateChange {
            at: SimTime(at.0),
            rate_urps,
        });
    }
    let filter_pass = c.percent(
        &format!("{path}.filter_pass"),
        p.filter_pass.as_ref(),
        PPM_ONE,
        PPM_ONE,
    );
    RateProducer {
        rate_urps,
        arrival,
        record_size,
        partition_keys,
        key_skew,
        start: SimTime(start.0),
        end: SimTime(end.0),
        changes,
        retry_rejected: p.retry_rejected.unwrap_or(false),
        filter_pass,
    }
}

fn check_records(
    c: &mut Checker,
    path: &str,
    records: Vec<RawRecord>,
    stream: &StreamSpec,
) -> Vec<ScriptedRecord> {
    if records.is_empty() {
        c.err(
            format!("{path}.records"),
            "a scripted producer needs at least one record",
        );
    }
    let mut out = Vec::new();
    for (j, r) in records.into_iter().enumerate() {
        let rp = format!("{path}.records[{j}]");
        let at = match r.at.as_ref() {
            None => {
                c.missing(format!("{rp}.at"));
                SimDuration::ZERO
            }
            Some(t) => c.duration(&format!("{rp}.at"), Some(t), SimDuration::ZERO),
        };
        let partition_key = match r.partition_key {
            None => {
                c.missing(format!("{rp}.partition_key"));
                String::new()
            }
            Some(k) => {
                check_partition_key(c, &format!("{rp}.partition_key"), &k);
                k
            }
        };
        let data = match r.data {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::String(s)) => s.into_bytes(),
            Some(v) => v.to_string().into_bytes(),
        };
        let size = data.len() as u64 + partition_key.len() as u64;
        if size > stream.max_record_size {
            c.err_allowed(
                format!("{rp}.data"),
                format!("the record is {size} bytes with its partition key"),
                format!(
                    "at most {} bytes (stream.max_record_size)",
                    stream.max_record_size
                ),
            );
        }
        let repeat = match r.repeat {
            None => 1,
            Some(n) if n >= 1 => n as u64,
            Some(n) => {
                c.err_allowed(
                    format!("{rp}.repeat"),
                    format!("{n} is out of range"),
                    "1 or more",
                );
                1
            }
        };
        let explicit_hash_key = r
            .explicit_hash_key
            .and_then(|k| hash_key(c, &format!("{rp}.explicit_hash_key"), &k));
        out.push(ScriptedRecord {
            at: SimTime(at.0),
            partition_key,
            data,
            repeat,
            explicit_hash_key,
        });
    }
    // Scripted records are written in time order; file order breaks ties.
    out.sort_by_key(|r| r.at);
    out
}

fn hash_key(c: &mut Checker, path: &str, k: &RawScalar) -> Option<u128> {
    const ALLOWED: &str = "a decimal integer 0..2^128-1";
    match k {
        RawScalar::Int(i) if *i >= 0 => Some(*i as u128),
        RawScalar::UInt(u) => Some(u128::from(*u)),
        RawScalar::Text(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            match t.parse::<u128>() {
                Ok(v) => Some(v),
                Err(_) => {
                    c.err_allowed(path, format!("`{t}` is 2^128 or more"), ALLOWED);
                    None
                }
            }
        }
        RawScalar::Float(_) => {
            c.err_allowed(
                path,
                "too large for a YAML number: write it in quotes",
                ALLOWED,
            );
            None
        }
        other => {
            c.err_allowed(path, format!("{other:?} is not a hash key"), ALLOWED);
            None
        }
    }
}

fn check_function(c: &mut Checker, f: RawFunction, stream: &StreamSpec) -> FunctionSpec {
    let p = "function";
    let name = f.name.unwrap_or_else(|| "function".to_owned());
    let memory_mb = match c.one_of(p, ("memory", f.memory), ("MemorySize", f.memory_size)) {
        None => 128,
        Some((path, m)) => c
            .int_in(&path, m, 128, 10_240, "128..=10240 MB")
            .unwrap_or(128) as u32,
    };
    let timeout = match (f.timeout.as_ref(), f.timeout_secs.as_ref()) {
        (Some(_), Some(_)) => {
            c.err(
                "function.Timeout",
                "`timeout` and `Timeout` are the same setting: give only one",
            );
            SimDuration::from_secs(3)
        }
        (Some(t), None) => match parse_duration(t) {
            Ok(d) if d.0 % US_PER_S == 0 && (1..=900).contains(&(d.0 / US_PER_S)) => d,
            Ok(d) => {
                c.err_allowed(
                    "function.timeout",
                    format!("{d} is out of range"),
                    "1s..900s in whole seconds",
                );
                SimDuration::from_secs(3)
            }
            Err(e) => {
                c.err("function.timeout", e);
                SimDuration::from_secs(3)
            }
        },
        (None, Some(v)) => match c.aws_seconds("function.Timeout", v) {
            Some(s) => match c.int_in("function.Timeout", s, 1, 900, "1..=900 seconds") {
                Some(s) => SimDuration::from_secs(s as u64),
                None => SimDuration::from_secs(3),
            },
            None => SimDuration::from_secs(3),
        },
        (None, None) => SimDuration::from_secs(3),
    };
    let arch_text = match (f.architecture, f.architectures) {
        (Some(_), Some(_)) => {
            c.err(
                "function.Architectures",
                "`architecture` and `Architectures` are the same setting: give only one",
            );
            None
        }
        (Some(a), None) => Some(("function.architecture".to_owned(), a)),
        (None, Some(list)) => {
            if list.len() != 1 {
                c.err_allowed(
                    "function.Architectures",
                    format!("{} architectures given", list.len()),
                    "exactly one of x86_64, arm64",
                );
            }
            list.into_iter()
                .next()
                .map(|a| ("function.Architectures[0]".to_owned(), a))
        }
        (None, None) => None,
    };
    let architecture = match arch_text {
        None => Architecture::X86_64,
        Some((path, a)) => match a.as_str() {
            "x86_64" => Architecture::X86_64,
            "arm64" => Architecture::Arm64,
            other => {
                c.err_allowed(path, format!("unknown value `{other}`"), "x86_64, arm64");
                Architecture::X86_64
            }
        },
    };
    let account_concurrency = match f.account_concurrency {
        None => 1_000,
        Some(n) => c
            .int_in(
                "function.account_concurrency",
                n,
                1,
                10_000_000,
                "1..=10000000",
            )
            .unwrap_or(1_000) as u32,
    };
    let reserved_concurrency = match c.one_of(
        p,
        ("reserved_concurrency", f.reserved_concurrency),
        (
            "ReservedConcurrentExecutions",
            f.reserved_concurrent_executions,
        ),
    ) {
        None => None,
        Some((path, n)) => {
            // AWS keeps 100 of the account's concurrency unreserved.
            let max = i64::from(account_concurrency) - 100;
            if max < 0 {
                c.err_allowed(
                    path,
                    "nothing can be reserved when account_concurrency is below 100",
                    "account_concurrency - 100 must be at least 0",
                );
                None
            } else {
                c.int_in(
                    &path,
                    n,
                    0,
                    max,
                    &format!("0..={max} (account_concurrency - 100)"),
                )
                .map(|n| n as u32)
            }
        }
    };
    let cold_start = c.duration(
        "function.cold_start",
        f.cold_start.as_ref(),
        SimDuration::ZERO,
    );
    let idle_ttl = c.duration(
        "function.idle_ttl",
        f.idle_ttl.as_ref(),
        SimDuration::from_secs(600),
    );
    let dm = f.duration.unwrap_or_default();
    let duration = DurationModel {
        base: c.duration(
            "function.duration.base",
            dm.base.as_ref(),
            SimDuration::ZERO,
        ),
        per_record: c.duration(
            "function.duration.per_record",
            dm.per_record.as_ref(),
            SimDuration::ZERO,
        ),
        per_kib: c.duration(
            "function.duration.per_kib",
            dm.per_kib.as_ref(),
            SimDuration::ZERO,
        ),
        jitter: c.percent("function.duration.jitter", dm.jitter.as_ref(), 0, PPM_ONE),
    };
    let behaviours = f
        .behaviours
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, b)| check_behaviour(c, &format!("function.behaviours[{i}]"), b, stream))
        .collect();
    FunctionSpec {
        name,
        memory_mb,
        timeout,
        architecture,
        reserved_concurrency,
        account_concurrency,
        cold_start,
        idle_ttl,
        duration,
        behaviours,
    }
}

fn window(
    c: &mut Checker,
    path: &str,
    from: Option<&String>,
    to: Option<&String>,
) -> (SimTime, SimTime) {
    let from_d = match from {
        None => {
            c.missing(format!("{path}.from"));
            SimDuration::ZERO
        }
        Some(t) => c.duration(&format!("{path}.from"), Some(t), SimDuration::ZERO),
    };
    let to_d = match to {
        None => {
            c.missing(format!("{path}.to"));
            SimDuration::from_secs(1)
        }
        Some(t) => c.duration(&format!("{path}.to"), Some(t), SimDuration::from_secs(1)),
    };
    if from_d >= to_d {
        c.err(
            format!("{path}.to"),
            format!("to ({to_d}) must be after from ({from_d})"),
        );
    }
    (SimTime(from_d.0), SimTime(to_d.0))
}

fn check_behaviour(
    c: &mut Checker,
    path: &str,
    b: RawBehaviour,
    stream: &StreamSpec,
) -> Option<Behaviour> {
    const KINDS: &str = "poison, error_rate, outage, slowdown, forgets_window_state";
    let given = [
        b.poison.is_some(),
        b.error_rate.is_some(),
        b.outage.is_some(),
        b.slowdown.is_some(),
        b.forgets_window_state.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        c.err_allowed(
            path,
            format!("a behaviour has exactly one kind, {given} given"),
            KINDS,
        );
        return None;
    }
    if b.poison.is_none() {
        if b.effect.is_some() {
            c.err(format!("{path}.effect"), "`effect` goes with `poison` only");
        }
        if b.times.is_some() {
            c.err(format!("{path}.times"), "`times` goes with `poison` only");
        }
    }
    if let Some(poison) = b.poison {
        let pp = format!("{path}.poison");
        let target = match (poison.partition_key, poison.shard, poison.at) {
            (Some(k), None, None) => {
                check_partition_key(c, &format!("{pp}.partition_key"), &k);
                PoisonTarget::PartitionKey(k)
            }
            (None, shard, Some(at)) => {
                let at = c.duration(&format!("{pp}.at"), Some(&at), SimDuration::ZERO);
                let shard = shard.and_then(|s| {
                    let max = i64::from(stream.shards) - 1;
                    c.int_in(
                        &format!("{pp}.shard"),
                        s,
                        0,
                        max,
                        &format!(
                            "0..={max} (an index among the {} shards at t=0)",
                            stream.shards
                        ),
                    )
                    .map(|s| s as u32)
                });
                PoisonTarget::FirstAt {
                    shard,
                    at: SimTime(at.0),
                }
            }
            (None, Some(_), None) => {
                c.missing(format!("{pp}.at"));
                return None;
            }
            _ => {
                c.err_allowed(
                    pp,
                    "a poison names its record(s) one way",
                    "{at: T}, {shard: N, at: T}, {partition_key: K}",
                );
                return None;
            }
        };
        let effect = match b.effect {
            None | Some(RawEffect::Error) => Effect::Error,
            Some(RawEffect::Timeout) => Effect::Timeout,
            Some(RawEffect::ReportFailure) => Effect::ReportFailure,
            Some(RawEffect::Respond(v)) => Effect::Respond(v),
        };
        let times = b.times.and_then(|t| {
            c.int_in(
                &format!("{path}.times"),
                t,
                1,
                i64::from(u32::MAX),
                "1..=4294967295",
            )
            .map(|t| t as u32)
        });
        return Some(Behaviour::Poison {
            target,
            effect,
            times,
        });
    }
    if let Some(forgets) = b.forgets_window_state {
        return forgets.then_some(Behaviour::ForgetsWindowState);
    }
    if let Some(rate) = b.error_rate {
        let p = c.percent(&format!("{path}.error_rate"), Some(&rate), 0, PPM_ONE);
        return Some(Behaviour::ErrorRate(p));
    }
    if let Some(o) = b.outage {
        let (from, to) = window(c, &format!("{path}.outage"), o.from.as_ref(), o.to.as_ref());
        return Some(Behaviour::Outage { from, to });
    }
    if let Some(s) = b.slowdown {
        let sp = format!("{path}.slowdown");
        let (from, to) = window(c, &sp, s.from.as_ref(), s.to.as_ref());
        let factor_ppm = match s.factor {
            None => {
                c.missing(format!("{sp}.factor"));
                1_000_000
            }
            // The shortest text that reads back as this float is what the user wrote.
            Some(f) => match parse_millionths(&f.to_string()) {
                Ok(v) if v > 0 => v,
                _ => {
                    c.err_allowed(
                        format!("{sp}.factor"),
                        format!("{f} is not a usable factor"),
                        "a number above 0 (e.g. 5 or 1.5), at most 6 decimals",
                    );
                    1_000_000
                }
            },
        };
        return Some(Behaviour::Slowdown {
            from,
            to,
            factor_ppm,
        });
    }
    None
}

/// Which accepted-only keys the mapping held (for the notes).
#[derive(Default)]
struct MappingNotes {
    metrics_config: bool,
    kms_key: bool,
    tags: bool,
}

/// The settings CreateEventSourceMapping and UpdateEventSourceMapping share, checked
/// with the AWS ranges (aws-evidence.md §9.1).
struct Common {
    batch_size: Option<u32>,
    batching_window: Option<SimDuration>,
    parallelization_factor: Option<u32>,
    max_retry_attempts: Option<Option<u32>>,
    max_record_age: Option<Option<SimDuration>>,
    bisect_on_error: Option<bool>,
    report_batch_item_failures: Option<bool>,
    on_failure: Option<Option<Destination>>,
    filter_patterns: Option<Vec<String>>,
    tumbling_window: Option<SimDuration>,
    enabled: Option<bool>,
}

#[allow(clippy::too_many_arguments)]
fn check_common(
    c: &mut Checker,
    p: &str,
    function_name: Option<&String>,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    window: Option<&RawScalar>,
    pf: Option<i64>,
    max_age: Option<&RawScalar>,
    mra: Option<i64>,
    bisect: Option<bool>,
    tumbling: Option<&RawScalar>,
    response_types: Option<Vec<String>>,
    destination: Option<RawDestinationConfig>,
    filters: Option<RawFilterCriteria>,
    metrics: Option<&RawMetricsConfig>,
    kms: (Option<&String>, Option<&String>),
) -> Common {
    if let Some(fname) = function_name {
        let n = fname.chars().count();
        if !(1..=140).contains(&n) && !c.is_placeholder(&join(p, "FunctionName")) {
            c.err_allowed(
                join(p, "FunctionName"),
                format!("{n} characters"),
                "1..140 characters",
            );
        }
    }
    if let (Some(_), Some(_)) = kms {
        c.err(
            join(p, "KmsKeyArn"),
            "`KMSKeyArn` and `KmsKeyArn` are the same setting: give only one",
        );
    }
    let batch_size = batch_size.and_then(|b| {
        c.int_in(&join(p, "BatchSize"), b, 1, 10_000, "1..=10000")
            .map(|b| b as u32)
    });
    let batching_window = window.and_then(|w| {
        let path = join(p, "MaximumBatchingWindowInSeconds");
        let s = c.aws_seconds(&path, w)?;
        c.int_in(&path, s, 0, 300, "0..=300 seconds")
            .map(|s| SimDuration::from_secs(s as u64))
    });
    let parallelization_factor = pf.and_then(|f| {
        c.int_in(&join(p, "ParallelizationFactor"), f, 1, 10, "1..=10")
            .map(|f| f as u32)
    });
    let max_retry_attempts = mra.and_then(|m| {
        c.int_in(
            &join(p, "MaximumRetryAttempts"),
            m,
            -1,
            10_000,
            "-1 (infinite) or 0..=10000",
        )
        .map(|m| u32::try_from(m).ok())
    });
    let max_record_age = max_age.and_then(|a| {
        let path = join(p, "MaximumRecordAgeInSeconds");
        let s = c.aws_seconds(&path, a)?;
        const ALLOWED: &str = "-1 (infinite) or 60..=604800 seconds";
        match s {
            -1 => Some(None),
            60..=604_800 => Some(Some(SimDuration::from_secs(s as u64))),
            0..=59 => {
                c.err_allowed(
                    path,
                    format!(
                        "{s} is rejected by AWS: the shortest maximum record age is 60 seconds"
                    ),
                    ALLOWED,
                );
                None
            }
            _ => {
                c.err_allowed(path, format!("{s} is out of range"), ALLOWED);
                None
            }
        }
    });
    let tumbling_window = tumbling.and_then(|t| {
        let path = join(p, "TumblingWindowInSeconds");
        let s = c.aws_seconds(&path, t)?;
        c.int_in(&path, s, 0, 900, "0..=900 seconds")
            .map(|s| SimDuration::from_secs(s as u64))
    });
    let report_batch_item_failures = response_types.map(|types| {
        let mut seen = false;
        for (i, t) in types.iter().enumerate() {
            let path = format!("{}[{i}]", join(p, "FunctionResponseTypes"));
            if t != "ReportBatchItemFailures" {
                c.err_allowed(
                    path,
                    format!("unknown value `{t}`"),
                    "ReportBatchItemFailures",
                );
            } else if seen {
                c.err_allowed(path, "given twice", "at most one item");
            }
            seen = true;
        }
        types.iter().any(|t| t == "ReportBatchItemFailures")
    });
    let on_failure = destination.map(|d| {
        let dp = join(p, "DestinationConfig.OnFailure");
        let of = d.on_failure?;
        let kind_from_type = match of.kind.as_deref() {
            None => None,
            Some("SQS") => Some(DestinationKind::Sqs),
            Some("SNS") => Some(DestinationKind::Sns),
            Some("S3") => Some(DestinationKind::S3),
            Some(other) => {
                c.err_allowed(format!("{dp}.Type"), format!("unknown value `{other}`"), "SQS, SNS, S3");
                None
            }
        };
        // `{"OnFailure": {}}` is how AWS echoes "no destination".
        let arn = of.destination?;
        let arn_path = format!("{dp}.Destination");
        if c.is_placeholder(&arn_path) {
            return Some(Destination {
                arn,
                kind: kind_from_type.unwrap_or(DestinationKind::Sqs),
            });
        }
        let kind = match arn_parts(&arn) {
            Some((_, "sqs", _, _)) => Some(DestinationKind::Sqs),
            Some((_, "sns", _, _)) => Some(DestinationKind::Sns),
            Some((_, "s3", "", _)) => Some(DestinationKind::S3),
            _ => None,
        };
        let Some(kind) = kind else {
            c.err_allowed(
                arn_path,
                format!("`{arn}` is not an SQS queue, SNS topic or S3 bucket ARN"),
                "arn:aws:sqs:REGION:ACCOUNT:QUEUE, arn:aws:sns:REGION:ACCOUNT:TOPIC, arn:aws:s3:::BUCKET",
            );
            return None;
        };
        if arn.len() > 350 {
            c.err_allowed(arn_path, format!("{} characters", arn.len()), "at most 350 characters");
        }
        if kind_from_type.is_some_and(|k| k != kind) {
            c.err(
                format!("{dp}.Type"),
                "Type does not match the kind of the Destination ARN",
            );
        }
        Some(Destination { arn, kind })
    });
    let filter_patterns = filters.map(|f| {
        let fp = join(p, "FilterCriteria.Filters");
        let filters = f.filters.unwrap_or_default();
        if filters.len() > 5 {
            c.err_allowed(
                &fp,
                format!("{} filters", filters.len()),
                "at most 5 (the AWS default quota per event source mapping)",
            );
        }
        let mut patterns = Vec::new();
        for (i, filter) in filters.into_iter().enumerate() {
            let path = format!("{fp}[{i}].Pattern");
            let pattern = match filter.pattern {
                None => {
                    c.missing(path);
                    continue;
                }
                Some(serde_json::Value::String(s)) => s,
                Some(v) => v.to_string(),
            };
            if pattern.chars().count() > 4096 {
                c.err_allowed(
                    &path,
                    format!("{} characters", pattern.chars().count()),
                    "at most 4096 characters",
                );
            } else if !c.is_placeholder(&path)
                && !matches!(
                    serde_json::from_str::<serde_json::Value>(&pattern),
                    Ok(serde_json::Value::Object(_))
                )
            {
                c.err(&path, "a filter pattern is a JSON object (in a string)");
            }
            patterns.push(pattern);
        }
        patterns
    });
    if let Some(m) = metrics {
        for (i, name) in m.metrics.iter().flatten().enumerate() {
            if !matches!(name.as_str(), "EventCount" | "ErrorCount" | "KafkaMetrics") {
                c.err_allowed(
                    format!("{}[{i}]", join(p, "MetricsConfig.Metrics")),
                    format!("unknown value `{name}`"),
                    "EventCount, ErrorCount, KafkaMetrics",
                );
            }
        }
    }
    Common {
        batch_size,
        batching_window,
        parallelization_factor,
        max_retry_attempts,
        max_record_age,
        bisect_on_error: bisect,
        report_batch_item_failures,
        on_failure,
        filter_patterns,
        tumbling_window,
        enabled,
    }
}

fn check_mapping(
    c: &mut Checker,
    m: Option<RawMapping>,
    sim: &SimulationSpec,
    consumer_said_shared: bool,
) -> (MappingSpec, MappingNotes) {
    // Without the block, its one required key is reported below, once.
    let m = m.unwrap_or_default();
    let notes = MappingNotes {
        metrics_config: m.metrics_config.is_some(),
        kms_key: m.kms_key_arn.is_some() || m.kms_key_arn_api.is_some(),
        tags: m.tags.is_some(),
    };
    let event_source_arn = c
        .one_of(
            ESM,
            ("EventSourceArn", m.event_source_arn),
            ("Stream", m.stream),
        )
        .map(|(path, arn)| {
            if !c.is_placeholder(&path) {
                let ok = arn_parts(&arn)
                    .is_some_and(|(_, svc, _, res)| svc == "kinesis" && res.starts_with("stream/"));
                if !ok {
                    c.err_allowed(
                        &path,
                        format!("`{arn}` is not a Kinesis stream or consumer ARN"),
                        "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME (or .../consumer/NAME:TIME)",
                    );
                } else if arn.contains("/consumer/") && consumer_said_shared {
                    c.err(
                        &path,
                        "a consumer ARN means enhanced fan-out, but stream.consumer is `shared`",
                    );
                }
            }
            arn
        });
    let starting_position_text = m.starting_position.clone();
    let common = check_common(
        c,
        ESM,
        m.function_name.as_ref(),
        m.enabled,
        m.batch_size,
        m.maximum_batching_window_in_seconds.as_ref(),
        m.parallelization_factor,
        m.maximum_record_age_in_seconds.as_ref(),
        m.maximum_retry_attempts,
        m.bisect_batch_on_function_error,
        m.tumbling_window_in_seconds.as_ref(),
        m.function_response_types,
        m.destination_config,
        m.filter_criteria,
        m.metrics_config.as_ref(),
        (m.kms_key_arn_api.as_ref(), m.kms_key_arn.as_ref()),
    );
    if m.tags
        .as_ref()
        .is_some_and(|t| t.0.iter().any(|(k, _)| k.is_empty()))
    {
        c.err(format!("{ESM}.Tags"), "every tag needs a non-empty Key");
    }
    const POSITIONS: &str = "TRIM_HORIZON, LATEST, AT_TIMESTAMP";
    let sp_path = format!("{ESM}.StartingPosition");
    let ts_path = format!("{ESM}.StartingPositionTimestamp");
    let starting_position = match starting_position_text.as_deref() {
        None => {
            c.err_allowed(
                &sp_path,
                "missing required key (AWS requires it for Kinesis)",
                POSITIONS,
            );
            StartingPosition::TrimHorizon
        }
        Some("TRIM_HORIZON") => StartingPosition::TrimHorizon,
        Some("LATEST") => StartingPosition::Latest,
        Some("AT_TIMESTAMP") => match &m.starting_position_timestamp {
            None => {
                c.err(
                    &ts_path,
                    "missing required key: AT_TIMESTAMP needs StartingPositionTimestamp",
                );
                StartingPosition::AtTimestamp(SimTime::ZERO)
            }
            Some(ts) => {
                let at = match timestamp_ms(ts) {
                    Ok(ms) => {
                        let rel_ms = ms.saturating_sub(sim.start_time_unix_ms).max(0) as u64;
                        SimTime(rel_ms.saturating_mul(US_PER_MS))
                    }
                    Err(e) => {
                        c.err_allowed(
                            &ts_path,
                            e,
                            "Unix seconds (a number) or an ISO-8601 time like 2026-01-01T00:10:00Z",
                        );
                        SimTime::ZERO
                    }
                };
                StartingPosition::AtTimestamp(at)
            }
        },
        Some(other) => {
            c.err_allowed(&sp_path, format!("unknown value `{other}`"), POSITIONS);
            StartingPosition::TrimHorizon
        }
    };
    if m.starting_position_timestamp.is_some()
        && starting_position_text.is_some()
        && !matches!(starting_position, StartingPosition::AtTimestamp(_))
    {
        c.err(
            &ts_path,
            "StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP only",
        );
    }
    let spec = MappingSpec {
        event_source_arn,
        starting_position,
        batch_size: common.batch_size.unwrap_or(100),
        batching_window: common.batching_window.unwrap_or(SimDuration::ZERO),
        parallelization_factor: common.parallelization_factor.unwrap_or(1),
        max_retry_attempts: common.max_retry_attempts.unwrap_or(None),
        max_record_age: common.max_record_age.unwrap_or(None),
        bisect_on_error: common.bisect_on_error.unwrap_or(false),
        report_batch_item_failures: common.report_batch_item_failures.unwrap_or(false),
        on_failure: common.on_failure.unwrap_or(None),
        filter_patterns: common.filter_patterns.unwrap_or_default(),
        tumbling_window: common.tumbling_window.unwrap_or(SimDuration::ZERO),
        enabled: common.enabled.unwrap_or(true),
    };
    (spec, notes)
}

fn check_actions(c: &mut Checker, actions: Vec<RawAction>) -> Vec<Action> {
    const KINDS: &str = "split, merge, update_shard_count, disable_mapping, enable_mapping, \
                         update_mapping, set_retention";
    let mut out = Vec::new();
    for (i, a) in actions.into_iter().enumerate() {
        let p = format!("actions[{i}]");
        let at = match a.at.as_ref() {
            None => {
                c.missing(format!("{p}.at"));
                SimDuration::ZERO
            }
            Some(t) => c.duration(&format!("{p}.at"), Some(t), SimDuration::ZERO),
        };
        let given = [
            a.split.is_some(),
            a.merge.is_some(),
            a.update_shard_count.is_some(),
            a.disable_mapping.is_some(),
            a.enable_mapping.is_some(),
            a.update_mapping.is_some(),
            a.set_retention.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given != 1 {
            c.err_allowed(
                &p,
                format!("an action does exactly one thing, {given} given"),
                KINDS,
            );
            continue;
        }
        if a.at_hash_key.is_some() && a.split.is_none() {
            c.err(
                format!("{p}.at_hash_key"),
                "`at_hash_key` goes with `split` only",
            );
        }
        let kind = if let Some(shard) = a.split {
            if !is_shard_id(&shard) {
                c.err_allowed(
                    format!("{p}.split"),
                    format!("`{shard}` is not a shard id"),
                    "shardId-000000000000 (12 digits)",
                );
            }
            let at_hash_key = a
                .at_hash_key
                .and_then(|k| hash_key(c, &format!("{p}.at_hash_key"), &k));
            ActionKind::Split { shard, at_hash_key }
        } else if let Some(shards) = a.merge {
            for (j, s) in shards.iter().enumerate() {
                if !is_shard_id(s) {
                    c.err_allowed(
                        format!("{p}.merge[{j}]"),
                        format!("`{s}` is not a shard id"),
                        "shardId-000000000000 (12 digits)",
                    );
                }
            }
            match <[String; 2]>::try_from(shards) {
                Ok(pair) => {
                    if pair[0] == pair[1] {
                        c.err(format!("{p}.merge"), "a shard cannot merge with itself");
                    }
                    ActionKind::Merge { shards: pair }
                }
                Err(v) => {
                    c.err_allowed(
                        format!("{p}.merge"),
                        format!("{} shards given", v.len()),
                        "exactly two adjacent shard ids",
                    );
                    continue;
                }
            }
        } else if let Some(n) = a.update_shard_count {
            let target = c
                .int_in(
                    &format!("{p}.update_shard_count"),
                    n,
                    1,
                    10_000,
                    "1..=10000",
                )
                .unwrap_or(1) as u32;
            ActionKind::UpdateShardCount { target }
        } else if let Some(d) = a.disable_mapping {
            if !d {
                c.err_allowed(
                    format!("{p}.disable_mapping"),
                    "`disable_mapping: false` does nothing; use `enable_mapping: true`",
                    "true",
                );
            }
            ActionKind::DisableMapping
        } else if let Some(e) = a.enable_mapping {
            if !e {
                c.err_allowed(
                    format!("{p}.enable_mapping"),
                    "`enable_mapping: false` does nothing; use `disable_mapping: true`",
                    "true",
                );
            }
            ActionKind::EnableMapping
        } else if let Some(u) = a.update_mapping {
            ActionKind::UpdateMapping(check_update(c, &format!("{p}.update_mapping"), u))
        } else if let Some(r) = a.set_retention {
            ActionKind::SetRetention(check_retention(
                c,
                &format!("{p}.set_retention"),
                None,
                Some(&r),
            ))
        } else {
            continue;
        };
        out.push(Action {
            at: SimTime(at.0),
            kind,
        });
    }
    // Stable: equal times keep file order.
    out.sort_by_key(|a| a.at);
    out
}

fn check_update(c: &mut Checker, p: &str, u: RawMappingUpdate) -> MappingUpdate {
    let creation_only = [
        ("StartingPosition", u.starting_position.is_some()),
        (
            "StartingPositionTimestamp",
            u.starting_position_timestamp.is_some(),
        ),
        ("EventSourceArn", u.event_source_arn.is_some()),
        ("Stream", u.stream.is_some()),
        ("Tags", u.tags.is_some()),
    ];
    for (key, given) in creation_only {
        if given {
            c.err(
                join(p, key),
                format!(
                    "{key} cannot be changed after creation: UpdateEventSourceMapping has no such member"
                ),
            );
        }
    }
    let common = check_common(
        c,
        p,
        u.function_name.as_ref(),
        u.enabled,
        u.batch_size,
        u.maximum_batching_window_in_seconds.as_ref(),
        u.parallelization_factor,
        u.maximum_record_age_in_seconds.as_ref(),
        u.maximum_retry_attempts,
        u.bisect_batch_on_function_error,
        u.tumbling_window_in_seconds.as_ref(),
        u.function_response_types,
        u.destination_config,
        u.filter_criteria,
        u.metrics_config.as_ref(),
        (u.kms_key_arn_api.as_ref(), u.kms_key_arn.as_ref()),
    );
    MappingUpdate {
        batch_size: common.batch_size,
        batching_window: common.batching_window,
        parallelization_factor: common.parallelization_factor,
        max_retry_attempts: common.max_retry_attempts,
        max_record_age: common.max_record_age,
        bisect_on_error: common.bisect_on_error,
        report_batch_item_failures: common.report_batch_item_failures,
        on_failure: common.on_failure,
        tumbling_window: common.tumbling_window,
        enabled: common.enabled,
    }
}

fn check_expect(c: &mut Checker, lines: Vec<String>) -> Vec<String> {
    // The expect language is `check`'s: one parser for validation and for evaluation.
    // (Whether a `variants.NAME.` path names a real variant is checked by `check`.)
    for (i, line) in lines.iter().enumerate() {
        match crate::check::parse(line) {
            Err(e) => c.err(format!("expect[{i}]"), e.to_string()),
            Ok(e) => {
                if let Err(why) = crate::check::check_path(&e) {
                    c.err(format!("expect[{i}]"), why);
                }
            }
        }
    }
    lines
}

/// StartingPositionTimestamp as Unix milliseconds.
fn timestamp_ms(v: &RawScalar) -> Result<i64, String> {
    let from_secs_text = |t: &str| -> Result<i64, String> {
        let d = parse_decimal(t).map_err(|_| format!("`{t}` is not a time"))?;
        d.times_div_round(1_000, 1)
            .and_then(|ms| i64::try_from(ms).ok())
            .ok_or_else(|| format!("`{t}` is too large"))
    };
    match v {
        RawScalar::Int(s) => s
            .checked_mul(1_000)
            .ok_or_else(|| format!("{s} is too large")),
        RawScalar::UInt(u) => Err(format!("{u} is too large")),
        RawScalar::Float(f) => from_secs_text(&f.to_string()),
        RawScalar::Text(t) if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            from_secs_text(t)
        }
        RawScalar::Text(t) => parse_iso8601_ms(t),
    }
}
