//! Resharding (R-RESHARD-1..4) and lineage (I-4): the AWS limits, the new shards'
//! ids and ranges, writes to open shards only, closed parents draining, and children
//! waiting for their parents.

use kinesim::model::stream::HashRange;
use kinesim::scenario::*;
use kinesim::time::SimDuration;
use kinesim::{Outputs, World, simulate};

use crate::support::*;

fn act(t: u64, kind: ActionKind) -> Action {
    Action { at: at(t), kind }
}

fn split(t: u64, shard: &str) -> Action {
    act(
        t,
        ActionKind::Split {
            shard: shard.into(),
            at_hash_key: None,
        },
    )
}

fn scale(t: u64, target: u32) -> Action {
    act(t, ActionKind::UpdateShardCount { target })
}

#[test]
fn r_reshard_1_a_split_closes_the_shard_and_opens_two_children_at_its_midpoint() {
    let mut s = base("split", 2, secs(300));
    s.producers.push(rate("p", 100, 100, 1000, at(300)));
    s.actions = vec![split(60, "shardId-000000000000")];
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.actions[0].outcome, "done");
    // R-RESHARD-4: one step of 30 s.
    assert_eq!(sum.actions[0].completed_ms, Some(90_000));
    let ids: Vec<&str> = sum.shards.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002",
            "shardId-000000000003"
        ],
        "R-RESHARD-2: new ids continue the sequence"
    );
    assert_eq!(sum.shards[0].open_ms, (0, Some(90_000)));
    assert_eq!(sum.shards[1].open_ms, (0, None));
    for child in &sum.shards[2..] {
        assert_eq!(child.parents, ["shardId-000000000000"]);
        assert_eq!(child.open_ms, (90_000, None));
    }
    let reshard = of_kind(&trace, "reshard");
    assert_eq!(reshard.len(), 1);
    assert_eq!(reshard[0]["t_ms"], 90_000);
    assert_eq!(
        reshard[0]["closed"],
        serde_json::json!(["shardId-000000000000"])
    );
    assert_eq!(
        reshard[0]["opened"],
        serde_json::json!(["shardId-000000000002", "shardId-000000000003"])
    );
    // The children split the parent's range at its midpoint.
    let world = finished_world(&s);
    let parent = HashRange::even(2)[0];
    let mid = parent.start + (parent.end - parent.start) / 2 + 1;
    assert_eq!(
        world.shards()[2].range,
        HashRange {
            start: parent.start,
            end: mid - 1
        }
    );
    assert_eq!(
        world.shards()[3].range,
        HashRange {
            start: mid,
            end: parent.end
        }
    );
    assert_conservation(&sum);
}

fn finished_world(s: &Scenario) -> World {
    let mut w = World::new(s, Outputs::default());
    w.run().unwrap();
    w
}

#[test]
fn r_reshard_2_writes_go_to_open_shards_only_and_the_traffic_is_unchanged() {
    let mut s = base("writes", 2, secs(300));
    s.producers.push(rate("p", 100, 100, 1000, at(300)));
    let before = simulate(&s, None, Default::default()).unwrap();
    s.actions = vec![split(60, "shardId-000000000000")];
    let after = simulate(&s, None, Default::default()).unwrap();
    // The same records are written whatever the shards (R-TRAFFIC-1).
    assert_eq!(after.records.written, before.records.written);
    // The parent took writes until it closed at 90 s, then none: about 90 s of half
    // the traffic (50/s), give or take the key routing.
    let parent = after.shards[0].records.written;
    assert!((3_500..=5_500).contains(&parent), "parent wrote {parent}");
    // Its children took the rest of its half.
    let children = after.shards[2].records.written + after.shards[3].records.written;
    assert_eq!(
        parent + children,
        before.shards[0].records.written,
        "the parent's hash range keeps its keys: parent + children = the unsplit shard"
    );
    assert_eq!(
        after.shards[1].records.written,
        before.shards[1].records.written
    );
    assert_conservation(&after);
    // Whatever the schedule, the same traffic: each slot's arrivals are a progression
    // whose count is rounded up at the end of the run, so the totals may differ by
    // less than one record per open shard, never more (without continuing the
    // progressions, each resharding added up to one record per new shard). Each total
    // is within one record per open shard above the exact count: they differ by less
    // than the larger number of open shards.
    for actions in [
        vec![scale(61, 3)],
        vec![scale(7, 4), split(200, "shardId-000000000003")],
        vec![act(
            33,
            ActionKind::Merge {
                shards: ["shardId-000000000000".into(), "shardId-000000000001".into()],
            },
        )],
    ] {
        s.actions = actions;
        let resharded = simulate(&s, None, Default::default()).unwrap();
        let open = resharded
            .shards
            .iter()
            .filter(|sh| sh.open_ms.1.is_none())
            .count() as u64;
        assert!(
            resharded.records.written.abs_diff(before.records.written) < open.max(2),
            "{:?}: {} written, {} without resharding",
            s.actions,
            resharded.records.written,
            before.records.written
        );
    }
}

