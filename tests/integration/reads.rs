//! The read side (R-STREAM-5, R-EFO-1): propagation delay, the shared 2 MiB/s and
//! 5 calls/s per shard divided with other consumers, and enhanced fan-out pushing records.

use kinesim::scenario::*;
use kinesim::simulate;

use crate::support::*;

fn first_invoke_ms(trace: &[serde_json::Value]) -> u64 {
    of_kind(trace, "invoke")[0]["t_ms"].as_u64().unwrap()
}

#[test]
fn r_efo_1_shared_records_are_readable_200_ms_per_consumer_after_they_are_written() {
    // One record at 10 s; the shard's poll phase decides when after 10.2 s it is read.
    let mut s = base("propagation", 1, secs(60));
    s.producers.push(scripted("p", 1, at(10), secs(1), "x"));
    let (_, trace) = run_traced(&s);
    let alone = first_invoke_ms(&trace);
    assert!((10_200..11_200).contains(&alone), "read at {alone}");
    s.stream.other_consumers = 4;
    let (_, trace) = run_traced(&s);
    let five = first_invoke_ms(&trace);
    assert!(
        five >= 11_000,
        "with 5 consumers, readable after 1 s: read at {five}"
    );
    assert!(five < 12_000 + 400, "read at {five}");
}

