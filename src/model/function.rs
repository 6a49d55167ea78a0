//! The Lambda function: concurrency, execution environments, and what an invocation
//! does with a batch (R-CONC-1..3, R-ERR-1, R-PBR-1).
//!
//! The model decides an invocation's whole fate when it starts (outcome, handler
//! duration, how many records it processed), because nothing that happens meanwhile can
//! change it; the end is then one timer.

use std::collections::VecDeque;

use rand::RngExt;

use crate::rng::{Concern, SimRng, substream};

/// The random draws of one shard's invocations: its own sub-streams, so that what
/// happens on one shard never shifts another's draws (I-3).
pub struct InvocationRng {
    durations: SimRng,
    failures: SimRng,
}

impl InvocationRng {
    pub fn for_shard(seed: u64, shard: u32) -> Self {
        InvocationRng {
            durations: substream(seed, Concern::Durations(shard)),
            failures: substream(seed, Concern::Failures(shard)),
        }
    }
}
use crate::scenario::{Behaviour, Effect, FunctionSpec, PPM_ONE};
use crate::time::{SimDuration, SimTime};

/// How an invocation ended (R-METRIC-2's classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
        }
    }
}

/// A poison record inside a batch, as the function meets it.
#[derive(Clone, Copy, Debug)]
pub struct PoisonHit {
    /// Position in the batch (0 = first record).
    pub offset: u64,
    /// Data bytes of the batch's records up to and including this one.
    pub bytes_through: u64,
    pub behaviour: u16,
    /// Invocations whose event held this record, this one included.
    pub hits: u32,
}

/// What the function needs to know of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchFacts {
    pub records: u64,
    pub data_bytes: u64,
    /// In batch order.
    pub poisons: Vec<PoisonHit>,
}

/// The decided fate of one invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub outcome: Outcome,
    /// Handler time (the timeout itself for a timeout); cold start not included.
    pub handler: SimDuration,
    /// Records at the front of the batch the function processed successfully
    /// (the whole batch on success; those before the poison record on a throw).
    pub processed: u64,
    /// Offset of the record the function failed at, if a poison record failed it.
    pub failed_offset: Option<u64>,
    /// Records the function meant to report as failed although the mapping does not read
    /// the report (R-PBR-1): success for the ESM, silently lost.
    pub acknowledged_unprocessed: u64,
}

/// Whether an invocation may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Warm,
    Cold,
    Throttled,
}

pub struct FunctionModel {
    spec: FunctionSpec,
    limit: u32,
    in_use: u32,
    /// Idle environments by the time they became idle, oldest first.
    idle: VecDeque<SimTime>,
    pub max_concurrency: u32,
}

