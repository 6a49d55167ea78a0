//! The built-in scenario library: `scenarios/*.yaml`, embedded in the binary so that
//! `kinesim run poison-pill` works from anywhere. Sorted by name.

const LIBRARY: &[(&str, &str)] = &[
    (
        "batch-timeout",
        include_str!("../../scenarios/batch-timeout.yaml"),
    ),
    (
        "batching-window-latency",
        include_str!("../../scenarios/batching-window-latency.yaml"),
    ),
    (
        "bisect-finds-the-poison",
        include_str!("../../scenarios/bisect-finds-the-poison.yaml"),
    ),
    (
        "invalid-item-identifier",
        include_str!("../../scenarios/invalid-item-identifier.yaml"),
    ),
    (
        "latest-misses-records",
        include_str!("../../scenarios/latest-misses-records.yaml"),
    ),
    (
        "max-record-age",
        include_str!("../../scenarios/max-record-age.yaml"),
    ),
    (
        "parallelization-factor",
        include_str!("../../scenarios/parallelization-factor.yaml"),
    ),
    (
        "partial-batch-response",
        include_str!("../../scenarios/partial-batch-response.yaml"),
    ),
    (
        "poison-pill",
        include_str!("../../scenarios/poison-pill.yaml"),
    ),
    (
        "report-failures-ignored",
        include_str!("../../scenarios/report-failures-ignored.yaml"),
    ),
    (
        "retention-too-short",
        include_str!("../../scenarios/retention-too-short.yaml"),
    ),
    (
        "retries-then-dlq",
        include_str!("../../scenarios/retries-then-dlq.yaml"),
    ),
    ("steady", include_str!("../../scenarios/steady.yaml")),
    (
        "throttled-by-reserved-concurrency",
        include_str!("../../scenarios/throttled-by-reserved-concurrency.yaml"),
    ),
    (
        "tumbling-window-without-state",
        include_str!("../../scenarios/tumbling-window-without-state.yaml"),
    ),
];

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
