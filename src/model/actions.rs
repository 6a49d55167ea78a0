//! What an operator does over time (the scenario's `actions`): enabling and disabling
//! the mapping (R-POLL-2, R-POLL-3), updating its settings, changing the retention.
//! Every action is recorded with its outcome for the summary.
//!
//! Resharding actions are requests to `reshard.rs`.

use serde::Serialize;
use serde_json::json;

use crate::model::event::Event;
use crate::model::mapping::LaneState;
use crate::model::world::World;
use crate::scenario::{ActionKind, MappingUpdate, StartingPosition};
use crate::time::SimTime;

/// One action and what came of it (design.md §6.1 `actions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActionOutcome {
    pub at_ms: u64,
    pub action: String,
    /// `done`, `rejected`, or `in progress` for a resharding the run ended during.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When a resharding completed (the new shards opened, R-RESHARD-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_ms: Option<u64>,
}

fn describe(kind: &ActionKind) -> String {
    match kind {
        ActionKind::Split { shard, .. } => format!("split {shard}"),
        ActionKind::Merge { shards } => format!("merge {} {}", shards[0], shards[1]),
        ActionKind::UpdateShardCount { target } => format!("update_shard_count {target}"),
        ActionKind::DisableMapping => "disable_mapping".into(),
        ActionKind::EnableMapping => "enable_mapping".into(),
        ActionKind::UpdateMapping(_) => "update_mapping".into(),
        ActionKind::SetRetention(d) => format!("set_retention {d}"),
    }
}

impl World {
    pub(crate) fn action(&mut self, index: usize) {
        let now = self.now();
        let Some(action) = self.scenario.actions.get(index).cloned() else {
            return;
        };
        let what = describe(&action.kind);
        if action.kind.is_reshard() {
            self.reshard_action(&action.kind, what);
            return;
        }
        match &action.kind {
            ActionKind::DisableMapping => self.disable_mapping(),
            ActionKind::EnableMapping => self.request_enable(),
            ActionKind::UpdateMapping(u) => self.update_mapping(u),
            ActionKind::SetRetention(d) => {
                // Decreasing retention may trim at once; the next poll or sample does it.
                self.scenario.stream.retention = *d;
            }
            ActionKind::Split { .. }
            | ActionKind::Merge { .. }
            | ActionKind::UpdateShardCount { .. } => unreachable!("handled above"),
        }
        let outcome = "done";
        self.trace
            .line(now, "action", || json!({"what": what, "outcome": outcome}));
        self.action_log.push(ActionOutcome {
            at_ms: now.as_millis(),
            action: what,
            outcome: outcome.into(),
            reason: None,
            completed_ms: None,
        });
    }

    /// UpdateEventSourceMapping: the members given take effect from now on; a
    /// ParallelizationFactor change is not simulated yet (lanes are fixed at the start).
    fn update_mapping(&mut self, u: &MappingUpdate) {
        let m = &mut self.scenario.mapping;
        if let Some(v) = u.batch_size {
            m.batch_size = v;
        }
        if let Some(v) = u.batching_window {
            m.batching_window = v;
        }
        if let Some(v) = u.max_retry_attempts {
            m.max_retry_attempts = v;
        }
        if let Some(v) = u.max_record_age {
            m.max_record_age = v;
        }
        if let Some(v) = u.bisect_on_error {
            m.bisect_on_error = v;
        }
        if let Some(v) = u.report_batch_item_failures {
            m.report_batch_item_failures = v;
        }
        if let Some(v) = u.tumbling_window {
            m.tumbling_window = v;
        }
        if let Some(v) = &u.on_failure {
            m.on_failure = v.clone();
            // One request-id stream for the whole run: a new destination changes the kind,
            // never restarts the ids (I-5 and unique ids).
            if let Some(d) = v {
                match self.destinations.as_mut() {
                    Some(existing) => existing.set_kind(d.kind),
                    None => {
                        let (seed, ctx) = (self.scenario.seed, &self.ctx);
                        self.destinations = Some(crate::model::destination::Destinations::new(
                            seed,
                            d.kind,
                            &ctx.function_arn,
                            &ctx.stream_arn,
                        ));
                    }
                }
            }
        }
        match u.enabled {
            Some(false) => self.disable_mapping(),
            Some(true) => self.request_enable(),
            None => {}
        }
    }