impl FunctionModel {
    pub fn new(spec: &FunctionSpec) -> Self {
        // R-CONC-1: the reserved concurrency if set, else the account's unreserved pool.
        let limit = spec
            .reserved_concurrency
            .unwrap_or(spec.account_concurrency);
        FunctionModel {
            spec: spec.clone(),
            limit,
            in_use: 0,
            idle: VecDeque::new(),
            max_concurrency: 0,
        }
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    /// Takes an execution environment, reusing the most recently idle one (R-CONC-3);
    /// environments idle for `idle_ttl` or longer have retired.
    pub fn start(&mut self, now: SimTime) -> Start {
        if self.in_use >= self.limit {
            return Start::Throttled;
        }
        while let Some(&since) = self.idle.front() {
            if now.saturating_since(since) >= self.spec.idle_ttl {
                self.idle.pop_front();
            } else {
                break;
            }
        }
        self.in_use += 1;
        self.max_concurrency = self.max_concurrency.max(self.in_use);
        if self.idle.pop_back().is_some() {
            Start::Warm
        } else {
            Start::Cold
        }
    }

    /// Returns an environment to the idle pool.
    pub fn finish(&mut self, now: SimTime) {
        debug_assert!(self.in_use > 0);
        self.in_use = self.in_use.saturating_sub(1);
        self.idle.push_back(now);
    }

    /// Decides what the invocation starting at `now` does with `batch` (R-ERR-1).
    /// `reads_item_failures`: FunctionResponseTypes has ReportBatchItemFailures.
    pub fn invoke(
        &mut self,
        now: SimTime,
        batch: &BatchFacts,
        reads_item_failures: bool,
        rng: &mut InvocationRng,
    ) -> Invocation {
        let timeout = self.spec.timeout;
        let full = Self::handler_time(&self.spec, rng, now, batch.records, batch.data_bytes);
        let fail_whole = |outcome| Invocation {
            outcome,
            handler: if outcome == Outcome::Timeout {
                timeout
            } else {
                full.min(timeout)
            },
            processed: 0,
            failed_offset: None,
            acknowledged_unprocessed: 0,
        };
        // Transient failures: the invocation runs its modelled duration, processes nothing.
        let mut error_rate = 0;
        for b in &self.spec.behaviours {
            match b {
                Behaviour::Outage { from, to } if *from <= now && now < *to => {
                    return fail_whole(if full > timeout {
                        Outcome::Timeout
                    } else {
                        Outcome::Error
                    });
                }
                Behaviour::ErrorRate(p) => error_rate = error_rate.max(*p),
                _ => {}
            }
        }
        if error_rate > 0 && rng.failures.random_range(0..PPM_ONE) < error_rate {
            return fail_whole(if full > timeout {
                Outcome::Timeout
            } else {
                Outcome::Error
            });
        }
        // Poison records, in batch order: the first that throws or hangs decides.
        let mut reported = 0;
        for hit in &batch.poisons {
            let Some(Behaviour::Poison { effect, times, .. }) =
                self.spec.behaviours.get(hit.behaviour as usize)
            else {
                continue;
            };
            if times.is_some_and(|n| hit.hits > n) {
                continue; // healed: it failed its first N deliveries only
            }
            match effect {
                Effect::Error => {
                    let handler =
                        Self::handler_time(&self.spec, rng, now, hit.offset + 1, hit.bytes_through);
                    if handler > timeout {
                        return fail_whole(Outcome::Timeout);
                    }
                    return Invocation {
                        outcome: Outcome::Error,
                        handler,
                        processed: hit.offset,
                        failed_offset: Some(hit.offset),
                        acknowledged_unprocessed: 0,
                    };
                }
                Effect::Timeout => {
                    return Invocation {
                        outcome: Outcome::Timeout,
                        handler: timeout,
                        processed: 0,
                        failed_offset: Some(hit.offset),
                        acknowledged_unprocessed: 0,
                    };
                }
                Effect::ReportFailure | Effect::Respond(_) => reported += 1,
            }
        }
        if full > timeout {
            return fail_whole(Outcome::Timeout);
        }
        Invocation {
            outcome: Outcome::Ok,
            handler: full,
            processed: batch.records,
            failed_offset: None,
            // R-PBR-1: without ReportBatchItemFailures the report is not read.
            acknowledged_unprocessed: if reads_item_failures { 0 } else { reported },
        }
    }

    /// Handler time for `records` records of `bytes` data bytes: the duration model,
    /// then jitter, then any slowdown in force.
    fn handler_time(
        spec: &FunctionSpec,
        rng: &mut InvocationRng,
        now: SimTime,
        records: u64,
        bytes: u64,
    ) -> SimDuration {
        let d = &spec.duration;
        let base = d.base.0 as u128
            + d.per_record.0 as u128 * records as u128
            + d.per_kib.0 as u128 * bytes as u128 / 1024;
        let mut us = base.min(u64::MAX as u128) as u64;
        if d.jitter > 0 {
            // Uniform in [1 - j, 1 + j], in ppm.
            let j = u64::from(d.jitter.min(PPM_ONE));
            let f = rng
                .durations
                .random_range((1_000_000 - j)..=(1_000_000 + j));
            us = (u128::from(us) * u128::from(f) / 1_000_000) as u64;
        }
        for b in &spec.behaviours {
            if let Behaviour::Slowdown {
                from,
                to,
                factor_ppm,
            } = b
            {
                if *from <= now && now < *to {
                    us = (u128::from(us) * u128::from(*factor_ppm) / 1_000_000)
                        .min(u64::MAX as u128) as u64;
                }
            }
        }
        SimDuration(us)
    }
}
