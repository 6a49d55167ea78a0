//! What follows an invocation's end on a lane: the checkpoint passes a success; a
//! partial response delivers the records before the lowest reported one (R-PBR-2, R-PBR-4);
//! a failure bisects the batch (R-BISECT-1..2), retries it after the backoff (R-ERR-2,
//! R-ERR-5) or, once MaximumRetryAttempts are spent (R-ERR-3), discards it to the
//! on-failure destination (R-DEST-1..4). Records older than MaximumRecordAgeInSeconds are
//! cut off a batch's front before each send (R-ERR-4).

use serde_json::json;

use crate::model::destination::{BatchInfo, Condition, FunctionError};
use crate::model::function::{Invocation, Outcome, Slices};
use crate::model::mapping::{Batch, LaneState, backoff};
use crate::model::stream::{SeqIndex, sequence_number};
use crate::model::world::World;
use crate::time::SimTime;

/// An invocation in flight, with its answer mapped onto log indexes.
#[derive(Clone, Debug)]
pub struct Inflight {
    pub inv: Invocation,
    /// Indexes of the records the response names as failed, in order.
    pub named: Vec<SeqIndex>,
    /// Index ranges of the batch's records.
    pub slices: Slices,
}

impl World {
    pub(crate) fn invocation_ended(&mut self, s: usize, l: usize, batch: Batch) {
        let now = self.now();
        self.finish_invocation(s, now);
        let rbif = self.scenario.mapping.report_batch_item_failures;
        let cold = if batch.cold {
            self.scenario.function.cold_start
        } else {
            Default::default()
        };
        let shard = &mut self.shards[s];
        let Inflight { inv, named, slices } = shard.lanes[l]
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
        let mut processed = Slices::new();
        match inv.outcome {
            Outcome::Ok | Outcome::Partial => {
                for &(a, b) in &slices {
                    let mut from = a;
                    for &i in named.iter().filter(|&&i| (a..b).contains(&i)) {
                        processed.push((from, i));
                        from = i + 1;
                    }
                    processed.push((from, b));
                }
            }
            Outcome::Error => {
                let mut left = inv.processed_prefix;
                for &(a, b) in &slices {
                    let take = left.min(b - a);
                    processed.push((a, a + take));
                    left -= take;
                }
            }
            Outcome::Timeout | Outcome::InvalidResponse => {}
        }
        let lane = &mut shard.lanes[l];
        for (a, b) in processed {
            m.records.duplicates += lane.processed.count_in(a, b);
            lane.processed.insert(a, b);
        }
        if inv.outcome == Outcome::Ok && !rbif {
            // R-PBR-1: reported failures the mapping does not read are lost silently.
            m.records.acknowledged_unprocessed += named.len() as u64;
        }
        match inv.outcome {
            Outcome::Ok => {
                if batch.final_window {
                    // R-WINDOW-2: the window is closed; its state is dropped.
                    self.shards[s].lanes[l].window = None;
                }
                self.deliver(s, l, batch.first, batch.end);
                self.next_batch(s, l);
            }
            Outcome::Partial => {
                let lowest = named.first().copied().unwrap_or(batch.first);
                if lowest <= batch.first {
                    // R-PBR-4: reporting the first record is a failed attempt of the batch.
                    self.failed(s, l, batch, FunctionError::None);
                } else {
                    // R-PBR-2: checkpoint before the lowest reported record; the rest is
                    // re-formed, not refilled, and starts a fresh retry count (R-PBR-4).
                    let lane_no = self.shards[s].lanes[l].index;
                    let done = self.shards[s].log.count_lane(batch.first, lowest, lane_no);
                    self.deliver(s, l, batch.first, lowest);
                    let rest = Batch::new(lowest, batch.end, batch.records - done);
                    self.retry_later(s, l, rest, 1);
                }
            }
            Outcome::Error | Outcome::Timeout | Outcome::InvalidResponse => {
                self.failed(s, l, batch, inv.function_error)
            }
        }
    }

