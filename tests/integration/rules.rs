//! One test per rule of spec/esm-rules.md that the core implements, on small scenarios
//! built in code, with exact expectations.

use kinesim::model::mapping::LaneState;
use kinesim::scenario::*;
use kinesim::time::{SimDuration, SimTime};
use kinesim::{World, simulate};

use crate::support::*;

fn hours(h: u64) -> SimDuration {
    SimDuration::from_hours(h)
}

#[test]
fn r_stream_1_records_go_to_the_shard_owning_md5_of_their_key() {
    let mut s = base("routing", 4, secs(30));
    s.producers.push(scripted("p", 40, at(0), ms(10), "x"));
    let (_, trace) = run_traced(&s);
    let ranges = kinesim::model::stream::HashRange::even(4);
    let mut seen = 0;
    for inv in of_kind(&trace, "invoke") {
        // Every record of a batch belongs to the batch's shard: check via the count per shard.
        let shard: usize = inv["shard"].as_str().unwrap()[8..].parse().unwrap();
        seen += inv["records"].as_u64().unwrap();
        assert!(shard < 4);
    }
    assert_eq!(seen, 40);
    let (sum, _) = run_traced(&s);
    for (n, sh) in sum.shards.iter().enumerate() {
        let expected = (0..40)
            .filter(|i| ranges[n].contains(kinesim::model::stream::hash_key(format!("k{i}"))))
            .count() as u64;
        assert_eq!(sh.records.written, expected, "{}", sh.id);
    }
}

#[test]
fn r_stream_1_a_trillion_partition_keys_spread_evenly_from_the_start() {
    // Beyond the first million, keys are spread by the width of each hash range: evenly
    // weighted keys by their count, Zipf weights up to a point then by their integral,
    // so a run with any number of keys starts at once (a loop over 10^12 keys would
    // run for about a quarter of an hour, hours with Zipf weights).
    for skew in [KeySkew::Uniform, KeySkew::Zipf(0.5)] {
        let mut s = base("many-keys", 2, secs(10));
        let mut p = rate("p", 1000, 100, 1_000_000_000_000, at(10));
        if let ProducerKind::Rate(r) = &mut p.kind {
            r.key_skew = skew.clone();
        }
        s.producers.push(p);
        let sum = simulate(&s, None, Default::default()).unwrap();
        // 1,000 records/s for 10 s, split into per-shard rates: exact when the keys weigh
        // one each; Zipf's fractional shares may round up by a record per shard.
        let written = sum.records.written;
        let most = match skew {
            KeySkew::Zipf(_) => 10_002,
            _ => 10_000,
        };
        assert!((10_000..=most).contains(&written), "{skew:?}: {written}");
        for sh in &sum.shards {
            let w = sh.records.written;
            // Two shards of the hash space: about half each (with Zipf 0.5 the first
            // million keys weigh a thousandth of the trillion).
            assert!((4_000..=6_000).contains(&w), "{skew:?}: {} got {w}", sh.id);
        }
    }
}

#[test]
fn r_stream_3_a_shard_accepts_1000_records_per_second() {
    let mut s = base("hot", 1, secs(10));
    s.producers.push(rate("p", 1500, 100, 10, at(10)));
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.records.written, 10_000);
    assert_eq!(sum.records.rejected, 5_000);
    assert_eq!(of_kind(&trace, "reject").len(), 10);
    // And 1 MiB per second: 300 records of 5,000 bytes (+ key) exceed it.
    let mut s = base("hot-bytes", 1, secs(4));
    s.producers.push(rate("p", 300, 5_000, 10, at(4)));
    let sum = simulate(&s, None, Default::default()).unwrap();
    let per_record = 5_000 + "p-9".len() as u64;
    assert_eq!(sum.records.written, 4 * ((1 << 20) / per_record));
}

#[test]
fn r_stream_3_refusals_of_records_sent_again_saturate_instead_of_wrapping() {
    // A trillion records a second re-sent until accepted: every second refuses all that
    // wait again, about 2.6e19 refusals in 2 h, past 2^64. The count stops at its top
    // (it wrapped round to a smaller number, and a debug build panicked).
    let mut s = base("flood", 1, secs(3 * 3600));
    let mut p = rate("p", 1_000_000_000_000, 100, 10, at(3 * 3600));
    if let ProducerKind::Rate(r) = &mut p.kind {
        r.retry_rejected = true;
    }
    s.producers.push(p);
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.records.written, 1_000 * 3 * 3600);
    assert_eq!(sum.records.rejected, u64::MAX);
    assert_eq!(sum.shards[0].records.rejected, u64::MAX);
}

