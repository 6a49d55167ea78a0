//! Resharding (R-RESHARD-1..4): SplitShard, MergeShards and UpdateShardCount, checked
//! against AWS's limits, taking `simulation.reshard_step` per split or merge while the
//! stream is UPDATING, then closing the parents and opening their children.
//!
//! A request that breaks a limit is rejected with the AWS exception and a reason in our
//! words; the run goes on. The stream is UPDATING from an accepted request until its
//! shards change, and no request is accepted meanwhile, so at most one is in progress.
//! What the mapping does with the new shards (children wait for their parents) lives in
//! `mapping.rs`, at the poll.

use rand::RngExt;
use serde_json::json;

use crate::model::actions::ActionOutcome;
use crate::model::event::Event;
use crate::model::stream::HashRange;
use crate::model::world::{Shard, World};
use crate::rng::{Concern, substream};
use crate::scenario::{ActionKind, StreamMode};
use crate::time::{SimDuration, SimTime, US_PER_S};

/// At most this many shards in a stream (open ones; R-RESHARD-1).
pub const MAX_SHARDS: u32 = 10_000;
/// At most this many UpdateShardCount calls per rolling 24 hours (R-RESHARD-1).
pub const SCALING_CALLS_PER_DAY: usize = 10;
/// An ON_DEMAND stream splits a shard whose incoming writes pass this (aws-evidence §4.3).
pub const ON_DEMAND_SPLIT_BYTES_PER_SEC: u64 = 500_000;

/// The stream's resharding state.
#[derive(Clone, Debug, Default)]
pub struct Resharding {
    /// Times of accepted UpdateShardCount calls (the rolling 24 h limit).
    scaling_calls: Vec<SimTime>,
    /// Every plan accepted, by id; `None` once complete. A request (split, merge,
    /// UpdateShardCount) makes the stream UPDATING until it completes; an ON_DEMAND
    /// stream's own splits run side by side without that.
    plans: Vec<Option<Plan>>,
    /// The request in progress, if any: its plan id.
    request: Option<u32>,
    /// When the last resharding completed (autoscale's cooldown).
    pub last_completed: Option<SimTime>,
}

/// What an accepted plan will do when its steps are over.
#[derive(Clone, Debug)]
struct Plan {
    /// Index of the request in the world's action log (`None`: an ON_DEMAND split).
    log_index: Option<usize>,
    what: String,
    /// Positions of the shards it closes.
    close: Vec<usize>,
    /// The shards it opens: hash range and parents' numbers.
    open: Vec<(HashRange, Vec<u32>)>,
}

impl Resharding {
    /// The stream is UPDATING (a request is in progress).
    pub fn is_updating(&self) -> bool {
        self.request.is_some()
    }

    /// Keeps `plan` until `Event::ReshardDone` with its id.
    fn add(&mut self, plan: Plan) -> u32 {
        self.plans.push(Some(plan));
        (self.plans.len() - 1) as u32
    }
}

/// The midpoint NewStartingHashKey of a range: the first key of its upper half.
fn midpoint(r: HashRange) -> u128 {
    r.start + (r.end - r.start) / 2 + 1
}

/// The two children of splitting `parent`'s range `r` at `key`: below it, and from it.
fn split_children(r: HashRange, key: u128, parent: u32) -> Vec<(HashRange, Vec<u32>)> {
    vec![
        (
            HashRange {
                start: r.start,
                end: key - 1,
            },
            vec![parent],
        ),
        (
            HashRange {
                start: key,
                end: r.end,
            },
            vec![parent],
        ),
    ]
}

/// A request the AWS limits refuse: the exception's name and why.
fn refuse(exception: &str, why: String) -> String {
    format!("{exception}: {why}")
}

impl World {
    /// Open shards' positions, in hash-range order.
    pub(crate) fn open_shards(&self) -> Vec<usize> {
        let mut open: Vec<usize> = (0..self.shards.len())
            .filter(|&i| self.shards[i].closed_at.is_none())
            .collect();
        open.sort_by_key(|&i| self.shards[i].range.start);
        open
    }