    /// A failed invocation of `batch`: bisect, retry, or discard.
    pub(crate) fn failed(
        &mut self,
        s: usize,
        l: usize,
        mut batch: Batch,
        function_error: FunctionError,
    ) {
        let now = self.now();
        let mapping = &self.scenario.mapping;
        if mapping.bisect_on_error && batch.len() > 1 {
            // R-BISECT-1: the first ceil(n/2) go at once, the rest after them; splits do not
            // count as retries and each half starts a fresh count.
            let half = batch.len().div_ceil(2);
            let shard = &mut self.shards[s];
            let lane_no = shard.lanes[l].index;
            let mid = shard
                .log
                .nth_of_lane(batch.first, batch.end, lane_no, half)
                .unwrap_or(batch.end);
            shard.metrics.invocations.bisections += 1;
            shard.lanes[l]
                .halves
                .push(Batch::new(mid, batch.end, batch.len() - half));
            if self.trace.enabled() {
                let seq = |i| sequence_number(shard.number, i);
                let last = |a, b| shard.log.last_of_lane(a, b, lane_no).unwrap_or(b - 1);
                self.trace.line(now, "bisect", || json!({"shard": shard.id, "first_seq": seq(batch.first), "last_seq": seq(last(batch.first, batch.end)),
                        "into": [[seq(batch.first), seq(last(batch.first, mid))], [seq(mid), seq(last(mid, batch.end))]]}),
                );
            }
            self.block(s, l);
            return self.send(s, l, Batch::new(batch.first, mid, half));
        }
        batch.failures += 1;
        let exhausted = mapping
            .max_retry_attempts
            .is_some_and(|n| batch.failures > n);
        if exhausted && batch.final_window {
            // A final invocation that keeps failing is given up like a batch; it holds no
            // records, so nothing is discarded and the window just closes.
            self.shards[s].lanes[l].window = None;
            return self.next_batch(s, l);
        }
        if exhausted {
            // R-ERR-3: 1 + MaximumRetryAttempts invocations, then the batch is discarded;
            // records also past the maximum age are reported as such (R-ERR-4 wins).
            self.shards[s].lanes[l].state = LaneState::Waiting(batch);
            self.cut_by_age(s, l);
            if let LaneState::Waiting(rest) = self.shards[s].lanes[l].state {
                self.discard(
                    s,
                    l,
                    rest,
                    Condition::RetryAttemptsExhausted,
                    function_error,
                );
            }
            return self.next_batch(s, l);
        }
        let failures = batch.failures;
        self.retry_later(s, l, batch, failures);
    }

    /// The batch waits for its retry, the `k`-th backoff from now (R-ERR-5).
    fn retry_later(&mut self, s: usize, l: usize, batch: Batch, k: u32) {
        if !self.mapping_enabled {
            // Disabled meanwhile: the batch is read again from the checkpoint (R-POLL-3).
            return self.park(s);
        }
        let now = self.now();
        let sim = &self.scenario.simulation;
        let delay = backoff(sim.retry_backoff_initial, sim.retry_backoff_max, k);
        self.shards[s].lanes[l].state = LaneState::Waiting(batch);
        self.block(s, l);
        self.schedule_lane_timer(s, l, now + delay);
    }

    /// R-ERR-4: the records of the waiting batch older than MaximumRecordAgeInSeconds
    /// are cut off its front and discarded. Leaves the lane Idle if nothing is left.
    pub(crate) fn cut_by_age(&mut self, s: usize, l: usize) {
        let Some(max_age) = self.scenario.mapping.max_record_age else {
            return;
        };
        let now = self.now();
        let LaneState::Waiting(batch) = self.shards[s].lanes[l].state else {
            return;
        };
        if now.0 <= max_age.0 {
            return;
        }
        // Older than the maximum age: arrived strictly before now - max_age.
        let horizon = SimTime(now.0 - max_age.0 - 1);
        let shard = &self.shards[s];
        let lane_no = shard.lanes[l].index;
        let cut = shard
            .log
            .arrived_prefix_end(batch.first, horizon)
            .min(batch.end);
        let old = shard.log.count_lane(batch.first, cut, lane_no);
        if old == 0 {
            return;
        }
        let cut_end = shard
            .log
            .last_of_lane(batch.first, cut, lane_no)
            .map_or(cut, |i| i + 1);
        let mut head = batch;
        head.end = cut_end;
        head.records = old;
        self.discard(
            s,
            l,
            head,
            Condition::RecordAgeExceeded,
            FunctionError::Unhandled,
        );
        let rest = Batch {
            first: cut_end,
            records: batch.records - old,
            ..batch
        };
        let rest_first = self.shards[s]
            .log
            .nth_of_lane(cut_end, batch.end, lane_no, 0)
            .unwrap_or(batch.end);
        let rest = Batch {
            first: rest_first,
            ..rest
        };
        self.shards[s].lanes[l].state = if rest.is_empty() {
            LaneState::Idle
        } else {
            LaneState::Waiting(rest)
        };
    }

