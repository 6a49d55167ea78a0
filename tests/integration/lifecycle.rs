//! The mapping's lifecycle: actions over time (R-POLL-2, R-POLL-3), settings updated
//! while running, retention changed.

use kinesim::scenario::*;
use kinesim::simulate;
use kinesim::time::SimTime;
use proptest::prelude::*;

use crate::arbitrary::arb_scenario;
use crate::support::*;

fn act(t: u64, kind: ActionKind) -> Action {
    Action { at: at(t), kind }
}

#[test]
fn r_poll_3_a_disabled_mapping_neither_polls_nor_invokes_and_resumes_from_its_checkpoint() {
    let mut s = base("pause", 1, secs(300));
    s.producers.push(rate("p", 10, 100, 10, at(300)));
    s.actions = vec![
        act(60, ActionKind::DisableMapping),
        act(120, ActionKind::EnableMapping),
    ];
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    let paused = invokes
        .iter()
        .filter(|i| (61_000..120_000).contains(&i["t_ms"].as_u64().unwrap()))
        .count();
    assert_eq!(paused, 0, "no invocation while disabled");
    // On re-enabling, the backlog of the pause is read from the checkpoint: nothing lost.
    assert_eq!(sum.records.written, 3000);
    assert!(sum.records.pending <= 10, "{:?}", sum.records);
    assert_eq!(
        sum.records.skipped, 0,
        "TRIM_HORIZON/LATEST apply only at the first enable"
    );
    assert!(
        sum.latency_ms.max >= 59_000,
        "the paused records waited: {}",
        sum.latency_ms.max
    );
    assert_eq!(sum.actions.len(), 2);
    assert_eq!(sum.actions[0].action, "disable_mapping");
    assert_eq!(sum.actions[0].outcome, "done");
    assert_conservation(&sum);
}

#[test]
fn r_poll_3_disabling_drops_a_failing_batch_which_is_read_again_later() {
    let mut s = base("pause-failing", 1, secs(200));
    s.producers.push(scripted("p", 3, at(0), secs(1), "x"));
    // Fails its first 8 deliveries only: 5 before the disable at 30 s, 3 after.
    s.function.behaviours.push(Behaviour::Poison {
        target: PoisonTarget::FirstAt {
            shard: None,
            at: at(1),
        },
        effect: Effect::Error,
        times: Some(8),
    });
    s.actions = vec![
        act(30, ActionKind::DisableMapping),
        act(100, ActionKind::EnableMapping),
    ];
    let (sum, trace) = run_traced(&s);
    assert_eq!(sum.records.delivered, 3);
    let ok = of_kind(&trace, "invoke")
        .into_iter()
        .filter(|i| i["outcome"] == "ok")
        .count();
    assert!(ok >= 2);
    let after = of_kind(&trace, "invoke")
        .into_iter()
        .filter(|i| i["t_ms"].as_u64().unwrap() >= 100_000)
        .count();
    assert!(
        after >= 1,
        "the dropped batch is read again after the enable"
    );
    assert_conservation(&sum);
}

#[test]
fn update_mapping_changes_batch_size_from_then_on() {
    let mut s = base("update", 1, secs(120));
    s.producers.push(rate("p", 200, 100, 10, at(120)));
    s.actions = vec![act(
        60,
        ActionKind::UpdateMapping(MappingUpdate {
            batch_size: Some(10),
            ..Default::default()
        }),
    )];
    let (sum, trace) = run_traced(&s);
    let before = of_kind(&trace, "invoke")
        .into_iter()
        .filter(|i| i["t_ms"].as_u64().unwrap() < 60_000)
        .map(|i| i["records"].as_u64().unwrap())
        .max();
    let after = of_kind(&trace, "invoke")
        .into_iter()
        .filter(|i| i["t_ms"].as_u64().unwrap() > 61_000)
        .map(|i| i["records"].as_u64().unwrap())
        .max();
    assert_eq!(before, Some(100));
    assert_eq!(after, Some(10));
    assert_eq!(sum.batch_records.max, 100);
}

