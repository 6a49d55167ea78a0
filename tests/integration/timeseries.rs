//! The time series (`Outputs::timeseries`): one row per shard per sample, whose interval
//! counts add up to the summary's totals and whose states tell a shard's story.

use kinesim::observe::timeseries::ShardState;
use kinesim::scenario::*;
use kinesim::{Outputs, World};

use crate::support::*;

fn run_with_series(
    s: &Scenario,
) -> (
    kinesim::Summary,
    Vec<kinesim::observe::timeseries::ShardSample>,
) {
    let mut w = World::new(
        s,
        Outputs {
            timeseries: true,
            ..Default::default()
        },
    );
    w.run().unwrap();
    (kinesim::Summary::of(&w, None), w.timeseries().to_vec())
}

#[test]
fn interval_counts_add_up_to_the_totals_and_pending_matches_at_the_end() {
    let mut s = poison_pill(secs(2 * 3600));
    s.simulation.sample_every = secs(60);
    let (sum, rows) = run_with_series(&s);
    assert_eq!(rows.len(), 4 * 120, "4 shards × 120 samples");
    for (i, sh) in sum.shards.iter().enumerate() {
        let mine: Vec<_> = rows.iter().filter(|r| r.shard == i as u32).collect();
        let total = |f: fn(&&kinesim::observe::timeseries::ShardSample) -> u64| -> u64 {
            mine.iter().map(f).sum()
        };
        assert_eq!(total(|r| r.written), sh.records.written, "{}", sh.id);
        assert_eq!(total(|r| r.delivered), sh.records.delivered, "{}", sh.id);
        assert_eq!(total(|r| r.invocations), sh.invocations.total, "{}", sh.id);
        assert_eq!(
            mine.last().unwrap().pending,
            sh.records.pending,
            "{}",
            sh.id
        );
        assert_eq!(mine.last().unwrap().t_ms, 7_200_000);
    }
}

#[test]
fn states_show_the_poisoned_shard_failing_and_the_others_processing() {
    let (_, rows) = run_with_series(&poison_pill(secs(3600)));
    let state_at = |shard: u32, t_ms: u64| {
        rows.iter()
            .find(|r| r.shard == shard && r.t_ms == t_ms)
            .unwrap()
            .state
    };
    // The poison is written at 10m: failing from then on.
    assert_eq!(state_at(0, 300_000), ShardState::Processing);
    assert_eq!(state_at(0, 1_800_000), ShardState::Failing);
    assert_eq!(state_at(1, 1_800_000), ShardState::Processing);
    let failing = rows
        .iter()
        .filter(|r| r.shard == 0 && r.state == ShardState::Failing)
        .count();
    assert!((49..=51).contains(&failing), "{failing} failing minutes");
    // Its backlog grows every minute while the others stay near zero.
    let pending = |shard: u32, t_ms: u64| {
        rows.iter()
            .find(|r| r.shard == shard && r.t_ms == t_ms)
            .unwrap()
            .pending
    };
    assert!(pending(0, 3_600_000) > pending(0, 1_800_000) + 100_000);
    assert!(pending(1, 3_600_000) < 1_000);
}

#[test]
fn states_show_children_waiting_for_their_parent_and_the_parent_closed() {
    let mut s = base("lineage-states", 1, secs(1800));
    s.producers.push(rate("p", 20, 100, 100, at(1800)));
    s.function.behaviours.push(Behaviour::Poison {
        target: PoisonTarget::FirstAt {
            shard: None,
            at: at(30),
        },
        effect: Effect::Error,
        times: Some(20),
    });
    s.actions = vec![Action {
        at: at(60),
        kind: ActionKind::Split {
            shard: "shardId-000000000000".into(),
            at_hash_key: None,
        },
    }];
    let (_, rows) = run_with_series(&s);
    let states = |shard: u32| -> Vec<ShardState> {
        rows.iter()
            .filter(|r| r.shard == shard)
            .map(|r| r.state)
            .collect()
    };
    // Children exist from their first sample after 90 s; they wait while the parent
    // fails, then process; the parent ends closed.
    let child = states(1);
    assert_eq!(child.first(), Some(&ShardState::WaitingForParents));
    assert_eq!(child.last(), Some(&ShardState::Processing));
    let parent = states(0);
    assert!(parent.contains(&ShardState::Failing));
    assert_eq!(parent.last(), Some(&ShardState::Closed));
    assert!(
        rows.iter()
            .filter(|r| r.shard == 1)
            .all(|r| r.t_ms >= 90_000)
    );
}