    /// An enable request: the mapping becomes Enabled after `mapping_start_delay` (R-POLL-2).
    fn request_enable(&mut self) {
        if !self.mapping_enabled {
            // A newer request (or a disable) makes any pending one stale.
            self.enable_generation = self.enable_generation.wrapping_add(1);
            let at = self.now() + self.scenario.simulation.mapping_start_delay;
            self.engine.schedule(
                at,
                Event::MappingEnabled {
                    generation: self.enable_generation,
                },
            );
        }
    }

    /// The mapping becomes Enabled. The first time, LATEST and AT_TIMESTAMP skip what came
    /// before (R-POLL-2); later, it resumes from its checkpoints (R-POLL-3).
    pub(crate) fn enable_mapping(&mut self, generation: u32) {
        let now = self.now();
        if self.mapping_enabled || generation != self.enable_generation {
            return;
        }
        self.mapping_enabled = true;
        self.trace
            .line(now, "action", || json!({"what": "mapping enabled"}));
        if std::mem::replace(&mut self.positioned, true) {
            return;
        }
        let cutoff = match self.scenario.mapping.starting_position {
            StartingPosition::TrimHorizon => return,
            StartingPosition::Latest => now,
            StartingPosition::AtTimestamp(ts) => ts,
        };
        for shard in &mut self.shards {
            let from = shard.checkpoint().max(shard.log.head());
            let idx = if cutoff == SimTime::ZERO {
                from
            } else {
                shard.log.arrived_prefix_end(from, SimTime(cutoff.0 - 1))
            };
            for lane in &mut shard.lanes {
                if idx > lane.fated {
                    shard.metrics.records.skipped +=
                        shard.log.count_lane_all(lane.fated, idx, lane.index);
                    lane.fated = idx;
                }
                lane.checkpoint = lane.checkpoint.max(idx);
            }
            shard.read_pos = shard.read_pos.max(idx);
            shard.log.trim_to(idx);
        }
    }

    /// The mapping stops polling and invoking (R-POLL-3). A batch waiting for its retry
    /// is dropped and will be read again from the checkpoint; an invocation in flight
    /// finishes, and what follows it waits for the mapping to be enabled again.
    pub(crate) fn disable_mapping(&mut self) {
        // A disable also cancels an enable still on its way (R-POLL-3).
        self.enable_generation = self.enable_generation.wrapping_add(1);
        if !self.mapping_enabled {
            return;
        }
        self.mapping_enabled = false;
        for s in 0..self.shards.len() {
            self.park(s);
        }
    }

    /// Stops what the shard's lanes hold beyond the shard's checkpoint, so that reading
    /// resumes there (R-POLL-3). Lanes with an invocation in flight are left to finish
    /// it; they park when it ends. Healthy lanes that were ahead of the checkpoint read
    /// their records again: duplicates, as R-ORDER-3 says.
    pub(crate) fn park(&mut self, s: usize) {
        let restart = self.shards[s].checkpoint();
        for l in 0..self.shards[s].lanes.len() {
            // A lane whose invocation is still running parks when it ends (its inflight
            // is taken by then, whatever its state still says).
            if self.shards[s].lanes[l].inflight.is_some() {
                continue;
            }
            self.cancel_lane_timer(s, l);
            self.unblock(s, l);
            let lane = &mut self.shards[s].lanes[l];
            lane.state = LaneState::Idle;
            lane.halves.clear();
            lane.window_since = None;
            lane.checkpoint = restart;
        }
        let shard = &mut self.shards[s];
        shard.read_pos = restart;
        shard.poll.restart();
    }
}