#[test]
fn r_stream_4_and_r_err_2_a_poison_batch_retries_until_retention_trims_it() {
    let s = poison_pill(hours(26));
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_conservation(&sum);
    let s0 = &sum.shards[0];
    assert!(s0.records.expired > 0);
    assert!(
        s0.invocations.errors > 7_000,
        "retried all day: {}",
        s0.invocations.errors
    );
    assert!(
        s0.iterator_age_ms.max >= 23 * 3_600_000
            && s0.iterator_age_ms.max <= 24 * 3_600_000 + 60_000
    );
    assert!(
        s0.blocked_ms >= 23 * 3_600_000 + 59 * 60_000,
        "blocked ~24 h: {}",
        s0.blocked_ms
    );
    for sh in &sum.shards[1..] {
        assert!(
            sh.iterator_age_ms.max < 5_000,
            "{} stays healthy: {:?}",
            sh.id,
            sh.iterator_age_ms
        );
        assert_eq!(sh.invocations.errors, 0);
        assert_eq!(sh.records.expired, 0);
    }
}

#[test]
fn r_traffic_1_variants_with_other_shard_counts_see_the_same_records() {
    let mut four = poison_pill(hours(1));
    four.producers[0] = rate("clicks", 400, 1024, 10_000, at(3600));
    let mut eight = four.clone();
    eight.stream.shards = 8;
    let a = simulate(&four, None, Default::default()).unwrap();
    let b = simulate(&eight, None, Default::default()).unwrap();
    assert_eq!(a.records.written, 400 * 3600);
    assert_eq!(a.records.written, b.records.written);
    // Poisson arrivals too: the producer's total per second comes from its own stream.
    four.producers[0] = rate("clicks", 400, 1024, 10_000, at(3600));
    if let ProducerKind::Rate(r) = &mut four.producers[0].kind {
        r.arrival = Arrival::Poisson;
    }
    let mut eight = four.clone();
    eight.stream.shards = 8;
    let a = simulate(&four, None, Default::default()).unwrap();
    let b = simulate(&eight, None, Default::default()).unwrap();
    assert_eq!(a.records.written, b.records.written);
    assert!(
        (a.records.written as f64 - 1_440_000.0).abs() < 5_000.0,
        "{}",
        a.records.written
    );
}

#[test]
fn r_poll_1_a_healthy_shard_is_polled_once_a_second() {
    let mut s = base("steady", 1, secs(600));
    s.producers.push(rate("p", 50, 100, 100, at(600)));
    s.function.duration.base = ms(10);
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    // One batch per poll, one poll per second (the first at the shard's phase).
    assert!((599..=600).contains(&invokes.len()), "{}", invokes.len());
    for w in invokes.windows(2) {
        let dt = w[1]["t_ms"].as_u64().unwrap() - w[0]["t_ms"].as_u64().unwrap();
        assert_eq!(dt, 1000, "polls one second apart");
    }
    assert!(sum.iterator_age_ms.max < 1000);
    assert_conservation(&sum);
}

#[test]
fn r_poll_1_a_shard_that_is_behind_polls_again_without_waiting_for_the_tick() {
    let mut s = base("behind", 1, secs(120));
    // 20,000 records of backlog when the mapping starts at 100 s: more than one
    // GetRecords call (10,000 records at most) can read.
    // Small records, so that the 6 MiB payload does not cut the 10,000 first.
    s.producers.push(rate("p", 200, 10, 100, at(120)));
    s.simulation.mapping_start_delay = secs(100);
    s.mapping.batch_size = 10_000;
    s.function.duration.base = ms(100);
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    let t = |k: usize| invokes[k]["t_ms"].as_u64().unwrap();
    assert_eq!(invokes[0]["records"], 10_000, "the first call hit its cap");
    // The lane finished the first batch after 100 ms and read again at once, not at
    // the next once-a-second tick.
    assert_eq!(t(1) - t(0), 100, "catch-up poll right after the batch");
    assert_eq!(invokes[1]["records"], 10_000);
    assert!(sum.records.pending < 300, "caught up: {:?}", sum.records);
    assert_conservation(&sum);
}

#[test]
fn r_poll_2_latest_skips_what_was_written_before_the_mapping_was_enabled() {
    let mut s = base("latest", 2, secs(120));
    s.producers.push(rate("p", 100, 100, 100, at(120)));
    s.simulation.mapping_start_delay = secs(30);
    s.mapping.starting_position = StartingPosition::Latest;
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.records.skipped, 3_000);
    assert_conservation(&sum);
    s.mapping.starting_position = StartingPosition::TrimHorizon;
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.records.skipped, 0);
    assert!(sum.records.delivered >= 11_800);
}