    /// A shard id of the stream, open: its position, or the AWS refusal.
    fn open_shard(&self, id: &str) -> Result<usize, String> {
        let pos = id
            .strip_prefix("shardId-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n < self.shards.len());
        let Some(pos) = pos else {
            return Err(refuse(
                "ResourceNotFoundException",
                format!("the stream has no shard {id}"),
            ));
        };
        if self.shards[pos].closed_at.is_some() {
            return Err(refuse(
                "InvalidArgumentException",
                format!("{id} is closed; only open shards can be split or merged"),
            ));
        }
        Ok(pos)
    }

    /// Checks a resharding request against R-RESHARD-1's limits and works out what it
    /// does: (shards closed, shards opened, steps it takes).
    fn plan_reshard(&self, kind: &ActionKind) -> Result<(Plan, u64), String> {
        let now = self.now();
        let stream = &self.scenario.stream;
        if self.resharding.is_updating() {
            return Err(refuse(
                "ResourceInUseException",
                format!(
                    "stream {} is UPDATING (a resharding is in progress)",
                    stream.name
                ),
            ));
        }
        let open = self.open_shards();
        let open_count = open.len() as u32;
        let (close, opened, steps) = match kind {
            ActionKind::Split { shard, at_hash_key } => {
                if stream.mode == StreamMode::OnDemand {
                    return Err(refuse(
                        "ValidationException",
                        "an ON_DEMAND stream reshards itself; SplitShard is for PROVISIONED streams".into(),
                    ));
                }
                let s = self.open_shard(shard)?;
                if open_count + 1 > MAX_SHARDS {
                    return Err(refuse(
                        "LimitExceededException",
                        format!("a split would open more than {MAX_SHARDS} shards"),
                    ));
                }
                let r = self.shards[s].range;
                // NewStartingHashKey: the midpoint unless given (R-RESHARD-1).
                let key = at_hash_key.unwrap_or(midpoint(r));
                if key <= r.start || key > r.end {
                    return Err(refuse(
                        "InvalidArgumentException",
                        format!(
                            "NewStartingHashKey {key} is not inside {shard}'s range above its start ({}..={})",
                            r.start, r.end
                        ),
                    ));
                }
                (vec![s], split_children(r, key, self.shards[s].number), 1)
            }
            ActionKind::Merge { shards } => {
                if stream.mode == StreamMode::OnDemand {
                    return Err(refuse(
                        "ValidationException",
                        "an ON_DEMAND stream reshards itself; MergeShards is for PROVISIONED streams".into(),
                    ));
                }
                let a = self.open_shard(&shards[0])?;
                let b = self.open_shard(&shards[1])?;
                let (ra, rb) = (self.shards[a].range, self.shards[b].range);
                let adjacent = ra.end.checked_add(1) == Some(rb.start)
                    || rb.end.checked_add(1) == Some(ra.start);
                if !adjacent {
                    return Err(refuse(
                        "InvalidArgumentException",
                        format!(
                            "{} and {} are not adjacent: their hash ranges do not meet",
                            shards[0], shards[1]
                        ),
                    ));
                }
                let range = HashRange {
                    start: ra.start.min(rb.start),
                    end: ra.end.max(rb.end),
                };
                let parents = vec![self.shards[a].number, self.shards[b].number];
                (vec![a, b], vec![(range, parents)], 1)
            }
            ActionKind::UpdateShardCount { target } => {
                let target = *target;
                if stream.mode == StreamMode::OnDemand {
                    return Err(refuse(
                        "ValidationException",
                        "UpdateShardCount is for PROVISIONED streams only".into(),
                    ));
                }
                let recent = self
                    .resharding
                    .scaling_calls
                    .iter()
                    .filter(|&&t| now.saturating_since(t) < SimDuration::from_secs(24 * 3600))
                    .count();
                let why = if recent >= SCALING_CALLS_PER_DAY {
                    Some(format!(
                        "{SCALING_CALLS_PER_DAY} UpdateShardCount calls in the last 24 hours already"
                    ))
                } else if target > 2 * open_count {
                    Some(format!(
                        "{target} shards is more than double the {open_count} open"
                    ))
                } else if target < open_count.div_ceil(2) {
                    Some(format!(
                        "{target} shards is less than half the {open_count} open"
                    ))
                } else if target > MAX_SHARDS {
                    Some(format!("{target} shards is more than {MAX_SHARDS}"))
                } else if target == open_count {
                    // [choice] AWS does not say; nothing would change, so we refuse it.
                    return Err(refuse(
                        "InvalidArgumentException",
                        format!("the stream already has {open_count} open shards"),
                    ));
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(refuse("LimitExceededException", why));
                }
                // Each new shard's parents are the old shards its range overlaps
                // (R-RESHARD-1 [choice]: no short-lived intermediate shards).
                let opened = HashRange::even(target)
                    .into_iter()
                    .map(|r| {
                        let parents = open
                            .iter()
                            .map(|&i| &self.shards[i])
                            .filter(|p| p.range.start <= r.end && r.start <= p.range.end)
                            .map(|p| p.number)
                            .collect();
                        (r, parents)
                    })
                    .collect();
                // R-RESHARD-4: one step per split or merge the new count implies.
                (open, opened, u64::from(target.abs_diff(open_count)))
            }
            _ => unreachable!("only resharding actions are planned"),
        };
        let plan = Plan {
            log_index: None,
            what: String::new(),
            close,
            open: opened,
        };
        Ok((plan, steps))
    }

    /// A resharding request now (an operator's action or autoscale's call), recorded in
    /// the action log: `in progress` until it completes, or `rejected` with the AWS
    /// reason. Returns whether it was accepted.
    pub(crate) fn reshard_action(&mut self, kind: &ActionKind, what: String) -> bool {
        let now = self.now();
        let reason = self.request_reshard(kind, &what, self.action_log.len());
        let accepted = reason.is_none();
        self.action_log.push(ActionOutcome {
            at_ms: now.as_millis(),
            action: what,
            outcome: if accepted { "in progress" } else { "rejected" }.into(),
            reason,
            completed_ms: None,
        });
        accepted
    }

    /// Accepts a request (the stream becomes UPDATING and the shards change after the
    /// steps) or refuses it with the AWS reason, which it returns; the `reshard` trace
    /// line says which.
    fn request_reshard(
        &mut self,
        kind: &ActionKind,
        what: &str,
        log_index: usize,
    ) -> Option<String> {
        let now = self.now();
        match self.plan_reshard(kind) {
            Err(reason) => {
                self.trace.line(
                    now,
                    "reshard",
                    || json!({"action": what, "closed": [], "opened": [], "rejected": reason}),
                );
                Some(reason)
            }
            Ok((mut plan, steps)) => {
                if matches!(kind, ActionKind::UpdateShardCount { .. }) {
                    self.resharding.scaling_calls.push(now);
                }
                plan.log_index = Some(log_index);
                plan.what = what.to_string();
                let id = self.resharding.add(plan);
                self.resharding.request = Some(id);
                let step = self.scenario.simulation.reshard_step;
                let at = now + SimDuration(step.0.saturating_mul(steps.max(1)));
                self.engine.schedule(at, Event::ReshardDone { plan: id });
                None
            }
        }
    }

    /// The request in progress completes: its parents close (no more writes; they stay
    /// readable), its children open and take the writes of their hash ranges
    /// (R-RESHARD-2).
    pub(crate) fn reshard_done(&mut self, id: u32) {
        let now = self.now();
        let Some(plan) = self
            .resharding
            .plans
            .get_mut(id as usize)
            .and_then(Option::take)
        else {
            return;
        };
        if self.resharding.request == Some(id) {
            self.resharding.request = None;
        }
        self.resharding.last_completed = Some(now);
        for &p in &plan.close {
            self.shards[p].closed_at = Some(now);
        }
        let mut opened = Vec::with_capacity(plan.open.len());
        for (range, parents) in plan.open {
            let number = self.shards.len() as u32;
            // A child's poll phase comes from its own stream, so the initial shards'
            // phases never depend on the resharding schedule.
            let mut rng = substream(self.scenario.seed, Concern::ChildPollPhase(number));
            let phase = SimDuration(rng.random_range(0..US_PER_S));
            let shard = Shard::new(&self.scenario, number, range, parents, now, phase);
            // The first poll at the shard's phase at or after now.
            let second = now.0 - now.0 % US_PER_S;
            let mut first = SimTime(second + phase.0);
            if first < now {
                first += SimDuration::from_secs(1);
            }
            self.engine.schedule(
                first,
                Event::Poll {
                    shard: number,
                    tick: true,
                },
            );
            opened.push(shard.id.clone());
            self.shards.push(shard);
        }
        self.reroute();
        let closed: Vec<String> = plan
            .close
            .iter()
            .map(|&p| self.shards[p].id.clone())
            .collect();
        self.trace.line(
            now,
            "reshard",
            || json!({"action": plan.what, "closed": closed, "opened": opened}),
        );
        if let Some(entry) = plan.log_index.and_then(|i| self.action_log.get_mut(i)) {
            entry.outcome = "done".into();
            entry.completed_ms = Some(now.as_millis());
        }
    }

    /// ON_DEMAND (aws-evidence §4.3): once a minute, every open shard whose incoming
    /// writes (accepted or not) passed 500 KB/s over that minute is split at its midpoint
    /// `simulation.on_demand_split_after` later. These splits are the stream's own: no
    /// request limits, several at once.
    pub(crate) fn on_demand_check(&mut self) {
        let now = self.now();
        let after = self.scenario.simulation.on_demand_split_after;
        for s in self.open_shards() {
            let shard = &mut self.shards[s];
            let offered = std::mem::take(&mut shard.offered_bytes_minute);
            if shard.splitting || offered <= ON_DEMAND_SPLIT_BYTES_PER_SEC * 60 {
                continue;
            }
            shard.splitting = true;
            let r = shard.range;
            if r.start == r.end {
                continue; // a one-key range cannot split
            }
            let key = midpoint(r);
            let plan = Plan {
                log_index: None,
                what: format!("on-demand split {}", shard.id),
                close: vec![s],
                open: split_children(r, key, shard.number),
            };
            let id = self.resharding.add(plan);
            self.engine
                .schedule(now + after, Event::ReshardDone { plan: id });
        }
    }
}
