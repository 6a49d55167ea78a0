//! Capacity that follows traffic: ON_DEMAND streams splitting hot shards
//! (aws-evidence §4.3) and the `autoscale` strategy calling UpdateShardCount on a metric
//! under the AWS limits (R-RESHARD-1).

use kinesim::scenario::*;
use kinesim::simulate;
use kinesim::time::SimDuration;

use crate::support::*;

fn on_demand(per_sec: u64, duration_s: u64) -> Scenario {
    let mut s = base("on-demand", 1, secs(duration_s));
    s.stream.mode = StreamMode::OnDemand;
    s.producers
        .push(rate("p", per_sec, 1024, 10_000, at(duration_s)));
    s
}

#[test]
fn on_demand_splits_a_shard_over_500_kb_per_second_after_the_split_delay() {
    // 800 KiB/s: over 500 KB/s in the first minute; split 15 min after that check.
    let sum = simulate(&on_demand(800, 3600), None, Default::default()).unwrap();
    assert_eq!(
        sum.shards.len(),
        3,
        "one split: its children carry 400 KiB/s each"
    );
    assert_eq!(sum.shards[0].open_ms, (0, Some(960_000)));
    assert_eq!(sum.shards[1].open_ms.0, 960_000);
    assert_eq!(sum.shards[1].parents, ["shardId-000000000000"]);
    assert_eq!(sum.records.rejected, 0);
    // Billed per stream-hour and data, not per shard-hour (R-COST-1).
    let k = sum.cost_usd.kinesis_detail;
    assert_eq!((k.shard_hours, k.put_units), (0.0, 0.0));
    assert!(k.on_demand_stream_hours > 0.0 && k.on_demand_written > 0.0 && k.on_demand_read > 0.0);
    assert_conservation(&sum);
}

#[test]
fn on_demand_writes_over_a_shards_limit_are_refused_until_the_splits_catch_up() {
    // 3,000 records/s from one shard: 2,000 a second refused until the stream has split
    // enough (1 → 2 at 16 min, → 4 at 32 min, each child over 500 KB/s until then).
    let sum = simulate(&on_demand(3_000, 3 * 3600), None, Default::default()).unwrap();
    let open: Vec<_> = sum
        .shards
        .iter()
        .filter(|s| s.open_ms.1.is_none())
        .collect();
    assert!(open.len() >= 4, "{} open shards", open.len());
    assert!(sum.records.rejected > 1_000_000, "{}", sum.records.rejected);
    // After the splits nothing is refused: the refusals all come from the first shards.
    let late: u64 = open.iter().map(|s| s.records.rejected).sum();
    assert_eq!(late, 0);
    assert_conservation(&sum);
}

#[test]
fn r_reshard_1_an_on_demand_stream_refuses_resharding_by_hand() {
    let mut s = on_demand(10, 600);
    s.actions = vec![Action {
        at: at(60),
        kind: ActionKind::UpdateShardCount { target: 2 },
    }];
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.actions[0].outcome, "rejected");
    assert!(
        sum.actions[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("ValidationException")
    );
}

/// 2 shards that cannot keep up: 100 records take 20 ms + 100 × 4 ms, about 238
/// records/s per shard, against 300 written per shard.
fn overloaded(duration_s: u64) -> Scenario {
    let mut s = base("overloaded", 2, secs(duration_s));
    s.producers
        .push(rate("p", 600, 200, 10_000, at(duration_s)));
    s.function.duration.base = ms(20);
    s.function.duration.per_record = ms(4);
    s
}

fn iterator_age_policy() -> Autoscale {
    Autoscale {
        metric: AutoscaleMetric::IteratorAge,
        scale_out_above: 30_000,
        scale_in_below: None,
        period: secs(60),
        periods: 1,
        cooldown: secs(300),
        min_shards: 1,
        max_shards: 8,
    }
}

#[test]
fn autoscale_on_iterator_age_doubles_the_shards_and_the_backlog_clears() {
    let fixed = simulate(&overloaded(2 * 3600), None, Default::default()).unwrap();
    let mut s = overloaded(2 * 3600);
    s.autoscale = Some(iterator_age_policy());
    let scaled = simulate(&s, None, Default::default()).unwrap();
    // The fixed stream falls behind all along.
    assert!(
        fixed.iterator_age_ms.max > 1_000_000,
        "{:?}",
        fixed.iterator_age_ms
    );
    let calls: Vec<&str> = scaled.actions.iter().map(|a| a.action.as_str()).collect();
    assert!(
        calls[0].starts_with("autoscale: update_shard_count 4 (iterator age"),
        "{calls:?}"
    );
    assert!(
        scaled.actions.iter().all(|a| a.outcome == "done"),
        "{:?}",
        scaled.actions
    );
    // Its first call came once the age passed 30 s, at a whole minute.
    assert_eq!(scaled.actions[0].at_ms % 60_000, 0);
    assert_eq!(
        scaled.actions[0].completed_ms,
        Some(scaled.actions[0].at_ms + 60_000)
    );
    // With 4 shards the load is 150/s per shard: the backlog clears and stays clear.
    assert!(scaled.records.pending < 1_000, "{:?}", scaled.records);
    assert!(fixed.records.pending > 100_000, "{:?}", fixed.records);
    // Every call waited for the cooldown after the one before.
    for w in scaled.actions.windows(2) {
        assert!(w[1].at_ms >= w[0].completed_ms.unwrap() + 300_000, "{w:?}");
    }
    assert_conservation(&scaled);
}