#[test]
fn r_reshard_1_merge_needs_adjacent_open_shards_and_opens_one_child_over_both() {
    let mut s = base("merge", 4, secs(200));
    s.producers.push(rate("p", 40, 100, 1000, at(200)));
    s.actions = vec![
        act(
            10,
            ActionKind::Merge {
                shards: ["shardId-000000000000".into(), "shardId-000000000002".into()],
            },
        ),
        act(
            20,
            ActionKind::Merge {
                shards: ["shardId-000000000002".into(), "shardId-000000000003".into()],
            },
        ),
    ];
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.actions[0].outcome, "rejected");
    let reason = sum.actions[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("InvalidArgumentException"), "{reason}");
    assert!(reason.contains("not adjacent"), "{reason}");
    assert_eq!(sum.actions[1].outcome, "done");
    assert_eq!(sum.shards.len(), 5);
    assert_eq!(
        sum.shards[4].parents,
        ["shardId-000000000002", "shardId-000000000003"]
    );
    let world = finished_world(&s);
    let even = HashRange::even(4);
    assert_eq!(
        world.shards()[4].range,
        HashRange {
            start: even[2].start,
            end: even[3].end
        }
    );
    assert_conservation(&sum);
}

#[test]
fn r_reshard_1_update_shard_count_limits_are_rejected_with_the_aws_reason_and_the_run_goes_on() {
    let mut s = base("limits", 2, secs(3 * 3600));
    s.producers.push(rate("p", 10, 100, 100, at(3 * 3600)));
    s.actions = vec![
        scale(60, 5),                       // more than double 2
        scale(120, 4),                      // accepted: 2 splits, 60 s
        scale(150, 8),                      // the stream is UPDATING until 180 s
        scale(600, 1),                      // less than half of 4
        split(700, "shardId-000000000000"), // closed by the scaling
        split(710, "shardId-000000000099"), // no such shard
    ];
    let (sum, trace) = run_traced(&s);
    let outcome: Vec<(&str, Option<&str>)> = sum
        .actions
        .iter()
        .map(|a| {
            (
                a.outcome.as_str(),
                a.reason.as_deref().map(|r| r.split(':').next().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            ("rejected", Some("LimitExceededException")),
            ("done", None),
            ("rejected", Some("ResourceInUseException")),
            ("rejected", Some("LimitExceededException")),
            ("rejected", Some("InvalidArgumentException")),
            ("rejected", Some("ResourceNotFoundException")),
        ]
    );
    assert_eq!(
        sum.actions[1].completed_ms,
        Some(180_000),
        "2 steps of 30 s"
    );
    assert!(sum.actions[0].reason.as_deref().unwrap().contains("double"));
    assert!(sum.actions[3].reason.as_deref().unwrap().contains("half"));
    // Each rejection is in the trace too, and the run went on.
    let rejected = of_kind(&trace, "reshard")
        .into_iter()
        .filter(|l| l.get("rejected").is_some())
        .count();
    assert_eq!(rejected, 5);
    assert_eq!(sum.shards.len(), 6, "2 closed + 4 opened");
    assert_eq!(sum.simulated_ms, 3 * 3600 * 1000);
    assert_conservation(&sum);
}

#[test]
fn r_reshard_1_at_most_ten_update_shard_count_calls_per_rolling_day() {
    let mut s = base("eleven", 1, secs(26 * 3600));
    s.producers.push(rate("p", 1, 100, 10, at(60)));
    // Up and down, each an hour apart: the 11th within 24 h is refused, the 12th (more
    // than 24 h after the first) is accepted.
    let mut actions: Vec<Action> = (0..11)
        .map(|i| scale(3600 * i + 10, if i % 2 == 0 { 2 } else { 1 }))
        .collect();
    actions.push(scale(24 * 3600 + 20, 2));
    s.actions = actions;
    let sum = simulate(&s, None, Default::default()).unwrap();
    let outcomes: Vec<&str> = sum.actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(&outcomes[..10], ["done"; 10]);
    assert_eq!(outcomes[10], "rejected");
    assert!(
        sum.actions[10]
            .reason
            .as_deref()
            .unwrap()
            .contains("24 hours")
    );
    assert_eq!(outcomes[11], "done");
}

#[test]
fn r_reshard_1_update_shard_count_opens_even_ranges_whose_parents_are_the_overlapping_shards() {
    let mut s = base("three-to-two", 3, secs(600));
    s.producers.push(rate("p", 30, 100, 1000, at(600)));
    s.actions = vec![scale(60, 2)];
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(
        sum.actions[0].completed_ms,
        Some(90_000),
        "one merge: one step"
    );
    assert_eq!(
        sum.shards[3].parents,
        ["shardId-000000000000", "shardId-000000000001"]
    );
    assert_eq!(
        sum.shards[4].parents,
        ["shardId-000000000001", "shardId-000000000002"]
    );
    let world = finished_world(&s);
    assert_eq!(world.shards()[3].range, HashRange::even(2)[0]);
    assert_eq!(world.shards()[4].range, HashRange::even(2)[1]);
    assert_conservation(&sum);
}

#[test]
fn r_reshard_3_a_poison_in_the_parent_holds_its_children_back_until_it_expires() {
    let mut s = base("blocked-parent", 2, secs(3 * 3600));
    s.stream.retention = SimDuration::from_hours(1);
    s.producers.push(rate("p", 20, 100, 1000, at(3 * 3600)));
    s.function
        .behaviours
        .push(poison_first_at(Some(0), at(30), Effect::Error));
    s.actions = vec![split(60, "shardId-000000000000")];
    let (sum, trace) = run_traced(&s);
    // The children of shard 0 waited for the poison batch to expire (about 1 h after
    // it was written), then read their backlog.
    for child in &sum.shards[2..] {
        let waited = child.waiting_for_parents_ms;
        assert!(
            (3_400_000..=3_700_000).contains(&waited),
            "{} waited {waited} ms",
            child.id
        );
        assert!(child.records.delivered > 0);
        assert!(
            child.iterator_age_ms.max >= 3_000_000,
            "the child's first batches are old: {}",
            child.iterator_age_ms.max
        );
    }
    // The other shard was never held (I-3).
    assert_eq!(sum.shards[1].waiting_for_parents_ms, 0);
    assert!(sum.shards[1].iterator_age_ms.max < 2_000);
    let lineage = of_kind(&trace, "lineage");
    assert_eq!(lineage.len(), 2);
    assert!(sum.shards[0].records.expired > 0);
    assert_conservation(&sum);
}

#[test]
fn r_reshard_3_a_healthy_parent_drains_and_its_children_follow_within_a_second() {
    let mut s = base("healthy", 1, secs(600));
    s.producers.push(rate("p", 50, 100, 1000, at(600)));
    s.actions = vec![split(60, "shardId-000000000000")];
    let sum = simulate(&s, None, Default::default()).unwrap();
    for child in &sum.shards[1..] {
        assert!(
            child.waiting_for_parents_ms <= 2_000,
            "{} waited {}",
            child.id,
            child.waiting_for_parents_ms
        );
    }
    assert_eq!(
        sum.records.pending + sum.records.delivered,
        sum.records.written
    );
    assert!(sum.records.pending < 100);
}

/// I-4 over random reshard schedules, checked on the world's state after every event:
/// a child shard has no deliveries before every parent is closed and has given every
/// record its fate.
#[test]
fn i_4_lineage_holds_over_random_reshard_schedules() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(crate::invariants::config(24));
    let schedule = (
        1u32..4,
        proptest::collection::vec((0u64..1200, 0u32..3, 0u32..12), 1..6),
        any::<bool>(),
        1u32..3,
    );
    runner
        .run(&schedule, |(shards, steps, poison, pf)| {
            let mut s = base("lineage", shards, secs(1800));
            s.stream.retention = SimDuration::from_hours(24);
            s.mapping.parallelization_factor = pf;
            s.producers.push(rate("p", 30, 100, 500, at(1800)));
            s.function.duration.base = ms(200);
            if poison {
                s.function.behaviours.push(Behaviour::Poison {
                    target: PoisonTarget::FirstAt {
                        shard: None,
                        at: at(100),
                    },
                    effect: Effect::Error,
                    times: Some(20),
                });
            }
            s.actions = steps
                .iter()
                .map(|&(t, kind, n)| match kind {
                    0 => split(t, &format!("shardId-{n:012}")),
                    1 => act(
                        t,
                        ActionKind::Merge {
                            shards: [format!("shardId-{n:012}"), format!("shardId-{:012}", n + 1)],
                        },
                    ),
                    _ => scale(t, n % 6 + 1),
                })
                .collect();
            s.actions.sort_by_key(|a| a.at);
            let mut w = World::new(&s, Outputs::default());
            while w.step().unwrap().is_some() {
                for child in w.shards().iter().filter(|c| !c.parents.is_empty()) {
                    if child.metrics.records.deliveries == 0 {
                        continue;
                    }
                    for &p in &child.parents {
                        let parent = &w.shards()[p as usize];
                        prop_assert!(parent.closed_at.is_some());
                        prop_assert!(
                            parent.checkpoint() >= parent.log.next_index(),
                            "{} delivered before its parent {} finished",
                            child.id,
                            parent.id
                        );
                    }
                }
            }
            w.finish().unwrap();
            let sum = kinesim::Summary::of(&w, None);
            prop_assert_eq!(sum.records.written, sum.records.fates());
            Ok(())
        })
        .unwrap();
}

#[test]
fn r_window_2_a_tumbling_window_closes_with_its_shard_and_children_start_fresh() {
    let mut s = base("window-reshard", 1, secs(400));
    s.mapping.tumbling_window = secs(120);
    s.producers.push(rate("p", 10, 100, 100, at(400)));
    // Closes at 90 s, in the middle of the window [0, 120 s).
    s.actions = vec![split(60, "shardId-000000000000")];
    let (sum, trace) = run_traced(&s);
    // The parent's open window ends with a final invocation once it is read to its end,
    // before 120 s; its children then start.
    let invokes = of_kind(&trace, "invoke");
    let parent_last = invokes
        .iter()
        .filter(|i| i["shard"] == "shardId-000000000000")
        .map(|i| i["t_ms"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        parent_last < 120_000,
        "the parent's last invocation at {parent_last}"
    );
    for child in &sum.shards[1..] {
        assert!(
            child.waiting_for_parents_ms < 30_000,
            "{}",
            child.waiting_for_parents_ms
        );
        assert!(child.records.delivered > 0);
    }
    assert_eq!(sum.invocations.errors, 0);
    assert_conservation(&sum);
}
