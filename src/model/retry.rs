//! What follows an invocation's end on a lane: the checkpoint passes a success; a
//! partial response delivers the records before the lowest reported one (R-PBR-2, R-PBR-4);
//! a failure bisects the batch (R-BISECT-1..2), retries it after the backoff (R-ERR-2,
//! R-ERR-5) or, once MaximumRetryAttempts are spent (R-ERR-3), discards it to the
//! on-failure destination (R-DEST-1..4). Records older than MaximumRecordAgeInSeconds are
//! cut off a batch's front before each send (R-ERR-4).

use serde_json::json;

use crate::model::destination::{BatchInfo, Condition, FunctionError};
use crate::model::function::Outcome;
use crate::model::mapping::{Batch, LaneState, backoff};
use crate::model::stream::{SeqIndex, sequence_number};
use crate::model::world::World;
use crate::time::SimTime;

impl World {
    pub(crate) fn invocation_ended(&mut self, s: usize, batch: Batch) {
        let now = self.now();
        self.function.finish(now);
        let rbif = self.scenario.mapping.report_batch_item_failures;
        let cold = if batch.cold {
            self.scenario.function.cold_start
        } else {
            Default::default()
        };
        let shard = &mut self.shards[s];
        let inv = shard
            .lane
            .inflight
            .take()
            .expect("an invoking lane has its invocation");
        let m = &mut shard.metrics;
        m.billed_ms += (cold + inv.handler).as_millis_ceil();
        m.invocations.total += 1;
        match inv.outcome {
            Outcome::Ok => m.invocations.ok += 1,
            Outcome::Error => m.invocations.errors += 1,
            Outcome::Timeout => m.invocations.timeouts += 1,
            Outcome::Partial => m.invocations.partial += 1,
            Outcome::InvalidResponse => m.invocations.invalid_response += 1,
        }
        m.invocations.cloudwatch_errors = m.invocations.errors + m.invocations.timeouts;
        // Which records this invocation processed successfully: all but the named ones
        // on a (partial) success, those before the throw on an error, none otherwise.
        let mut processed: Vec<(SeqIndex, SeqIndex)> = vec![];
        match inv.outcome {
            Outcome::Ok | Outcome::Partial => {
                let mut from = batch.first;
                for &off in &inv.named {
                    processed.push((from, batch.first + off));
                    from = batch.first + off + 1;
                }
                processed.push((from, batch.end));
            }
            Outcome::Error => processed.push((batch.first, batch.first + inv.processed_prefix)),
            Outcome::Timeout | Outcome::InvalidResponse => {}
        }
        for (a, b) in processed {
            m.records.duplicates += shard.lane.processed.count_in(a, b);
            shard.lane.processed.insert(a, b);
        }
        if inv.outcome == Outcome::Ok && !rbif {
            // R-PBR-1: reported failures the mapping does not read are lost silently.
            m.records.acknowledged_unprocessed += inv.named.len() as u64;
        }
        match inv.outcome {
            Outcome::Ok => {
                self.deliver(s, batch.first, batch.end);
                self.next_batch(s);
            }
            Outcome::Partial => {
                let lowest = inv.named.first().copied().unwrap_or(0);
                if lowest == 0 {
                    // R-PBR-4: reporting the first record is a failed attempt of the batch.
                    self.failed(s, batch, FunctionError::None);
                } else {
                    // R-PBR-2: checkpoint before the lowest reported record; the rest is
                    // re-formed, not refilled, and starts a fresh retry count (R-PBR-4).
                    self.deliver(s, batch.first, batch.first + lowest);
                    let rest = Batch::new(batch.first + lowest, batch.end);
                    self.retry_later(s, rest, 1);
                }
            }
            Outcome::Error | Outcome::Timeout | Outcome::InvalidResponse => {
                self.failed(s, batch, inv.function_error)
            }
        }
    }

    /// A failed invocation of `batch`: bisect, retry, or discard.
    fn failed(&mut self, s: usize, mut batch: Batch, function_error: FunctionError) {
        let now = self.now();
        let mapping = &self.scenario.mapping;
        if mapping.bisect_on_error && batch.len() > 1 {
            // R-BISECT-1: the first ceil(n/2) go at once, the rest after them; splits do not
            // count as retries and each half starts a fresh count.
            let mid = batch.first + batch.len().div_ceil(2);
            let shard = &mut self.shards[s];
            shard.metrics.invocations.bisections += 1;
            shard.lane.blocked_since.get_or_insert(now);
            shard.lane.halves.push(Batch::new(mid, batch.end));
            if self.trace.enabled() {
                let seq = |i| sequence_number(shard.number, i);
                self.trace.line(
                    now,
                    "bisect",
                    json!({"shard": shard.id, "first_seq": seq(batch.first), "last_seq": seq(batch.end - 1),
                        "into": [[seq(batch.first), seq(mid - 1)], [seq(mid), seq(batch.end - 1)]]}),
                );
            }
            return self.send(s, Batch::new(batch.first, mid));
        }
        batch.failures += 1;
        if mapping
            .max_retry_attempts
            .is_some_and(|n| batch.failures > n)
        {
            // R-ERR-3: 1 + MaximumRetryAttempts invocations, then the batch is discarded;
            // records also past the maximum age are reported as such (R-ERR-4 wins).
            self.shards[s].lane.state = LaneState::Waiting(batch);
            self.cut_by_age(s);
            if let LaneState::Waiting(rest) = self.shards[s].lane.state {
                self.discard(
                    s,
                    rest.first,
                    rest.end,
                    Condition::RetryAttemptsExhausted,
                    rest.invocations,
                    function_error,
                );
            }
            return self.next_batch(s);
        }
        let failures = batch.failures;
        self.retry_later(s, batch, failures);
    }

