//! Which accepted settings the model does not simulate yet.
//!
//! A scenario may use every setting of the file format; those the model does not act on
//! yet become lines of `Scenario::not_simulated` (and so of the run's `assumptions`), so
//! a result is never silently wrong. When a feature lands in the model, delete its line
//! here.

use super::types::*;

/// The settings of `s` that are accepted but not simulated yet, as
/// `"<path>: not simulated yet"` lines.
pub fn not_simulated_notes(s: &Scenario) -> Vec<String> {
    let mut notes = Vec::new();
    let mut ignored = Vec::new();
    let mut note = |path: &str| notes.push(format!("{path}: not simulated yet"));
    let m = &s.mapping;

    if s.actions.iter().any(
        |a| matches!(&a.kind, ActionKind::UpdateMapping(u) if u.parallelization_factor.is_some()),
    ) {
        note("actions update_mapping.ParallelizationFactor");
    }
    for (i, p) in s.producers.iter().enumerate() {
        if let ProducerKind::Rate(r) = &p.kind
            && r.filter_pass < PPM_ONE
            && m.filter_patterns.is_empty()
        {
            // The share passing FilterCriteria means nothing without FilterCriteria.
            ignored.push(format!(
                "producers[{i}].filter_pass: ignored without event_source_mapping.FilterCriteria"
            ));
        }
    }
    let has_rate_producer = s
        .producers
        .iter()
        .any(|p| matches!(p.kind, ProducerKind::Rate(_)));
    for (i, b) in s.function.behaviours.iter().enumerate() {
        if has_rate_producer
            && matches!(
                b,
                Behaviour::Poison {
                    target: PoisonTarget::PartitionKey(_),
                    ..
                }
            )
        {
            // The model poisons scripted records by key; a rate producer's keys are not
            // individual records yet.
            note(&format!(
                "function.behaviours[{i}].poison.partition_key on a rate producer's keys"
            ));
        }
    }
    notes.extend(ignored);
    notes
}

/// Settings with no place in the typed `Scenario` at all: read, checked, and ignored.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AcceptedOnly {
    pub metrics_config: bool,
    pub kms_key: bool,
    pub tags: bool,
}

pub(crate) fn accepted_only_notes(a: &AcceptedOnly) -> Vec<String> {
    let mut notes = Vec::new();
    let mut note = |given: bool, path: &str| {
        if given {
            notes.push(format!("{path}: not simulated yet"));
        }
    };
    note(a.metrics_config, "event_source_mapping.MetricsConfig");
    note(a.kms_key, "event_source_mapping.KMSKeyArn");
    note(a.tags, "event_source_mapping.Tags");
    notes
}