#[test]
fn r_batch_1_batches_hold_at_most_batch_size_records_in_order() {
    let mut s = base("batch", 1, secs(60));
    s.producers.push(rate("p", 500, 100, 100, at(60)));
    s.mapping.batch_size = 37;
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.batch_records.max, 37);
    let mut last: Option<String> = None;
    for inv in of_kind(&trace, "invoke") {
        let first = inv["first_seq"].as_str().unwrap().to_string();
        if let Some(l) = &last {
            assert!(
                first > *l,
                "I-2: batches follow each other in sequence order"
            );
        }
        last = Some(inv["last_seq"].as_str().unwrap().to_string());
    }
}

#[test]
fn r_batch_2_the_six_mib_payload_cuts_a_batch_of_10000_kib_records() {
    let mut s = base("payload", 1, secs(300));
    s.producers.push(rate("p", 900, 1024, 10, at(300)));
    s.mapping.batch_size = 10_000;
    s.simulation.mapping_start_delay = secs(200); // a backlog of 180,000 records
    let sum = simulate(&s, None, Default::default()).unwrap();
    let ctx = kinesim::model::payload::EventContext::new("stream", None, "function");
    let entry = ctx.entry_bytes(1024, "p-9".len() as u64);
    let fit = (kinesim::model::payload::PAYLOAD_CAP_BYTES + 1 - 14) / (entry + 1);
    assert_eq!(sum.batch_records.max, fit, "exactly what fits in 6 MiB");
    assert!(fit < 4_000 && fit > 3_000);
}

#[test]
fn r_batch_3_a_batching_window_waits_before_sending() {
    let mut s = base("window", 1, secs(600));
    s.producers.push(rate("p", 2, 100, 10, at(600)));
    s.mapping.batching_window = secs(30);
    s.mapping.batch_size = 1_000;
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    assert!(
        (19..=21).contains(&invokes.len()),
        "one batch per 30 s window: {}",
        invokes.len()
    );
    assert!(sum.iterator_age_ms.p50 < 30_000);
    assert!(sum.batch_records.mean > 55.0);
    // The window ends early when BatchSize is reached.
    s.mapping.batch_size = 10;
    let (_, trace) = run_traced(&s);
    assert!(of_kind(&trace, "invoke").len() >= 110);
}

#[test]
fn r_order_1_one_batch_per_shard_in_flight() {
    let mut s = base("order", 3, secs(300));
    s.producers.push(rate("p", 3000, 100, 1000, at(300)));
    s.function.duration.base = ms(700);
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.concurrency.max, 3);
}

#[test]
fn r_conc_1_and_r_conc_2_reserved_concurrency_throttles_without_using_attempts() {
    let mut s = base("throttled", 4, secs(300));
    s.producers.push(rate("p", 400, 100, 1000, at(300)));
    s.function.duration.base = ms(900);
    s.function.reserved_concurrency = Some(2);
    let (sum, trace) = run_traced(&s);
    assert!(sum.concurrency.max <= 2);
    assert!(sum.invocations.throttles > 0);
    assert_eq!(sum.invocations.errors, 0);
    // No invocation ever counts a throttle as an attempt: every batch succeeds first time.
    assert!(of_kind(&trace, "invoke").iter().all(|i| i["attempt"] == 1));
    assert_eq!(
        of_kind(&trace, "throttle").len() as u64,
        sum.invocations.throttles
    );
    assert_conservation(&sum);
    // Reserved concurrency 0: nothing is processed.
    s.function.reserved_concurrency = Some(0);
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.invocations.total, 0);
    assert_eq!(sum.records.delivered, 0);
}

#[test]
fn r_conc_3_cold_starts_only_for_new_environments() {
    let mut s = base("cold", 2, secs(120));
    s.producers.push(rate("p", 100, 100, 100, at(120)));
    s.function.cold_start = ms(300);
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.invocations.cold_starts, sum.concurrency.max as u64);
    let first = of_kind(&trace, "invoke")[0];
    assert_eq!(
        first["duration_ms"], 300,
        "the first invocation pays the cold start"
    );
    // Environments idle longer than idle_ttl retire: gaps of 20 s with a 10 s TTL.
    let mut s = base("cold-ttl", 1, secs(200));
    s.producers.push(scripted("p", 10, at(0), secs(20), "x"));
    s.function.cold_start = ms(300);
    s.function.idle_ttl = secs(10);
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.invocations.cold_starts, 10);
}