#[test]
fn autoscale_on_write_utilisation_and_back_in_when_traffic_drops() {
    let mut s = base("utilisation", 2, secs(3 * 3600));
    // 1,800 records/s over 2 shards (90 % of 2,000) for an hour, then 100/s.
    let mut p = rate("p", 1_800, 100, 10_000, at(3 * 3600));
    if let ProducerKind::Rate(r) = &mut p.kind {
        r.changes = vec![RateChange {
            at: at(3600),
            rate_urps: 100_000_000,
        }];
    }
    s.producers.push(p);
    s.autoscale = Some(Autoscale {
        metric: AutoscaleMetric::WriteUtilisation,
        scale_out_above: 800_000,
        scale_in_below: Some(200_000),
        period: secs(60),
        periods: 3,
        cooldown: secs(600),
        min_shards: 2,
        max_shards: 16,
    });
    let sum = simulate(&s, None, Default::default()).unwrap();
    let targets: Vec<&str> = sum
        .actions
        .iter()
        .map(|a| a.action.split(" (").next().unwrap())
        .collect();
    // Out once (90 % > 80 %; at 4 shards 45 %), then in after the drop, not below 2.
    assert_eq!(
        targets,
        [
            "autoscale: update_shard_count 4",
            "autoscale: update_shard_count 2"
        ],
        "{:?}",
        sum.actions
    );
    assert_eq!(
        sum.actions[0].at_ms, 180_000,
        "three evaluations in a row above 80 %"
    );
    assert!(sum.actions[1].at_ms > 3_600_000);
    assert_conservation(&sum);
}

#[test]
fn autoscale_calls_are_refused_by_the_aws_limits_like_any_other() {
    // 1,300 records/s: 65 % of 2 shards (scale out above 60 %), 32.5 % of 4 (scale in
    // below 50 %): a policy without cooldown flaps, and the 11th UpdateShardCount within
    // 24 hours is refused by AWS (R-RESHARD-1).
    let mut s = base("flapping", 2, secs(40 * 60));
    s.producers.push(rate("p", 1_300, 100, 10_000, at(40 * 60)));
    s.autoscale = Some(Autoscale {
        metric: AutoscaleMetric::WriteUtilisation,
        scale_out_above: 600_000,
        scale_in_below: Some(500_000),
        period: secs(60),
        periods: 1,
        cooldown: SimDuration::ZERO,
        min_shards: 1,
        max_shards: 100,
    });
    let sum = simulate(&s, None, Default::default()).unwrap();
    let outcomes: Vec<&str> = sum.actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(&outcomes[..10], ["done"; 10], "{:?}", sum.actions);
    assert_eq!(outcomes[10], "rejected");
    let reason = sum.actions[10].reason.as_deref().unwrap();
    assert!(reason.starts_with("LimitExceededException"), "{reason}");
    assert!(reason.contains("24 hours"), "{reason}");
    assert_conservation(&sum);
}

#[test]
fn r_cost_1_prices_are_settings_and_the_assumptions_say_so() {
    let s = overloaded(3600);
    let default = simulate(&s, None, Default::default()).unwrap();
    let mut dear = s.clone();
    dear.prices.shard_hour *= 2.0;
    dear.prices.lambda_per_million_requests = 0.0;
    let sum = simulate(&dear, None, Default::default()).unwrap();
    // 2 shards for an hour: 2 shard-hours at $0.015, then at $0.03.
    assert_eq!(default.cost_usd.kinesis_detail.shard_hours, 0.03);
    assert_eq!(sum.cost_usd.kinesis_detail.shard_hours, 0.06);
    assert_eq!(sum.cost_usd.lambda_requests, 0.0);
    assert!(default.cost_usd.lambda_requests > 0.0);
    assert!(
        sum.assumptions
            .iter()
            .any(|a| a.starts_with("prices (set by the scenario): Lambda $0/M requests")),
        "{:?}",
        sum.assumptions
    );
}
