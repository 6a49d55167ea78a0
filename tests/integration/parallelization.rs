//! ParallelizationFactor: lanes by partition key (R-ORDER-2), a failing lane's reach
//! (R-ORDER-3), and the demand it puts on concurrency (R-CONC-1).

use std::collections::BTreeMap;

use kinesim::scenario::*;
use kinesim::time::{SimDuration, SimTime};
use kinesim::{Outputs, simulate};
use serde_json::Value;

use crate::support::*;

fn keys_of_lane_poisoned(pf: u32) -> (Scenario, String) {
    // 40 scripted records over 4 s, keys k0..k39; the poison is the record with key k3.
    let mut s = base("lanes", 1, secs(120));
    s.producers.push(scripted("p", 40, at(0), ms(100), "x"));
    s.mapping.parallelization_factor = pf;
    s.mapping.batch_size = 5;
    let key = "k3".to_string();
    s.function.behaviours.push(Behaviour::Poison {
        target: PoisonTarget::PartitionKey(key.clone()),
        effect: Effect::Error,
        times: None,
    });
    (s, key)
}

#[test]
fn r_order_2_a_shard_runs_up_to_pf_batches_at_once() {
    let mut s = base("pf", 1, secs(300));
    s.producers.push(rate("p", 900, 100, 1_000, at(300)));
    s.function.duration.base = ms(400);
    s.mapping.parallelization_factor = 4;
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.concurrency.max, 4);
    let lanes: std::collections::BTreeSet<u64> = of_kind(&trace, "invoke")
        .iter()
        .map(|i| i["lane"].as_u64().unwrap())
        .collect();
    assert_eq!(lanes.into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_conservation(&sum);
    // The same traffic with ParallelizationFactor 1 is one batch at a time.
    s.mapping.parallelization_factor = 1;
    let sum1 = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum1.concurrency.max, 1);
    assert!(sum.iterator_age_ms.p99 < sum1.iterator_age_ms.p99);
}

#[test]
fn r_order_2_order_holds_per_partition_key() {
    let mut s = base("pf-order", 1, secs(60));
    s.producers.push(scripted("p", 200, at(0), ms(50), "x"));
    // Keys repeat: k0..k199 are distinct, so give them 8 keys in turn instead.
    if let ProducerKind::Scripted(recs) = &mut s.producers[0].kind {
        for (i, r) in recs.iter_mut().enumerate() {
            r.partition_key = format!("key-{}", i % 8);
        }
    }
    s.mapping.parallelization_factor = 3;
    s.mapping.batch_size = 4;
    s.function.duration.base = ms(300);
    let events = Captured::default();
    let out = Outputs {
        events: Some(Box::new(events.clone())),
        ..Default::default()
    };
    let sum = simulate(&s, None, out).unwrap();
    assert_eq!(sum.records.delivered, 200);
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    let mut lane_of_key: BTreeMap<String, usize> = BTreeMap::new();
    for (n, line) in events.text().lines().enumerate() {
        let e: Value = serde_json::from_str(line).unwrap();
        for r in e["Records"].as_array().unwrap() {
            let key = r["kinesis"]["partitionKey"].as_str().unwrap().to_string();
            let seq = r["kinesis"]["sequenceNumber"].as_str().unwrap().to_string();
            if let Some(prev) = last.get(&key) {
                assert!(seq > *prev, "R-ORDER-2: {key} out of order in event {n}");
            }
            last.insert(key.clone(), seq);
            lane_of_key.entry(key).or_insert(n);
        }
    }
    assert_eq!(last.len(), 8);
}

#[test]
fn r_order_2_a_single_partition_key_gets_no_speed_up() {
    let mut s = base("pf-one-key", 1, secs(120));
    s.producers.push(rate("p", 500, 100, 1, at(120)));
    s.function.duration.base = ms(400);
    s.mapping.parallelization_factor = 10;
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.concurrency.max, 1, "one key, one lane");
}