#[test]
fn r_err_1_a_throw_at_a_poison_record_ends_after_the_records_before_it() {
    let mut s = base("throw", 1, secs(5));
    s.producers
        .push(scripted("p", 10, at(0), SimDuration(1), "x"));
    s.function.duration.base = ms(10);
    s.function.duration.per_record = ms(2);
    s.function
        .behaviours
        .push(poison_first_at(None, SimTime(3), Effect::Error));
    let (sum, trace) = run_traced(&s);
    let first = of_kind(&trace, "invoke")[0];
    assert_eq!(first["outcome"], "error");
    assert_eq!(first["records"], 10);
    assert_eq!(
        first["duration_ms"],
        10 + 2 * 4,
        "base + 4 records (3 before the poison, and it)"
    );
    assert_eq!(
        first["failed_seq"],
        kinesim::model::stream::sequence_number(0, 3)
    );
    // Each retry processes the 3 records before the poison again: duplicates.
    let errors = sum.invocations.errors;
    assert_eq!(sum.records.duplicates, 3 * (errors - 1));
    // A timeout: the invocation ends at the function's timeout.
    s.function.behaviours[0] = poison_first_at(None, SimTime(3), Effect::Timeout);
    let (sum, trace) = run_traced(&s);
    assert_eq!(of_kind(&trace, "invoke")[0]["duration_ms"], 3000);
    assert_eq!(sum.invocations.timeouts, sum.invocations.total);
    assert_eq!(sum.invocations.cloudwatch_errors, sum.invocations.timeouts);
}