#[test]
fn r_efo_1_enhanced_fan_out_pushes_each_record_about_70_ms_after_it_is_written() {
    let mut s = base("push", 1, secs(60));
    s.stream.consumer = ConsumerKind::EnhancedFanOut;
    s.producers.push(scripted("p", 5, at(10), ms(3_300), "x"));
    let (sum, trace) = run_traced(&s);
    let t: Vec<u64> = of_kind(&trace, "invoke")
        .iter()
        .map(|i| i["t_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(
        t,
        [10_070, 13_370, 16_670, 19_970, 23_270],
        "no 1 s polling"
    );
    assert_eq!(sum.reads.throttled, 0);
    assert_conservation(&sum);
}

/// A backlog of about 98 MiB (100 s of 1000 KiB/s) read after the mapping is enabled.
fn backlog(consumer: ConsumerKind) -> Scenario {
    let mut s = base("backlog", 1, secs(300));
    s.stream.consumer = consumer;
    s.producers.push(rate("p", 100, 10 * 1024, 100, at(300)));
    s.mapping.batch_size = 10_000;
    s.mapping.enabled = false;
    s.actions = vec![Action {
        at: at(100),
        kind: ActionKind::EnableMapping,
    }];
    s
}

/// Records the function got in invocations that started in [from, to) seconds.
fn delivered_between(trace: &[serde_json::Value], from: u64, to: u64) -> u64 {
    of_kind(trace, "invoke")
        .iter()
        .filter(|i| (from * 1000..to * 1000).contains(&i["t_ms"].as_u64().unwrap()))
        .map(|i| i["records"].as_u64().unwrap())
        .sum()
}

#[test]
fn r_stream_5_a_backlog_drains_at_2_mib_per_second_not_at_the_call_caps() {
    for consumer in [ConsumerKind::Shared, ConsumerKind::EnhancedFanOut] {
        let (sum, trace) = run_traced(&backlog(consumer));
        // In 20 s the mapping may read at most 2 MiB banked + 20 s × 2 MiB/s + one call
        // beyond its credit (10 MiB): 52 MiB, 5,324 records of 10 KiB. Without the limit
        // the 10 MiB calls at 5 a second would take the whole backlog (~10,000) at once.
        let early = delivered_between(&trace, 100, 120);
        assert!(
            (3_000..=5_324).contains(&early),
            "{consumer:?}: {early} records in the first 20 s"
        );
        // It does catch up: 2 MiB/s against 1000 KiB/s written.
        assert!(sum.records.pending < 200, "{consumer:?}: {:?}", sum.records);
        assert_conservation(&sum);
    }
}

#[test]
fn r_stream_5_other_consumers_take_their_share_and_the_mapping_falls_behind() {
    let steady = |others| {
        let mut s = base("shared", 1, secs(600));
        s.stream.other_consumers = others;
        // 900 KiB/s written: others reading it all leave the mapping too little.
        s.producers.push(rate("p", 90, 10 * 1024, 100, at(600)));
        s.mapping.batch_size = 1_000;
        simulate(&s, None, Default::default()).unwrap()
    };
    let alone = steady(0);
    assert!(
        alone.iterator_age_ms.max < 2_000,
        "{:?}",
        alone.iterator_age_ms
    );
    assert_eq!(alone.reads.throttled, 0);
    // Two others take 1.8 MiB/s of the 2: the mapping keeps its fair third (683 KiB/s)
    // of the 900 KiB/s it needs, and falls further behind every second.
    let crowded = steady(2);
    assert!(
        crowded.iterator_age_ms.max > 100_000,
        "{:?}",
        crowded.iterator_age_ms
    );
    assert!(crowded.reads.throttled > 0, "{:?}", crowded.reads);
    assert!(crowded.records.pending > 10_000, "{:?}", crowded.records);
    // Enhanced fan-out does not share: the same crowd does not slow it down.
    let mut s = base("efo", 1, secs(600));
    s.stream.other_consumers = 2;
    s.stream.consumer = ConsumerKind::EnhancedFanOut;
    s.producers.push(rate("p", 90, 10 * 1024, 100, at(600)));
    s.mapping.batch_size = 1_000;
    let efo = simulate(&s, None, Default::default()).unwrap();
    assert!(efo.iterator_age_ms.max < 1_000, "{:?}", efo.iterator_age_ms);
}

#[test]
fn r_stream_3_refused_writes_are_sent_again_next_second_with_retry_rejected() {
    // 1,500 records/s for a minute into one shard that takes 1,000 a second.
    let run = |retry: bool| {
        let mut s = base("retry-rejected", 1, secs(300));
        let mut p = rate("p", 1_500, 100, 100, at(60));
        if let ProducerKind::Rate(r) = &mut p.kind {
            r.retry_rejected = retry;
        }
        s.producers.push(p);
        simulate(&s, None, Default::default()).unwrap()
    };
    let dropped = run(false);
    assert_eq!(dropped.records.written, 60_000);
    assert_eq!(dropped.records.rejected, 30_000);
    let retried = run(true);
    // Every record gets in, 30 s late at worst; each refusal counts (500, 1,000, ...).
    assert_eq!(retried.records.written, 90_000);
    assert!(
        retried.records.rejected > 30_000 * 10,
        "{}",
        retried.records.rejected
    );
    assert_eq!(retried.records.pending, 0);
    assert_conservation(&retried);
}

/// I-1 and I-5 over random scenarios read by enhanced fan-out or by a crowd of standard
/// consumers, with producers that retry refused writes, and an autoscale strategy.
#[test]
fn i_1_and_i_5_hold_with_read_limits_retried_writes_and_autoscale() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(crate::invariants::config(24));
    let strategy = (
        crate::arbitrary::arb_scenario(),
        any::<bool>(),
        0u32..7,
        any::<bool>(),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(mut s, efo, others, retry, scale)| {
            if efo {
                s.stream.consumer = ConsumerKind::EnhancedFanOut;
            }
            s.stream.other_consumers = others;
            for p in &mut s.producers {
                if let ProducerKind::Rate(r) = &mut p.kind {
                    r.retry_rejected = retry;
                }
            }
            if scale {
                s.autoscale = Some(Autoscale {
                    metric: AutoscaleMetric::IteratorAge,
                    scale_out_above: 5_000,
                    scale_in_below: Some(1_000),
                    period: secs(60),
                    periods: 1,
                    cooldown: secs(120),
                    min_shards: 1,
                    max_shards: 8,
                });
            }
            let a = simulate(&s, None, Default::default()).unwrap();
            prop_assert_eq!(a.records.written, a.records.fates(), "I-1: {:?}", a.records);
            for sh in &a.shards {
                prop_assert_eq!(sh.records.written, sh.records.fates(), "I-1 for {}", sh.id);
            }
            let b = simulate(&s, None, Default::default()).unwrap();
            prop_assert_eq!(a.to_json_without_run(), b.to_json_without_run(), "I-5");
            Ok(())
        })
        .unwrap();
}