#[test]
fn set_retention_moves_when_records_expire() {
    // A poison record at 0 blocks the shard; retention raised to 48 h at 1 h keeps it
    // (and what is behind it) alive past 24 h.
    let mut s = base(
        "retention",
        1,
        SimTime::from_secs(26 * 3600).saturating_since(SimTime::ZERO),
    );
    s.producers.push(scripted("p", 2, at(0), secs(10), "x"));
    s.function
        .behaviours
        .push(poison_first_at(None, at(0), Effect::Error));
    let (sum, _) = run_traced(&s);
    assert_eq!(sum.records.expired, 1);
    s.actions = vec![act(
        3600,
        ActionKind::SetRetention(kinesim::time::SimDuration::from_hours(48)),
    )];
    let (sum, _) = run_traced(&s);
    assert_eq!(sum.records.expired, 0);
    assert_eq!(sum.records.pending, 2);
}

/// Regression: a disable that lands while an invocation runs must not strand its lane.
#[test]
fn r_poll_3_a_lane_invoking_at_the_disable_goes_on_after_the_enable() {
    let mut s = base("disable-mid-invocation", 1, secs(300));
    s.producers.push(rate("p", 100, 100, 10, at(300)));
    s.function.timeout = secs(60);
    s.function.duration.base = secs(20);
    s.actions = vec![
        act(30, ActionKind::DisableMapping),
        act(60, ActionKind::EnableMapping),
    ];
    let (sum, _) = run_traced(&s);
    assert!(sum.invocations.total > 5, "{:?}", sum.invocations);
    assert!(sum.records.delivered > 1_000, "{:?}", sum.records);
    assert_conservation(&sum);
}

/// Regression: re-enabled while a batch runs, the mapping reads again from the checkpoint,
/// which that batch then passes: the lane's queue starts past the read position, so it is
/// empty, and the next batch waits for the next poll's read (a batch range once took the
/// gap for a queue of nearly 2^64 records and sent records nobody had read).
#[test]
fn r_poll_3_re_enabled_during_an_invocation_the_next_batch_comes_from_the_next_poll() {
    let mut s = base("re-enable-mid-invocation", 1, secs(30));
    s.producers.push(rate("p", 1_000, 100, 64, at(30)));
    s.mapping.batch_size = 100;
    s.function.timeout = secs(60);
    s.function.duration.base = ms(5_500);
    s.actions = vec![
        Action {
            at: SimTime::from_millis(5_400),
            kind: ActionKind::DisableMapping,
        },
        Action {
            at: SimTime::from_millis(5_600),
            kind: ActionKind::EnableMapping,
        },
    ];
    let (sum, trace) = run_traced(&s);
    let invokes = of_kind(&trace, "invoke");
    let t = |i: usize| invokes[i]["t_ms"].as_u64().unwrap();
    // The first batch went at the shard's first poll, so at its phase.
    let (phase, first_ended) = (t(0), t(0) + 5_500);
    let next_poll = phase + ((first_ended - phase) / 1_000 + 1) * 1_000;
    assert_eq!(t(1), next_poll, "{:?}", &invokes[..2]);
    // It holds the records after the first batch, which had been read before the disable.
    let seq = |i| kinesim::model::stream::sequence_number(0, i);
    assert_eq!(invokes[1]["first_seq"], seq(100).as_str());
    assert_eq!(invokes[1]["records"], 100);
    assert_conservation(&sum);
}

/// Regression: a disable before the mapping's (delayed) enable cancels that enable.
#[test]
fn r_poll_3_a_disable_cancels_an_enable_on_its_way() {
    let mut s = base("disable-before-enable", 1, secs(120));
    s.producers.push(rate("p", 10, 100, 10, at(120)));
    s.simulation.mapping_start_delay = secs(60);
    s.actions = vec![act(30, ActionKind::DisableMapping)];
    let sum = simulate(&s, None, Default::default()).unwrap();
    assert_eq!(sum.invocations.total, 0);
    assert_eq!(sum.records.pending, 1_200);
}

