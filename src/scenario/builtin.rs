//! The built-in scenario library: `scenarios/*.yaml`, embedded in the binary so that
//! `kinesim run poison-pill` works from anywhere. Sorted by name.

const LIBRARY: &[(&str, &str)] = &[
    (
        "batch-timeout",
        include_str!("../../scenarios/batch-timeout.yaml"),
    ),
    (
        "poison-pill",
        include_str!("../../scenarios/poison-pill.yaml"),
    ),
    ("steady", include_str!("../../scenarios/steady.yaml")),
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