#[test]
fn r_order_3_a_failing_lane_blocks_only_itself_by_default() {
    let (s, _) = keys_of_lane_poisoned(4);
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    let first_error = invokes.iter().find(|i| i["outcome"] == "error").unwrap();
    let (failing_lane, failed_at) = (
        first_error["lane"].clone(),
        first_error["t_ms"].as_u64().unwrap(),
    );
    // While the poisoned lane retries, the other lanes go on with their later records.
    let ok_elsewhere_after = invokes
        .iter()
        .filter(|i| {
            i["lane"] != failing_lane
                && i["outcome"] == "ok"
                && i["t_ms"].as_u64().unwrap() > failed_at
        })
        .count();
    assert!(
        ok_elsewhere_after > 0,
        "the other lanes were held by the failing one"
    );
    // Every record of the other lanes is delivered; the poisoned lane holds its own.
    let delivered = sum.records.delivered;
    assert!(delivered >= 25, "{delivered}");
    assert!(sum.records.pending > 0);
    assert_conservation(&sum);
    // lane_blocking: shard holds every lane while one fails.
    let (mut s, _) = keys_of_lane_poisoned(4);
    s.simulation.lane_blocking = LaneBlocking::Shard;
    let (held, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    let failed_at = invokes.iter().find(|i| i["outcome"] == "error").unwrap()["t_ms"]
        .as_u64()
        .unwrap();
    let ok_after = invokes
        .iter()
        .filter(|i| i["outcome"] == "ok" && i["t_ms"].as_u64().unwrap() > failed_at)
        .count();
    assert_eq!(
        ok_after, 0,
        "with shard blocking no lane goes on while one fails"
    );
    assert!(
        held.records.delivered < delivered,
        "{} < {delivered}",
        held.records.delivered
    );
    assert_conservation(&held);
}

#[test]
fn r_order_3_after_a_restart_healthy_lanes_read_again_from_the_shard_checkpoint() {
    let (mut s, _) = keys_of_lane_poisoned(2);
    s.actions = vec![
        Action {
            at: at(30),
            kind: ActionKind::DisableMapping,
        },
        Action {
            at: at(40),
            kind: ActionKind::EnableMapping,
        },
    ];
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert!(
        sum.records.duplicates > 0,
        "records of the healthy lane are processed again"
    );
    assert!(sum.records.redeliveries > 0);
    assert_conservation(&sum);
    let _ = SimTime::ZERO;
}

/// Regression: with lanes held shard-wide, retention can move an idle lane's checkpoint
/// past the shard's read position while another lane's last retry is in flight; that lane's
/// queue is then empty, not a gap of nearly 2^64 records (a batch range once took it for
/// one and sent records of the other lane that nobody had read).
#[test]
fn r_order_3_retention_moving_a_held_lane_past_the_reads_leaves_its_queue_empty() {
    let mut s = base("held-lane-expires", 1, secs(25 * 3600));
    s.producers.push(rate("p", 2, 100, 64, at(25 * 3600)));
    s.mapping.parallelization_factor = 2;
    s.mapping.batch_size = 10;
    s.simulation.lane_blocking = LaneBlocking::Shard;
    s.simulation.retry_backoff_initial = secs(1);
    s.simulation.retry_backoff_max = secs(1);
    s.simulation.sample_every = secs(600);
    s.function.timeout = secs(900);
    s.function.duration.base = SimDuration::ZERO;
    s.function.duration.per_record = secs(10);
    s.function
        .behaviours
        .push(poison_first_at(Some(0), at(60), Effect::Error));
    let (sum, trace) = run_traced(&s);
    assert!(
        sum.records.expired > 0,
        "the retention must act: {:?}",
        sum.records
    );
    // Every batch holds records of its own lane that were read: 100 bytes each.
    for i in of_kind(&trace, "invoke") {
        assert_eq!(i["bytes"], i["records"].as_u64().unwrap() * 100, "{i}");
    }
    assert_conservation(&sum);
}