proptest! {
    #![proptest_config(crate::invariants::config(32))]

    /// R-POLL-3 on random scenarios: the mapping disabled and enabled again at random
    /// times (during invocations, retries and backlogs alike) still gives every record
    /// exactly one fate (I-1). Debug builds also check that no position arithmetic wraps
    /// (a queue starting past the read position once did).
    #[test]
    fn r_poll_3_random_pauses_keep_every_record_s_single_fate(
        mut s in arb_scenario(),
        pauses in proptest::collection::vec((0u64..1_000_000, 0u64..200_000), 1..4),
    ) {
        let pauses = pauses.iter().flat_map(|&(from, len)| {
            [
                (from, ActionKind::DisableMapping),
                ((from + len).min(1_000_000), ActionKind::EnableMapping),
            ]
        });
        conserved_with(&mut s, pauses);
    }

    /// The same for UpdateEventSourceMapping's BatchSize and for retention raised or
    /// lowered, at random times on random scenarios: every record keeps exactly one fate
    /// (I-1), whatever batch or trim was under way.
    #[test]
    fn batch_size_and_retention_changed_at_random_keep_every_record_s_single_fate(
        mut s in arb_scenario(),
        changes in proptest::collection::vec(
            (0u64..1_000_000, 1u32..600, 24u64..48, proptest::bool::ANY),
            1..4,
        ),
    ) {
        let changes = changes.iter().map(|&(at, batch_size, hours, retention)| {
            let kind = if retention {
                ActionKind::SetRetention(kinesim::time::SimDuration::from_hours(hours))
            } else {
                ActionKind::UpdateMapping(MappingUpdate {
                    batch_size: Some(batch_size),
                    ..MappingUpdate::default()
                })
            };
            (at, kind)
        });
        conserved_with(&mut s, changes);
    }

    /// Resharding at random times on random scenarios (R-RESHARD-1..3): a split, a merge
    /// of neighbours or a new shard count, whether AWS would accept it then or not (about
    /// half are done; a shard already closed, for one, cannot be split); every record
    /// keeps exactly one fate (I-1), in parents and children alike.
    #[test]
    fn resharding_at_random_keeps_every_record_s_single_fate(
        mut s in arb_scenario(),
        changes in proptest::collection::vec((0u64..1_000_000, 0u32..3, 0u32..8), 1..3),
    ) {
        let n = s.stream.shards;
        let id = kinesim::model::stream::shard_id;
        let changes = changes.iter().map(|&(at, kind, x)| {
                let kind = match kind {
                    0 => ActionKind::Split {
                        shard: id(x % n),
                        at_hash_key: None,
                    },
                    1 if n >= 2 => ActionKind::Merge {
                        shards: [id(x % (n - 1)), id(x % (n - 1) + 1)],
                    },
                    _ => ActionKind::UpdateShardCount {
                        target: n * (1 + x % 2),
                    },
                };
            (at, kind)
        });
        conserved_with(&mut s, changes);
    }
}

/// Runs `s` with `actions` at their times as fractions of the run (ppm) and requires
/// every record to keep exactly one fate (I-1).
fn conserved_with(s: &mut Scenario, actions: impl IntoIterator<Item = (u64, ActionKind)>) {
    let d = s.duration.0;
    s.actions = actions
        .into_iter()
        .map(|(ppm, kind)| Action {
            at: SimTime(d / 1_000_000 * ppm),
            kind,
        })
        .collect();
    s.actions.sort_by_key(|a| a.at);
    let sum = simulate(s, None, Default::default()).expect("the run completes");
    assert_conservation(&sum);
}