    /// The checkpoint passes `batch` as discarded: to the destination if one is set (one
    /// message per batch, or per BatchSize records cut by age), else dropped.
    fn discard(
        &mut self,
        s: usize,
        l: usize,
        batch: Batch,
        condition: Condition,
        function_error: FunctionError,
    ) {
        let now = self.now();
        let to_destination =
            self.scenario.mapping.on_failure.is_some() && self.destinations.is_some();
        let lane_no = self.shards[s].lanes[l].index;
        if self.trace.enabled() {
            let shard = &self.shards[s];
            let seq = |i| sequence_number(shard.number, i);
            let last = shard
                .log
                .last_of_lane(batch.first, batch.end, lane_no)
                .unwrap_or(batch.end - 1);
            self.trace.line(now, "discard", || json!({"shard": shard.id, "first_seq": seq(batch.first), "last_seq": seq(last), "records": batch.len(),
                    "condition": condition.as_str()}),
            );
        }
        if to_destination {
            let chunk = match condition {
                Condition::RecordAgeExceeded => u64::from(self.scenario.mapping.batch_size),
                Condition::RetryAttemptsExhausted => batch.len(),
            };
            let mut from = batch.first;
            let mut left = batch.len();
            while left > 0 {
                let n = chunk.min(left);
                let log = &self.shards[s].log;
                let last = log
                    .nth_of_lane(from, batch.end, lane_no, n - 1)
                    .unwrap_or(batch.end - 1);
                self.destination_message(
                    s,
                    l,
                    from,
                    last + 1,
                    n,
                    condition,
                    batch.invocations,
                    function_error,
                );
                left -= n;
                from = self.shards[s]
                    .log
                    .nth_of_lane(last + 1, batch.end, lane_no, 0)
                    .unwrap_or(batch.end);
            }
        }
        let newly = self.pass_checkpoint(s, l, batch.first, batch.end);
        let records = &mut self.shards[s].metrics.records;
        if to_destination {
            records.to_destination += newly;
        } else {
            records.discarded += newly;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn destination_message(
        &mut self,
        s: usize,
        l: usize,
        first: SeqIndex,
        end: SeqIndex,
        records: u64,
        condition: Condition,
        invocations: u32,
        function_error: FunctionError,
    ) {
        let now = self.now();
        let start_ms = self.scenario.simulation.start_time_unix_ms;
        let shard = &self.shards[s];
        let last = end - 1;
        let wall = |t: Option<SimTime>| start_ms + t.unwrap_or(now).as_millis() as i64;
        let info = BatchInfo {
            shard_id: shard.id.clone(),
            start_sequence_number: sequence_number(shard.number, first),
            end_sequence_number: sequence_number(shard.number, last),
            first_arrival_unix_ms: wall(shard.log.arrival(first)),
            last_arrival_unix_ms: wall(shard.log.arrival(last)),
            batch_size: records,
        };
        let payload = self
            .destinations
            .as_ref()
            .is_some_and(|d| d.carries_payload() && self.destination_out.enabled())
            .then(|| self.event_json(s, l, first, end));
        let Some(dest) = self.destinations.as_mut() else {
            return;
        };
        let (message, key) = dest.message(
            wall(None),
            condition,
            invocations,
            function_error,
            &info,
            payload.as_deref(),
        );
        self.destination_messages += 1;
        self.destination_records += records;
        self.destination_out.write_line(&message);
        if let Some(key) = key {
            let id = self.shards[s].id.clone();
            self.trace.line(
                now,
                "destination",
                || json!({"shard": id, "object_key": key}),
            );
        }
    }
}