#[test]
fn r_err_5_retries_come_at_0_1_3_7_15_27_39_51_seconds() {
    let mut s = base("backoff", 1, secs(60));
    s.producers.push(scripted("p", 1, at(0), secs(1), "x"));
    s.function
        .behaviours
        .push(poison_first_at(None, at(0), Effect::Error));
    let (_, trace) = run_traced(&s);
    let t: Vec<u64> = of_kind(&trace, "invoke")
        .iter()
        .map(|i| i["t_ms"].as_u64().unwrap())
        .collect();
    let rel: Vec<u64> = t.iter().map(|x| (x - t[0]) / 1000).collect();
    assert_eq!(rel, vec![0, 1, 3, 7, 15, 27, 39, 51]);
    let attempts: Vec<u64> = of_kind(&trace, "invoke")
        .iter()
        .map(|i| i["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, (1..=8).collect::<Vec<_>>());
}

#[test]
fn r_err_6_retention_trims_a_retried_batch_from_its_head() {
    let mut s = base("trim", 1, hours(24) + secs(120));
    // Three records 20 s apart, read together when the mapping starts at 50 s: the batch
    // [k0, k1, k2] fails on k0 until retention trims k0; the rest goes on retrying with
    // its attempt count and succeeds at the next retry.
    s.producers.push(scripted("p", 3, at(0), secs(20), "x"));
    s.simulation.mapping_start_delay = secs(50);
    s.function
        .behaviours
        .push(poison_first_at(None, at(0), Effect::Error));
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.records.expired, 1);
    assert_eq!(sum.records.delivered, 2);
    assert_conservation(&sum);
    let invokes = of_kind(&trace, "invoke");
    assert_eq!(invokes[0]["records"], 3);
    let last = invokes.last().unwrap();
    assert_eq!(last["outcome"], "ok");
    assert_eq!(last["records"], 2);
    let before = invokes[invokes.len() - 2];
    assert_eq!(
        before["records"], 3,
        "the whole batch retried until the trim"
    );
    assert_eq!(
        last["attempt"].as_u64().unwrap(),
        before["attempt"].as_u64().unwrap() + 1,
        "the count runs on"
    );
    let expiries: u64 = of_kind(&trace, "expire")
        .iter()
        .map(|e| e["records"].as_u64().unwrap())
        .sum();
    assert_eq!(expiries, 1);
}

#[test]
fn r_metric_2_invocation_classes_add_up() {
    let mut s = poison_pill(hours(2));
    s.function.behaviours.push(Behaviour::ErrorRate(50_000)); // 5%
    s.function.behaviours.push(Behaviour::Outage {
        from: at(1800),
        to: at(1900),
    });
    let sum = simulate(&s, None, Default::default()).unwrap();
    let i = &sum.invocations;
    assert_eq!(
        i.total,
        i.ok + i.errors + i.timeouts + i.partial + i.invalid_response
    );
    assert_eq!(i.cloudwatch_errors, i.errors + i.timeouts);
    assert!(i.errors > i.total / 30);
    assert_conservation(&sum);
}

#[test]
fn r_metric_1_a_blocked_shard_s_checkpoint_lag_grows_a_second_per_second() {
    let mut s = base("lag", 1, secs(3600));
    s.producers.push(rate("p", 10, 100, 10, at(3600)));
    s.function
        .behaviours
        .push(poison_first_at(None, at(600), Effect::Error));
    let sum = simulate(&s, None, Default::default()).unwrap();
    let lag = sum.shards[0].checkpoint_lag_ms.max;
    // The oldest unfinished record is the failing batch's first: within a second of 600 s.
    assert!(
        (2_999_000..=3_001_000).contains(&lag),
        "blocked from 600 s to 3600 s: {lag}"
    );
}

/// The lifecycle of one shard, event by event: poll, invoke, fail, back off, retry,
/// expire, go on.
#[test]
fn step_by_step_poll_invoke_fail_back_off_retry_expire_go_on() {
    let mut s = base("steps", 1, hours(24) + secs(60));
    s.producers.push(scripted("p", 2, at(0), secs(30), "x"));
    s.simulation.sample_every = SimDuration::ZERO; // only the lane's own events
    s.function.duration.base = ms(50);
    s.function
        .behaviours
        .push(poison_first_at(None, at(0), Effect::Error));
    let mut w = World::new(&s, Default::default());
    let lane = |w: &World| w.shards()[0].lanes[0].state;
    let step = |w: &mut World| {
        assert!(
            w.step().unwrap().is_some(),
            "the run ended early at {}",
            w.now()
        )
    };
    // Poll: the first poll reads the poison record (the other comes 30 s later) and sends it.
    while !matches!(lane(&w), LaneState::Invoking(_)) {
        step(&mut w);
    }
    let LaneState::Invoking(b) = lane(&w) else {
        unreachable!()
    };
    assert_eq!((b.first, b.end, b.invocations), (0, 1, 1));
    let sent_at = w.now();
    // Fail: the invocation ends after 50 ms with an error; the batch waits 1 s.
    while matches!(lane(&w), LaneState::Invoking(_)) {
        step(&mut w);
    }
    assert_eq!(w.now(), sent_at + ms(50));
    let LaneState::Waiting(b) = lane(&w) else {
        panic!("waits for its retry")
    };
    assert_eq!(b.failures, 1);
    // Back off, retry: the second attempt starts 1 s later.
    while !matches!(lane(&w), LaneState::Invoking(_)) {
        step(&mut w);
    }
    assert_eq!(w.now(), sent_at + ms(50) + secs(1));
    // Expire: a day later retention trims the poison record off the head of the batch.
    while w.shards()[0].metrics.records.expired == 0 {
        step(&mut w);
    }
    assert!(w.now() >= SimTime::ZERO + hours(24));
    // Go on: the lane is free; the next poll reads the second record and delivers it.
    while w.shards()[0].metrics.records.delivered == 0 {
        step(&mut w);
    }
    assert_eq!(w.shards()[0].lanes[0].checkpoint, 2);
    assert_eq!(lane(&w), LaneState::Idle);
    assert!(
        w.now() < SimTime::ZERO + hours(24) + secs(2),
        "at the first poll after the expiry"
    );
    w.run().unwrap();
    let r = w.shards()[0].metrics.records;
    assert_eq!((r.written, r.delivered, r.expired, r.pending), (2, 1, 1, 0));
}

/// Regression (found while writing `retention-too-short`): when retention trims a
/// retried batch away entirely, the lane must go on at once, and go on for good.
#[test]
fn r_err_6_a_lane_whose_retried_batch_expires_goes_on() {
    let mut s = base("expired-batch", 1, hours(26));
    s.producers
        .push(rate("p", 1, 100, 10, SimTime::ZERO + hours(26)));
    s.function.duration.base = ms(20);
    s.function.behaviours.push(Behaviour::Outage {
        from: at(1800),
        to: SimTime::ZERO + hours(25),
    });
    let (sum, trace) = run_traced(&s);
    assert!(
        sum.records.pending < 100,
        "the shard recovered: {:?}",
        sum.records
    );
    // Retention trims what the outage held, no more: about 24h30m..25h of records.
    assert!(
        (1_700..2_000).contains(&sum.records.expired),
        "{}",
        sum.records.expired
    );
    let last = of_kind(&trace, "invoke").last().unwrap()["t_ms"]
        .as_u64()
        .unwrap();
    assert!(
        last > 26 * 3_600_000 - 5_000,
        "still invoking at the end: {last}"
    );
    assert_conservation(&sum);
}