    /// The batch waits for its retry, the `k`-th backoff from now (R-ERR-5).
    fn retry_later(&mut self, s: usize, batch: Batch, k: u32) {
        if !self.mapping_enabled {
            // Disabled meanwhile: the batch is read again from the checkpoint (R-POLL-3).
            return self.park(s);
        }
        let now = self.now();
        let sim = &self.scenario.simulation;
        let delay = backoff(sim.retry_backoff_initial, sim.retry_backoff_max, k);
        let lane = &mut self.shards[s].lane;
        lane.state = LaneState::Waiting(batch);
        lane.blocked_since.get_or_insert(now);
        self.schedule_lane_timer(s, now + delay);
    }

    /// R-ERR-4: the records of the waiting batch older than MaximumRecordAgeInSeconds
    /// are cut off its front and discarded. Leaves the lane Idle if nothing is left.
    pub(crate) fn cut_by_age(&mut self, s: usize) {
        let Some(max_age) = self.scenario.mapping.max_record_age else {
            return;
        };
        let now = self.now();
        let LaneState::Waiting(mut batch) = self.shards[s].lane.state else {
            return;
        };
        if now.0 <= max_age.0 {
            return;
        }
        // Older than the maximum age: arrived strictly before now - max_age.
        let horizon = SimTime(now.0 - max_age.0 - 1);
        let cut = self.shards[s]
            .log
            .arrived_prefix_end(batch.first, horizon)
            .min(batch.end);
        if cut <= batch.first {
            return;
        }
        self.discard(
            s,
            batch.first,
            cut,
            Condition::RecordAgeExceeded,
            batch.invocations,
            FunctionError::Unhandled,
        );
        batch.first = cut;
        self.shards[s].lane.state = if batch.is_empty() {
            LaneState::Idle
        } else {
            LaneState::Waiting(batch)
        };
    }

    /// The checkpoint passes `[first, end)` as discarded: to the destination if one is
    /// set (one message per batch, or per BatchSize records cut by age), else dropped.
    fn discard(
        &mut self,
        s: usize,
        first: SeqIndex,
        end: SeqIndex,
        condition: Condition,
        invocations: u32,
        function_error: FunctionError,
    ) {
        let now = self.now();
        let n = end - first;
        let to_destination = self.destinations.is_some();
        {
            let shard = &mut self.shards[s];
            if to_destination {
                shard.metrics.records.to_destination += n;
            } else {
                shard.metrics.records.discarded += n;
            }
            let seq = |i| sequence_number(shard.number, i);
            self.trace.line(
                now,
                "discard",
                json!({"shard": shard.id, "first_seq": seq(first), "last_seq": seq(end - 1), "records": n,
                    "condition": condition.as_str()}),
            );
        }
        if to_destination {
            let chunk = match condition {
                Condition::RecordAgeExceeded => u64::from(self.scenario.mapping.batch_size),
                Condition::RetryAttemptsExhausted => n,
            };
            let mut a = first;
            while a < end {
                let b = (a + chunk).min(end);
                self.destination_message(s, a, b, condition, invocations, function_error);
                a = b;
            }
        }
        self.pass_checkpoint(s, first, end);
    }

    fn destination_message(
        &mut self,
        s: usize,
        first: SeqIndex,
        end: SeqIndex,
        condition: Condition,
        invocations: u32,
        function_error: FunctionError,
    ) {
        let now = self.now();
        let start_ms = self.scenario.simulation.start_time_unix_ms;
        let shard = &self.shards[s];
        let wall = |t: Option<SimTime>| start_ms + t.unwrap_or(now).as_millis() as i64;
        let info = BatchInfo {
            shard_id: shard.id.clone(),
            start_sequence_number: sequence_number(shard.number, first),
            end_sequence_number: sequence_number(shard.number, end - 1),
            first_arrival_unix_ms: wall(shard.log.arrival(first)),
            last_arrival_unix_ms: wall(shard.log.arrival(end - 1)),
            batch_size: end - first,
        };
        let payload = self
            .destinations
            .as_ref()
            .is_some_and(|d| d.carries_payload())
            .then(|| self.records_value(s, first, end));
        let Some(dest) = self.destinations.as_mut() else {
            return;
        };
        let (message, key) = dest.message(
            wall(None),
            condition,
            invocations,
            function_error,
            &info,
            payload,
        );
        self.destination_messages += 1;
        self.destination_records += end - first;
        self.destination_out.write_value(&message);
        if let Some(key) = key {
            let id = self.shards[s].id.clone();
            self.trace
                .line(now, "destination", json!({"shard": id, "object_key": key}));
        }
    }
}
