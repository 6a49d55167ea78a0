//! The built-in scenario library: `scenarios/*.yaml`, embedded in the binary so that
//! `kinesim run poison-pill` works from anywhere. Sorted by name.

// One entry per line, sorted; rustfmt would wrap the long ones.
#[rustfmt::skip]
const LIBRARY: &[(&str, &str)] = &[
    ("batch-timeout", include_str!("../../scenarios/batch-timeout.yaml")),
    ("batching-window-latency", include_str!("../../scenarios/batching-window-latency.yaml")),
    ("bisect-finds-the-poison", include_str!("../../scenarios/bisect-finds-the-poison.yaml")),
    ("blocked-parent", include_str!("../../scenarios/blocked-parent.yaml")),
    ("duplicates", include_str!("../../scenarios/duplicates.yaml")),
    ("hot-key", include_str!("../../scenarios/hot-key.yaml")),
    ("hot-shard", include_str!("../../scenarios/hot-shard.yaml")),
    ("invalid-item-identifier", include_str!("../../scenarios/invalid-item-identifier.yaml")),
    ("iterator-age-alarm", include_str!("../../scenarios/iterator-age-alarm.yaml")),
    ("latest-misses-records", include_str!("../../scenarios/latest-misses-records.yaml")),
    ("max-record-age", include_str!("../../scenarios/max-record-age.yaml")),
    ("more-shards-smaller-blast-radius", include_str!("../../scenarios/more-shards-smaller-blast-radius.yaml")),
    ("parallelization-factor", include_str!("../../scenarios/parallelization-factor.yaml")),
    ("partial-batch-response", include_str!("../../scenarios/partial-batch-response.yaml")),
    ("payload-cap", include_str!("../../scenarios/payload-cap.yaml")),
    ("poison-pill", include_str!("../../scenarios/poison-pill.yaml")),
    ("report-failures-ignored", include_str!("../../scenarios/report-failures-ignored.yaml")),
    ("retention-too-short", include_str!("../../scenarios/retention-too-short.yaml")),
    ("retries-then-dlq", include_str!("../../scenarios/retries-then-dlq.yaml")),
    ("scale-out-by-resharding", include_str!("../../scenarios/scale-out-by-resharding.yaml")),
    ("shards-vs-parallelization", include_str!("../../scenarios/shards-vs-parallelization.yaml")),
    ("steady", include_str!("../../scenarios/steady.yaml")),
    ("throttled-by-reserved-concurrency", include_str!("../../scenarios/throttled-by-reserved-concurrency.yaml")),
    ("too-many-consumers", include_str!("../../scenarios/too-many-consumers.yaml")),
    ("tumbling-window-without-state", include_str!("../../scenarios/tumbling-window-without-state.yaml")),
];

/// The topics of `kinesim scenarios`, in the order listed, each with its built-ins in
/// teaching order (the plain case first). Every built-in has exactly one topic.
pub const TOPICS: &[(&str, &[&str])] = &[
    ("Healthy baseline", &["steady"]),
    (
        "Errors and retries",
        &[
            "poison-pill",
            "retries-then-dlq",
            "max-record-age",
            "bisect-finds-the-poison",
            "retention-too-short",
            "duplicates",
        ],
    ),
    (
        "Partial batch responses",
        &[
            "partial-batch-response",
            "report-failures-ignored",
            "invalid-item-identifier",
        ],
    ),
    (
        "Throughput and batching",
        &[
            "hot-shard",
            "payload-cap",
            "batch-timeout",
            "batching-window-latency",
        ],
    ),
    (
        "Concurrency and scaling",
        &[
            "more-shards-smaller-blast-radius",
            "parallelization-factor",
            "throttled-by-reserved-concurrency",
        ],
    ),
    (
        "Resharding and read capacity",
        &[
            "scale-out-by-resharding",
            "blocked-parent",
            "hot-key",
            "shards-vs-parallelization",
            "too-many-consumers",
        ],
    ),
    (
        "Starting position and windows",
        &["latest-misses-records", "tumbling-window-without-state"],
    ),
    ("Monitoring", &["iterator-age-alarm"]),
];

/// The topic of the built-in scenario `name`, if it has one.
pub fn topic(name: &str) -> Option<&'static str> {
    TOPICS
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(topic, _)| *topic)
}

/// Every built-in scenario as (name, YAML text), sorted by name.
pub fn all() -> Vec<(&'static str, &'static str)> {
    let mut v = LIBRARY.to_vec();
    v.sort_by_key(|(name, _)| *name);
    v
}

/// The YAML text of the built-in scenario `name`.
pub fn get(name: &str) -> Option<&'static str> {
    LIBRARY.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The names, for messages.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|(n, _)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_is_sorted_and_unique() {
        let names: Vec<&str> = LIBRARY.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_builtin_has_exactly_one_topic() {
        for name in names() {
            let n = TOPICS
                .iter()
                .filter(|(_, names)| names.contains(&name))
                .count();
            assert_eq!(n, 1, "{name} is in {n} topics (add it to TOPICS)");
        }
    }

    #[test]
    fn every_topic_names_existing_builtins() {
        for (topic, names) in TOPICS {
            assert!(!names.is_empty(), "topic {topic:?} is empty");
            for name in *names {
                assert!(
                    get(name).is_some(),
                    "topic {topic:?} names {name:?}, not a built-in"
                );
            }
        }
        let mut topics: Vec<&str> = TOPICS.iter().map(|(t, _)| *t).collect();
        topics.sort_unstable();
        topics.dedup();
        assert_eq!(topics.len(), TOPICS.len(), "a topic is listed twice");
    }
}
